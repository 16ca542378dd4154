#pragma once
// What decision support may do to the buffer, and nothing more: its own persisted state, its alerts, and
// the readings it judges a new one against. The rules engine (rules/engine.hpp) and BatchHook see only
// this; StoreWriter implements it inside the pipeline's group transaction, where reads see the open
// transaction's own writes. A rules test may implement it with a few maps.
//
// The record types RuleState and StoredReading are store.hpp's: this header only names them, so that
// store.hpp can include it for StoreWriter's base without a cycle. Callers include store/store.hpp too.
#include <optional>
#include <string>
#include <vector>

#include "core/alert.hpp"
#include "core/kind.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace carehub {

struct RuleState;      // store/store.hpp
struct StoredReading;  // store/store.hpp

class RuleStore {
 public:
  virtual ~RuleStore() = default;

  // Inserts or replaces by id.
  virtual Result<void> put_alert(const Alert& a) = 0;
  virtual Result<std::optional<Alert>> find_alert(const std::string& id) = 0;
  // Open alerts awaiting acknowledgement whose reminder or escalation time has come.
  virtual Result<std::vector<Alert>> alerts_due(TimePoint now) = 0;

  // A rule's state, keyed by rule, patient and a rule-defined key.
  virtual Result<std::optional<RuleState>> rule_state(const std::string& rule, const std::string& patient,
                                                      const std::string& key) = 0;
  virtual Result<void> put_rule_state(const RuleState& s) = 0;
  virtual Result<void> erase_rule_state(const std::string& rule, const std::string& patient, const std::string& key) = 0;
  // States whose `due` is at or before `now`.
  virtual Result<std::vector<RuleState>> rule_states_due(TimePoint now) = 0;

  // A patient's readings of one kind with from <= time <= to, oldest first; quarantined ones never.
  virtual Result<std::vector<StoredReading>> readings_between(const std::string& patient, Kind kind, TimePoint from,
                                                              TimePoint to) = 0;
};

}  // namespace carehub
