#pragma once
// A RuleStore in memory, for rules tests that need what SQLite will not easily do: fail a write on
// demand, or show exactly what the engine asked of the store. Reads see earlier writes at once, as the
// real store's do inside a transaction; there is no transaction to undo (the pipeline's savepoint does that).
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "store/rule_store.hpp"
#include "store/store.hpp"

namespace carehub::rules::test {

class FakeRuleStore final : public RuleStore {
 public:
  Result<void> put_alert(const Alert& a) override {
    if (fail_writes) return *fail_writes;
    alerts[a.id] = a;
    return {};
  }
  Result<std::optional<Alert>> find_alert(const std::string& id) override {
    auto it = alerts.find(id);
    if (it == alerts.end()) return std::optional<Alert>{};
    return std::optional<Alert>{it->second};
  }
  // As store_alerts.cpp: open, awaiting acknowledgement, reminder or escalation due.
  Result<std::vector<Alert>> alerts_due(TimePoint now) override {
    std::vector<Alert> due;
    for (const auto& [id, a] : alerts) {
      const bool reminder = a.next_reminder && *a.next_reminder <= now;
      const bool escalation = !a.escalated && a.escalate_at && *a.escalate_at <= now;
      if (a.state == AlertState::open && a.requires_ack && (reminder || escalation)) due.push_back(a);
    }
    return due;
  }
  Result<std::optional<RuleState>> rule_state(const std::string& rule, const std::string& patient,
                                              const std::string& key) override {
    auto it = states.find({rule, patient, key});
    if (it == states.end()) return std::optional<RuleState>{};
    return std::optional<RuleState>{it->second};
  }
  Result<void> put_rule_state(const RuleState& s) override {
    if (fail_writes) return *fail_writes;
    states[{s.rule, s.patient, s.key}] = s;
    return {};
  }
  Result<void> erase_rule_state(const std::string& rule, const std::string& patient, const std::string& key) override {
    if (fail_writes) return *fail_writes;
    states.erase({rule, patient, key});
    return {};
  }
  Result<std::vector<RuleState>> rule_states_due(TimePoint now) override {
    std::vector<RuleState> due;
    for (const auto& [key, s] : states) {
      if (s.due && *s.due <= now) due.push_back(s);
    }
    std::stable_sort(due.begin(), due.end(), [](const RuleState& a, const RuleState& b) { return *a.due < *b.due; });
    return due;
  }
  Result<std::vector<StoredReading>> readings_between(const std::string& patient, Kind kind, TimePoint from,
                                                      TimePoint to) override {
    std::vector<StoredReading> found;
    for (const auto& r : readings) {
      const auto& m = r.reading;
      if (m.patient == patient && m.kind == kind && m.time >= from && m.time <= to) found.push_back(r);
    }
    return found;
  }

  std::map<std::string, Alert> alerts;
  std::map<std::tuple<std::string, std::string, std::string>, RuleState> states;
  std::vector<StoredReading> readings;  // what readings_between may find (the test adds them)
  std::optional<Error> fail_writes;     // every write fails with this while set
};

}  // namespace carehub::rules::test
