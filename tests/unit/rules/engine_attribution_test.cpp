// The engine and design.md invariant 7: rules never act on someone else's data (a household sharing one
// cuff, scale or hub), never on nobody's (an unassigned reading), and readings a technician assigns late
// are judged as if they had arrived when measured without firing stale alerts as news (judge_assigned).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rules/engine.hpp"
#include "tests/unit/rules/harness.hpp"

namespace carehub::rules::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::string kHF5 = R"({
  "rules": [{"id": "HF5", "type": "confirm-by-repeat", "category": "CVD", "kind": "blood-pressure",
             "bands": {"systolic": {"extreme_high": 200}, "diastolic": {"extreme_high": 130}}}]
})";

// Stores `readings` as a technician's assignment would leave them, and lets the engine judge them late.
std::vector<AlertEvent> assign_late(Harness& h, std::vector<Reading> readings, TimePoint now) {
  h.clock.set(now);
  auto tx = h.store->begin();
  EXPECT_TRUE(tx.has_value());
  std::vector<StoredReading> assigned;
  for (auto& r : readings) {
    const auto uid = reading_uid(r);
    EXPECT_TRUE(h.store->insert_reading(r, uid).value());
    assigned.push_back({0, uid, r, SyncState::pending, 0, {}, {}});
  }
  auto events = h.engine->judge_assigned(*h.store, assigned, now);
  EXPECT_TRUE(events.has_value()) << events.error().message;
  EXPECT_TRUE(tx->commit().has_value());
  return events.has_value() ? *events : std::vector<AlertEvent>{};
}

std::vector<std::string> patients(const std::vector<AlertEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.alert.patient);
  return out;
}

TEST(Household, ASpousesExtremeReadingBetweenThePatientsTwoNeverConfirmsThePatientsHF5) {
  Harness h(kHF5);
  const auto request = h.arrive(bp(210, 120, kT0, "Patient/a", "cuff-1"));
  ASSERT_THAT(names(request), ElementsAre("repeat-request/info"));
  const auto patient_first = h.last_uid;
  // The spouse measures on the same cuff two minutes later: her own episode, nothing of the patient's.
  const auto spouse = h.arrive(bp(215, 125, kT0 + 2min, "Patient/b", "cuff-1"));
  ASSERT_THAT(names(spouse), ElementsAre("repeat-request/info"));
  EXPECT_THAT(patients(spouse), ElementsAre("Patient/b"));
  const auto spouse_uid = h.last_uid;
  // The patient's own repeat is normal: his episode resolves; the spouse's extreme reading confirmed nothing.
  const auto repeat = h.arrive(bp(150, 90, kT0 + 4min, "Patient/a", "cuff-1"));
  ASSERT_THAT(names(repeat), ElementsAre("resolved/info"));
  EXPECT_EQ(repeat[0].alert.id, request[0].alert.id);
  EXPECT_EQ(repeat[0].alert.readings, (std::vector<std::string>{patient_first, h.last_uid}));
  // The spouse's episode runs its own course: no repeat by her deadline, her alert, not his.
  const auto due = h.tick_at(kT0 + 12min);
  ASSERT_THAT(names(due), ElementsAre("closed/info", "alert/amber"));
  EXPECT_THAT(patients(due), ElementsAre("Patient/b", "Patient/b"));
  EXPECT_EQ(due[1].alert.readings, std::vector<std::string>{spouse_uid});
}

TEST(Household, ThePatientsExtremeRepeatConfirmsHisEpisodeWhateverTheSpouseMeasuredBetween) {
  Harness h(kHF5);
  h.arrive(bp(210, 120, kT0, "Patient/a", "cuff-1"));
  const auto first = h.last_uid;
  h.arrive(bp(110, 70, kT0 + 1min, "Patient/b", "cuff-1"));  // a normal reading of hers resolves nothing of his
  const auto red = h.arrive(bp(205, 118, kT0 + 3min, "Patient/a", "cuff-1"));
  ASSERT_THAT(names(red), ElementsAre("closed/info", "alert/red"));
  EXPECT_THAT(patients(red), ElementsAre("Patient/a", "Patient/a"));
  EXPECT_EQ(red[1].alert.readings, (std::vector<std::string>{first, h.last_uid}));
}

TEST(Household, OnePatientsReadingsFromASharedScaleNeverEndAnothersSilence) {
  Harness h(R"({"rules": [{"id": "scale-silent", "type": "inactivity", "device": "scale-1", "after": "2d"}]})");
  h.arrive(single(Kind::body_weight, 80, kT0, "Patient/a", "scale-1"));
  // Only the spouse keeps weighing herself on the scale.
  h.arrive(single(Kind::body_weight, 62, kT0 + 24h, "Patient/b", "scale-1"));
  h.arrive(single(Kind::body_weight, 62, kT0 + 47h, "Patient/b", "scale-1"));
  const auto notice = h.tick_at(kT0 + 48h);
  ASSERT_THAT(names(notice), ElementsAre("inactivity/info"));
  EXPECT_EQ(notice[0].alert.patient, "Patient/a");
  // Her next reading does not close his notice either.
  h.arrive(single(Kind::body_weight, 62, kT0 + 50h, "Patient/b", "scale-1"));
  EXPECT_EQ(h.alert(notice[0].alert.id)->state, AlertState::open);
}

TEST(Household, AnotherPatientsWeightIsNeverATrendBaseline) {
  Harness h(R"({"rules": [{"id": "weight-gain", "type": "trend", "kind": "body-weight", "change": 2,
                           "within": "3d"}]})");
  h.arrive(single(Kind::body_weight, 62, kT0, "Patient/b", "scale-1"));
  EXPECT_THAT(names(h.arrive(single(Kind::body_weight, 80, kT0 + 24h, "Patient/a", "scale-1"))), IsEmpty());
  EXPECT_THAT(names(h.arrive(single(Kind::body_weight, 60, kT0 + 25h, "Patient/b", "scale-1"))), IsEmpty());
}

TEST(Household, AReadingAttributedToNobodyIsNeverJudged) {
  Harness h(kHF5);
  auto nobody = bp(230, 140, kT0, "", "cuff-1");
  nobody.user = 2;
  EXPECT_THAT(names(h.arrive(nobody)), IsEmpty());
  EXPECT_THAT(names(h.tick_at(kT0 + 1h)), IsEmpty()) << "no episode was opened for anyone";
  EXPECT_EQ(h.counters.get("rules_unattributed_skipped").load(), 1u);
}

TEST(LateAssignment, AnOldConfirmedPairIsRecordedAsARetrospectiveRedAlertNotNotifiedNow) {
  Harness h(kHF5);
  const auto events = assign_late(h, {bp(210, 120, kT0, "Patient/b"), bp(208, 119, kT0 + 3min, "Patient/b")},
                                  kT0 + 2h);
  // As if they had arrived then: the request, its confirmation, the red alert, at their own times.
  ASSERT_THAT(names(events), ElementsAre("repeat-request/info", "closed/info", "alert/red"));
  EXPECT_EQ(events[0].alert.raised, kT0);
  const auto& red = events[2].alert;
  EXPECT_EQ(red.raised, kT0 + 3min);
  EXPECT_TRUE(red.retrospective);
  EXPECT_FALSE(red.notify) << "history is never news on the patient's display";
  EXPECT_FALSE(red.requires_ack);
  EXPECT_EQ(red.audience, "clinician");
  EXPECT_FALSE(red.next_reminder.has_value());
  EXPECT_FALSE(red.escalate_at.has_value());
  for (const auto& e : events) EXPECT_TRUE(e.alert.retrospective) << e.event;
  const auto stored = h.alert(red.id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_TRUE(stored->retrospective);
  EXPECT_FALSE(stored->notify);
  EXPECT_EQ(stored->state, AlertState::open) << "the clinician still sees it in the inbox";
  EXPECT_THAT(names(h.tick_at(kT0 + 5h)), IsEmpty()) << "no reminder, no escalation for history";
  EXPECT_EQ(h.counters.get("rules_retrospective_alerts").load(), 2u);
}

TEST(LateAssignment, AnOldUnrepeatedExtremeReadingEndsByTheNoRepeatPolicyAtItsOwnDeadline) {
  Harness h(kHF5);
  const auto events = assign_late(h, {bp(212, 100, kT0, "Patient/b")}, kT0 + 1h);
  ASSERT_THAT(names(events), ElementsAre("repeat-request/info", "closed/info", "alert/amber"));
  EXPECT_EQ(events[1].alert.resolution, "expired");
  EXPECT_EQ(events[2].alert.raised, kT0 + 10min);
  EXPECT_TRUE(events[2].alert.retrospective);
  EXPECT_THAT(names(h.tick_at(kT0 + 2h)), IsEmpty()) << "the episode is over: the tick has nothing left";
}

TEST(LateAssignment, TwoOldExtremeReadingsTooFarApartAreTwoUnconfirmedEpisodesNotARedAlert) {
  Harness h(kHF5);
  const auto events = assign_late(h, {bp(212, 100, kT0, "Patient/b"), bp(215, 100, kT0 + 30min, "Patient/b")},
                                  kT0 + 3h);
  EXPECT_THAT(names(events), ElementsAre("repeat-request/info", "closed/info", "alert/amber", "repeat-request/info",
                                         "closed/info", "alert/amber"));
}

TEST(LateAssignment, ARecentExtremeReadingAsksForARepeatNowAsIfItHadJustArrived) {
  Harness h(kHF5);
  const auto events = assign_late(h, {bp(210, 120, kT0, "Patient/b")}, kT0 + 2min);
  ASSERT_THAT(names(events), ElementsAre("repeat-request/info"));
  EXPECT_FALSE(events[0].alert.retrospective);
  EXPECT_TRUE(events[0].alert.notify);
  EXPECT_EQ(events[0].alert.deadline, kT0 + 10min);
  // Her repeat arrives live and confirms: a red alert for her, now, with reminders.
  const auto red = h.arrive(bp(206, 118, kT0 + 4min, "Patient/b"));
  ASSERT_THAT(names(red), ElementsAre("closed/info", "alert/red"));
  EXPECT_TRUE(red[1].alert.notify);
  EXPECT_TRUE(red[1].alert.requires_ack);
}

TEST(LateAssignment, AssigningTheSpousesOldReadingsLeavesThePatientsOpenEpisodeAlone) {
  Harness h(kHF5);
  const auto request = h.arrive(bp(210, 120, kT0 + 2h, "Patient/a"));
  ASSERT_THAT(names(request), ElementsAre("repeat-request/info"));
  // Her readings from this morning are assigned to her while his episode is open.
  const auto late = assign_late(h, {bp(220, 125, kT0, "Patient/b"), bp(221, 125, kT0 + 2min, "Patient/b")},
                                kT0 + 2h + 1min);
  EXPECT_THAT(patients(late), ElementsAre("Patient/b", "Patient/b", "Patient/b"));
  EXPECT_EQ(h.alert(request[0].alert.id)->state, AlertState::open);
  // His repeat still confirms his episode.
  const auto red = h.arrive(bp(205, 118, kT0 + 2h + 3min, "Patient/a"));
  ASSERT_THAT(names(red), ElementsAre("closed/info", "alert/red"));
  EXPECT_EQ(red[1].alert.patient, "Patient/a");
  EXPECT_FALSE(red[1].alert.retrospective);
}

TEST(LateAssignment, AnOldReadingIsHistoryForTheSamePatientsNewerEpisodeAndDoesNotDiscardIt) {
  Harness h(kHF5);
  const auto request = h.arrive(bp(210, 120, kT0 + 2h, "Patient/a"));
  const auto late = assign_late(h, {bp(140, 85, kT0, "Patient/a")}, kT0 + 2h + 1min);
  EXPECT_THAT(names(late), IsEmpty());
  EXPECT_EQ(h.alert(request[0].alert.id)->state, AlertState::open) << "judged at its own time, not 'after now'";
  EXPECT_THAT(names(h.arrive(bp(206, 118, kT0 + 2h + 3min, "Patient/a"))), ElementsAre("closed/info", "alert/red"));
}

}  // namespace
}  // namespace carehub::rules::test
