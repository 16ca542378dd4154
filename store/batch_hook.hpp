#pragma once
// What the pipeline's writer thread lets decision support do inside its group transaction. Rule state
// and alerts are written in the SAME transaction as the readings that caused them, so a crash can never
// leave an alert without its readings, nor lose an episode whose readings were acknowledged.
// Implemented by rules::Engine; the pipeline knows only this contract, and the hook sees only the store
// operations decision support needs (RuleStore), not the whole StoreWriter.
#include <vector>

#include "core/alert.hpp"
#include "core/result.hpp"
#include "store/rule_store.hpp"
#include "store/store.hpp"  // StoredReading, RuleState

namespace carehub {

class BatchHook {
 public:
  virtual ~BatchHook() = default;
  // Called once per group transaction that stored new readings (duplicates are not passed: they were
  // seen before), after the readings are inserted. `now` is the pipeline clock's wall time. Runs inside
  // a savepoint: on failure its own writes are undone, the readings still commit, and the failure is
  // logged and counted (a broken rule must never block intake).
  virtual Result<std::vector<AlertEvent>> in_transaction(RuleStore& store, const std::vector<StoredReading>& inserted,
                                                         TimePoint now) = 0;
  // Called from the writer loop at least every heartbeat, inside a transaction: deadlines, reminders,
  // escalation and inactivity fire here, on the injected clock.
  virtual Result<std::vector<AlertEvent>> tick(RuleStore& store, TimePoint now) = 0;
  // Called when a technician assigns unassigned readings to a patient (Pipeline::assign_readings), inside
  // that operation's savepoint: judges them in the order they were measured, as if each had arrived then,
  // and records what has gone stale by `now` as history rather than notifying the patient now
  // (rules/engine.hpp says exactly how).
  virtual Result<std::vector<AlertEvent>> judge_assigned(RuleStore& store, const std::vector<StoredReading>& assigned,
                                                         TimePoint now) = 0;
};

}  // namespace carehub
