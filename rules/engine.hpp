#pragma once
// The rules engine: evaluates each new reading against the patient's rules inside the pipeline's
// transaction, and fires deadlines, reminders, escalations and inactivity notices from tick(). All of
// its state lives in the store (rule_state, alerts), none in memory, so a restart or a rolled-back
// transaction can never leave it out of step with the readings; reloading rules keeps every open
// episode (its deadline was fixed when it opened). It sees the buffer only through RuleStore
// (store/rule_store.hpp): rule state, alerts, and the readings a new one is judged against.
//
// Decisions (docs/rules.md explains them to clinicians):
// - Readings are judged per patient (the registry attributes each device to a patient), so two patients
//   on one hub never confirm each other's readings, and a repeat from another device of the same patient
//   counts: the second cuff confirms the first.
// - Duplicates never reach the engine (the pipeline stores a measurement once). Within one batch,
//   readings are judged in order of their own time, not arrival.
// - Windows are measured on reading times. A reading older than an open episode's first reading is
//   history: it neither confirms nor resolves it. A reading after the confirmation window is too late to
//   be the repeat: the episode ends with the no-repeat policy and the reading is judged afresh.
// - An extreme reading already older than the repeat deadline (a device emptying its memory) cannot be
//   repeated: the no-repeat policy applies at once instead of asking the patient.
// - No reading is judged later than the engine's clock (design.md invariant 8): one dated ahead of `now`
//   (a device clock a little fast; anything far ahead is quarantined by the pipeline and never gets here)
//   is judged as measured now, so it can never open an episode, set an inactivity deadline or a trend
//   window in the future. Stored state an older carehub left "after now" (an episode, a last reading) is
//   not believed either: the next reading ends or replaces it.
// - A reading attributed to nobody (design.md invariant 7: an unassigned reading has an empty patient) is
//   never judged, whatever reaches the engine. Every piece of state (episodes, band alerts, inactivity,
//   trend baselines, alert ids) is keyed by patient: one patient's reading cannot confirm, resolve, reset
//   or silence another's.
// - Readings a technician assigns late (judge_assigned) are judged in the order they were measured, each as
//   if it had arrived when measured: an episode it opens has its deadline from then, and a deadline that
//   passed before the next assigned reading (or before now) ends it by the no-repeat policy at that
//   deadline. Nothing "after now" is believed there either. Then every alert this raised or changed whose
//   raise time is older than its rule's repeat deadline before now is *retrospective*: recorded, sent to
//   the clinician as history (audience clinician), never notified to the patient now (notify false), no
//   acknowledgement asked, no reminders, no escalation. A recent one (the patient could still act on it,
//   e.g. a repeat request still open) stays live exactly as if it had arrived now.
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "store/batch_hook.hpp"
#include "core/counters.hpp"
#include "core/log.hpp"
#include "rules/rule_set.hpp"

namespace carehub::rules {

class Engine final : public BatchHook {
 public:
  // `hub_id` (/hub/id) enters every alert id: an alert is this hub's state machine, never another hub's.
  Engine(RuleSet rules, Logger& log, Counters& counters, std::string hub_id = {});

  // Thread-safe (SIGHUP): the next transaction uses the new rules; stored episodes carry on.
  void set_rules(RuleSet rules);
  std::shared_ptr<const RuleSet> rules() const;

  Result<std::vector<AlertEvent>> in_transaction(RuleStore& store, const std::vector<StoredReading>& inserted,
                                                 TimePoint now) override;
  Result<std::vector<AlertEvent>> judge_assigned(RuleStore& store, const std::vector<StoredReading>& assigned,
                                                 TimePoint now) override;
  Result<std::vector<AlertEvent>> tick(RuleStore& store, TimePoint now) override;

  // The patient (MQTT) or a technician (carehubctl alerts ack) acknowledges: reminders stop. Acknowledging
  // twice is not an error and changes nothing; a closed alert cannot be acknowledged.
  // `by` is recorded with the acknowledgement (Alert::acknowledged_by): the patient, or who acted for them.
  Result<std::vector<AlertEvent>> acknowledge(RuleStore& store, const std::string& id, TimePoint now,
                                              const std::string& by = {});
  // Ends an alert's life (a clinician dealt with it).
  Result<std::vector<AlertEvent>> close(RuleStore& store, const std::string& id, TimePoint now);

 private:
  struct Context;
  Result<void> evaluate(Context& c, const StoredReading& r);
  Result<void> bands(Context& c, const Rule& rule, const StoredReading& r);
  Result<void> inactivity(Context& c, const Rule& rule, const StoredReading& r);
  Result<void> trend(Context& c, const Rule& rule, const StoredReading& r);
  // Ends `patient`'s episodes whose repeat deadline is at or before `at` (the no-repeat policy).
  Result<void> expire_episodes(Context& c, const std::string& patient, TimePoint at);
  Result<void> mark_retrospective(Context& c);

  Logger& log_;
  Counters& counters_;
  mutable std::mutex mu_;
  std::shared_ptr<const RuleSet> rules_;
  const std::string hub_id_;
};

// Deterministic alert ids: the same episode gets the same id after a restart or a replay. The hub id keeps
// two hubs of one patient apart (design.md invariant 9): the same BLE device's readings have one uid on both,
// and an inactivity notice anchors on no reading at all, yet each hub acknowledges and reminds on its own.
// An empty hub id gives the ids of before.
std::string alert_id(std::string_view rule, std::string_view patient, std::string_view event, std::string_view anchor,
                     std::string_view hub_id = {});

}  // namespace carehub::rules
