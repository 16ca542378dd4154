// The engine at and around every boundary: HF5 and its HFpEF variant, bands, reminders and escalation,
// notification filters, inactivity, trend, reloads and restarts.
#include "rules/engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/rules/harness.hpp"

namespace carehub::rules::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// HF5 as the pilot described it: SBP 200 or DBP 130 asks for a repeat within 10 minutes; a repeat
// within 5 minutes still extreme is a red alert. Defaults give exactly those times.
const std::string kHF5 = R"({
  "categories": {"CVD": {"notify": true}},
  "rules": [{"id": "HF5", "type": "confirm-by-repeat", "category": "CVD", "kind": "blood-pressure",
             "bands": {"systolic": {"extreme_high": 200}, "diastolic": {"extreme_high": 130}}}]
})";

// HF5 for everyone on the hub; Patient/hfpef has heart failure with preserved ejection fraction and a
// tighter rule of the same id (docs/rules.md gives the source of these limits).
const std::string kHF5WithHFpEF = R"({
  "rules": [
    {"id": "HF5", "type": "confirm-by-repeat", "kind": "blood-pressure",
     "bands": {"systolic": {"extreme_high": 200}, "diastolic": {"extreme_high": 130}}},
    {"id": "HF5", "type": "confirm-by-repeat", "kind": "blood-pressure", "patient": "Patient/hfpef",
     "bands": {"systolic": {"extreme_low": 90, "extreme_high": 180}, "diastolic": {"extreme_high": 110}}}
  ]
})";

TEST(HF5, AnExtremeReadingRequestsARepeatAndAStillExtremeRepeatAfterFourMinutesRaisesARedAlert) {
  Harness h(kHF5);
  auto first = h.arrive(bp(200, 130, kT0));
  ASSERT_THAT(names(first), ElementsAre("repeat-request/info"));
  const auto first_uid = h.last_uid;
  EXPECT_EQ(first[0].alert.deadline, kT0 + 10min);
  // What the patient is counted down to: a repeat after the 5-minute window no longer confirms (issue 16).
  EXPECT_EQ(first[0].alert.repeat_by, kT0 + 5min);
  EXPECT_EQ(first[0].alert.audience, "patient");
  EXPECT_EQ(first[0].alert.readings, std::vector<std::string>{first_uid});

  auto repeat = h.arrive(bp(205, 128, kT0 + 4min));
  ASSERT_THAT(names(repeat), ElementsAre("closed/info", "alert/red"));
  const auto& red = repeat[1].alert;
  EXPECT_TRUE(red.requires_ack);
  EXPECT_EQ(red.audience, "both");
  EXPECT_EQ(red.readings, (std::vector<std::string>{first_uid, h.last_uid}));
  EXPECT_EQ(repeat[0].alert.resolution, "confirmed");
  EXPECT_EQ(h.alert(first[0].alert.id)->state, AlertState::closed);
  // The episode is over: the deadline passing changes nothing more.
  EXPECT_THAT(names(h.tick_at(kT0 + 10min)), IsEmpty());
}

// HF5 on both sides (config/rules/hf5.json): a repeat confirms only on the side its episode opened on.
const std::string kHF5BothSides = R"({
  "rules": [{"id": "HF5", "type": "confirm-by-repeat", "kind": "blood-pressure",
             "bands": {"systolic": {"extreme_low": 90, "extreme_high": 200}, "diastolic": {"extreme_high": 130}}}]
})";

TEST(HF5, ALowEpisodeIsConfirmedByALowRepeat) {
  Harness h(kHF5BothSides);
  ASSERT_THAT(names(h.arrive(bp(84, 50, kT0))), ElementsAre("repeat-request/info"));
  EXPECT_THAT(names(h.arrive(bp(86, 52, kT0 + 3min))), ElementsAre("closed/info", "alert/red"));
}

TEST(HF5, ALowEpisodeIsNotConfirmedByAHighRepeatWhichOpensItsOwnEpisode) {
  Harness h(kHF5BothSides);
  const auto low = h.arrive(bp(84, 50, kT0));
  ASSERT_THAT(names(low), ElementsAre("repeat-request/info"));
  const auto high = h.arrive(bp(205, 100, kT0 + 3min));
  ASSERT_THAT(names(high), ElementsAre("resolved/info", "repeat-request/info"));
  EXPECT_EQ(high[0].alert.id, low[0].alert.id);
  EXPECT_EQ(high[0].alert.resolution, "not confirmed: extreme the other way");
  EXPECT_EQ(high[1].alert.deadline, kT0 + 13min) << "its own episode, from its own time";
  // The high side is then confirmed by a high repeat, as any high episode.
  EXPECT_THAT(names(h.arrive(bp(206, 100, kT0 + 5min))), ElementsAre("closed/info", "alert/red"));
}

TEST(HF5, AHighEpisodeIsNotConfirmedByALowRepeat) {
  Harness h(kHF5BothSides);
  h.arrive(bp(205, 100, kT0));
  EXPECT_THAT(names(h.arrive(bp(85, 50, kT0 + 2min))), ElementsAre("resolved/info", "repeat-request/info"));
}

TEST(HF5, AcknowledgingTheRedAlertSetsItOffAndStopsReminders) {
  Harness h(kHF5);
  h.arrive(bp(210, 120, kT0));
  auto red = h.arrive(bp(210, 120, kT0 + 4min)).back().alert;
  auto acked = h.ack(red.id);
  ASSERT_THAT(names(acked), ElementsAre("acknowledged/red"));
  EXPECT_EQ(h.alert(red.id)->state, AlertState::acknowledged);
  EXPECT_EQ(h.alert(red.id)->acknowledged, kT0 + 4min);
  EXPECT_THAT(names(h.tick_at(kT0 + 4h)), IsEmpty()) << "no reminder, no escalation after the acknowledgement";
  EXPECT_THAT(names(h.ack(red.id)), IsEmpty()) << "acknowledging twice changes nothing";
}

TEST(HF5, ARepeatThatIsNoLongerExtremeResolvesTheEpisode) {
  Harness h(kHF5);
  auto request = h.arrive(bp(200, 100, kT0)).front().alert;
  auto repeat = h.arrive(bp(160, 95, kT0 + 3min));
  ASSERT_THAT(names(repeat), ElementsAre("resolved/info"));
  EXPECT_EQ(repeat[0].alert.id, request.id);
  EXPECT_EQ(repeat[0].alert.state, AlertState::closed);
  EXPECT_EQ(repeat[0].alert.resolution, "resolved");
  EXPECT_EQ(repeat[0].alert.readings.size(), 2u);
  EXPECT_THAT(names(h.tick_at(kT0 + 1h)), IsEmpty());
}

TEST(HF5, NoRepeatBeforeTheDeadlineRaisesAnAmberAlertForTheClinicianExactlyAtTheDeadline) {
  Harness h(kHF5);
  auto request = h.arrive(bp(220, 100, kT0)).front().alert;
  EXPECT_THAT(names(h.tick_at(kT0 + 10min - 1ms)), IsEmpty());
  auto due = h.tick_at(kT0 + 10min);
  ASSERT_THAT(names(due), ElementsAre("closed/info", "alert/amber"));
  EXPECT_EQ(due[0].alert.resolution, "expired");
  EXPECT_EQ(due[1].alert.audience, "clinician");
  EXPECT_FALSE(due[1].alert.requires_ack);
  EXPECT_EQ(due[1].time, kT0 + 10min);
  EXPECT_EQ(due[1].alert.readings, request.readings);
}

TEST(HF5, ExactlyAtTheLimitIsExtremeAndJustBelowIsNot) {
  Harness h(kHF5);
  EXPECT_THAT(names(h.arrive(bp(199.9, 129.9, kT0))), IsEmpty());
  EXPECT_THAT(names(h.arrive(bp(150, 130, kT0 + 1min, "Patient/b"))), ElementsAre("repeat-request/info"))
      << "diastolic alone at its limit is extreme";
  EXPECT_THAT(names(h.arrive(bp(200, 80, kT0 + 1min, "Patient/c"))), ElementsAre("repeat-request/info"));
}

TEST(HF5, ARepeatExactlyAtTheWindowEdgeCountsAndOneMillisecondLaterDoesNot) {
  Harness h(kHF5);
  h.arrive(bp(200, 130, kT0));
  EXPECT_THAT(names(h.arrive(bp(200, 130, kT0 + 5min))), ElementsAre("closed/info", "alert/red"));

  h.arrive(bp(200, 130, kT0, "Patient/b"));
  // Too late to be the repeat: the episode ends by the no-repeat policy, and the late extreme reading
  // is judged afresh (a new repeat request).
  EXPECT_THAT(names(h.arrive(bp(200, 130, kT0 + 5min + 1ms, "Patient/b"))),
              ElementsAre("closed/info", "alert/amber", "repeat-request/info"));
}

TEST(HF5, ARepeatWithinTheThresholdOfTheLimitStillCountsAsExtreme) {
  Harness h(R"({"rules": [{"id": "HF5", "type": "confirm-by-repeat", "kind": "blood-pressure",
      "bands": {"systolic": {"extreme_high": 200, "threshold": 5}}}]})");
  h.arrive(bp(200, 90, kT0));
  EXPECT_THAT(names(h.arrive(bp(195, 90, kT0 + 2min))), ElementsAre("closed/info", "alert/red"));
  h.arrive(bp(200, 90, kT0, "Patient/b"));
  EXPECT_THAT(names(h.arrive(bp(194.9, 90, kT0 + 2min, "Patient/b"))), ElementsAre("resolved/info"));
}

TEST(HF5, AnOutOfOrderReadingOlderThanTheEpisodeNeitherConfirmsNorResolves) {
  Harness h(kHF5);
  h.arrive(bp(200, 130, kT0));
  EXPECT_THAT(names(h.add(bp(120, 80, kT0 - 1min))), IsEmpty()) << "measured before the episode began";
  EXPECT_THAT(names(h.add(bp(210, 130, kT0 - 2min))), IsEmpty());
  EXPECT_THAT(names(h.arrive(bp(210, 130, kT0 + 4min))), ElementsAre("closed/info", "alert/red"));
}

TEST(HF5, ReadingsArrivingTogetherAreJudgedInTheOrderTheyWereMeasured) {
  Harness h(kHF5);
  h.clock.set(kT0 + 4min);  // both arrive at once, the repeat listed first
  auto events = h.add({bp(205, 131, kT0 + 4min), bp(200, 130, kT0)});
  EXPECT_THAT(names(events), ElementsAre("repeat-request/info", "closed/info", "alert/red"));
}

TEST(HF5, ADuplicateReadingIsStoredOnceAndNeverConfirmsItself) {
  Harness h(kHF5);
  EXPECT_THAT(names(h.arrive(bp(200, 130, kT0))), ElementsAre("repeat-request/info"));
  EXPECT_THAT(names(h.arrive(bp(200, 130, kT0))), IsEmpty());
  EXPECT_THAT(names(h.tick_at(kT0 + 10min)), ElementsAre("closed/info", "alert/amber"));
}

TEST(HF5, ARepeatFromAnotherDeviceOfTheSamePatientConfirms) {
  Harness h(kHF5);
  auto first = h.arrive(bp(200, 130, kT0, "Patient/a", "cuff-1"));
  auto repeat = h.arrive(bp(201, 131, kT0 + 2min, "Patient/a", "cuff-2"));
  ASSERT_THAT(names(repeat), ElementsAre("closed/info", "alert/red"));
  EXPECT_EQ(repeat[1].alert.readings.size(), 2u);
}

TEST(HF5, TwoPatientsOnOneHubNeverConfirmOrResolveEachOther) {
  Harness h(kHF5);
  h.arrive(bp(200, 130, kT0, "Patient/a", "cuff-a"));
  EXPECT_THAT(names(h.arrive(bp(120, 80, kT0 + 1min, "Patient/b", "cuff-b"))), IsEmpty());
  EXPECT_THAT(names(h.arrive(bp(210, 130, kT0 + 2min, "Patient/b", "cuff-b"))), ElementsAre("repeat-request/info"));
  auto a = h.arrive(bp(205, 130, kT0 + 3min, "Patient/a", "cuff-a"));
  ASSERT_THAT(names(a), ElementsAre("closed/info", "alert/red"));
  EXPECT_EQ(a[1].alert.patient, "Patient/a");
  auto b = h.tick_at(kT0 + 12min);
  ASSERT_THAT(names(b), ElementsAre("closed/info", "alert/amber"));
  EXPECT_EQ(b[1].alert.patient, "Patient/b");
}

TEST(HF5, TimingIsMeasuredOnReadingTimesNotArrival) {
  Harness h(kHF5);
  h.arrive(bp(200, 130, kT0));
  h.clock.set(kT0 + 9min);  // the repeat reaches the hub late, but was measured after 4 minutes
  EXPECT_THAT(names(h.add(bp(200, 130, kT0 + 4min))), ElementsAre("closed/info", "alert/red"));
}

TEST(HF5, AnExtremeReadingReceivedAfterItsRepeatDeadlineGoesStraightToTheClinician) {
  Harness h(kHF5);
  h.clock.set(kT0 + 10min);  // a device emptying its memory: nobody can repeat that measurement now
  auto events = h.add(bp(200, 130, kT0));
  ASSERT_THAT(names(events), ElementsAre("alert/amber"));
  EXPECT_EQ(events[0].alert.audience, "clinician");
  h.clock.set(kT0 + 10min - 1ms);
  EXPECT_THAT(names(h.add(bp(200, 130, kT0, "Patient/b"))), ElementsAre("repeat-request/info"));
}

TEST(HF5, ALowExtremeIsConfirmedTheSameWay) {
  Harness h(R"({"rules": [{"id": "HF5", "type": "confirm-by-repeat", "kind": "blood-pressure",
      "bands": {"systolic": {"extreme_low": 80, "extreme_high": 200}}}]})");
  EXPECT_THAT(names(h.arrive(bp(80.1, 50, kT0))), IsEmpty());
  EXPECT_THAT(names(h.arrive(bp(80, 50, kT0 + 1min))), ElementsAre("repeat-request/info"));
  EXPECT_THAT(names(h.arrive(bp(78, 50, kT0 + 3min))), ElementsAre("closed/info", "alert/red"));
}

TEST(HFpEF, TheTighterPatientRuleReplacesThePilotRuleForThatPatientOnly) {
  Harness h(kHF5WithHFpEF);
  EXPECT_THAT(names(h.arrive(bp(185, 100, kT0, "Patient/a"))), IsEmpty()) << "the pilot limit is 200";
  EXPECT_THAT(names(h.arrive(bp(180, 100, kT0, "Patient/hfpef"))), ElementsAre("repeat-request/info"));
  auto red = h.arrive(bp(182, 95, kT0 + 4min, "Patient/hfpef"));
  ASSERT_THAT(names(red), ElementsAre("closed/info", "alert/red"));
  EXPECT_EQ(red[1].alert.rule, "HF5");
  EXPECT_EQ(red[1].alert.patient, "Patient/hfpef");
  EXPECT_THAT(names(h.ack(red[1].alert.id)), ElementsAre("acknowledged/red"));
}

TEST(HFpEF, LowPressureIsExtremeForTheHFpEFPatient) {
  Harness h(kHF5WithHFpEF);
  EXPECT_THAT(names(h.arrive(bp(90, 60, kT0, "Patient/hfpef"))), ElementsAre("repeat-request/info"));
  EXPECT_THAT(names(h.arrive(bp(104, 66, kT0 + 3min, "Patient/hfpef"))), ElementsAre("resolved/info"));
  EXPECT_THAT(names(h.arrive(bp(90, 60, kT0, "Patient/a"))), IsEmpty());
}

const std::string kBands = R"({
  "rules": [{"id": "bp-bands", "type": "bands", "kind": "blood-pressure",
             "bands": {"systolic": {"extreme_low": 80, "optimal_low": 100, "optimal_high": 140, "extreme_high": 180}},
             "outcomes": {"extreme_low": "red", "low": "info", "high": "amber", "extreme_high": "red"}}]
})";

TEST(Bands, EachBoundaryFallsInTheBandDocumented) {
  struct Case {
    double sys;
    std::vector<std::string> expect;
  };
  const Case cases[] = {{140, {}},          {140.1, {"alert/amber"}}, {179.9, {"alert/amber"}},
                        {180, {"alert/red"}}, {100, {}},             {99.9, {"alert/info"}},
                        {80.1, {"alert/info"}}, {80, {"alert/red"}}};
  int patient = 0;
  for (const auto& c : cases) {
    Harness h(kBands);
    EXPECT_EQ(names(h.arrive(bp(c.sys, 70, kT0, "Patient/p" + std::to_string(patient++)))), c.expect) << c.sys;
  }
}

TEST(Bands, ARunOfHighReadingsIsOneOpenAlertUntilItIsAcknowledged) {
  Harness h(kBands);
  auto first = h.arrive(bp(150, 70, kT0));
  ASSERT_THAT(names(first), ElementsAre("alert/amber"));
  EXPECT_THAT(names(h.arrive(bp(155, 70, kT0 + 1h))), IsEmpty());
  h.ack(first[0].alert.id);
  EXPECT_THAT(names(h.arrive(bp(152, 70, kT0 + 2h))), ElementsAre("alert/amber"));
}

TEST(Bands, AnOptimalBandOutcomeCanBeConfigured) {
  Harness h(R"({"rules": [{"id": "t", "type": "bands", "kind": "body-temperature",
      "bands": {"value": {"optimal_low": 36, "optimal_high": 37.5}}, "outcomes": {"optimal": "info"}}]})");
  EXPECT_THAT(names(h.arrive(single(Kind::body_temperature, 37.5, kT0))), ElementsAre("alert/info"));
}

TEST(Reminders, AnUnacknowledgedRedAlertIsRemindedThenEscalatedToTheClinician) {
  Harness h(R"({"defaults": {"reminder_every": "10min", "escalate_after": "25min"},
      "rules": [{"id": "HF5", "type": "confirm-by-repeat", "kind": "blood-pressure",
                 "bands": {"systolic": {"extreme_high": 200}}}]})");
  h.arrive(bp(200, 90, kT0));
  const auto red = h.arrive(bp(200, 90, kT0 + 4min)).back().alert;
  EXPECT_THAT(names(h.tick_at(kT0 + 14min - 1ms)), IsEmpty());
  auto first = h.tick_at(kT0 + 14min);
  ASSERT_THAT(names(first), ElementsAre("reminder/red"));
  EXPECT_EQ(first[0].alert.reminders, 1);
  EXPECT_THAT(names(h.tick_at(kT0 + 24min)), ElementsAre("reminder/red"));
  auto escalated = h.tick_at(kT0 + 29min);
  ASSERT_THAT(names(escalated), ElementsAre("escalation/red"));
  EXPECT_TRUE(escalated[0].alert.escalated);
  EXPECT_EQ(escalated[0].time, kT0 + 29min);
  EXPECT_THAT(names(h.tick_at(kT0 + 34min)), ElementsAre("reminder/red")) << "reminders go on until acknowledged";
  h.ack(red.id);
  EXPECT_THAT(names(h.tick_at(kT0 + 5h)), IsEmpty());
}

TEST(Reminders, AHubThatWasOffCatchesUpWithOneReminderNotAStorm) {
  Harness h(R"({"defaults": {"escalate_after": "never"},
      "rules": [{"id": "HF5", "type": "confirm-by-repeat", "kind": "blood-pressure",
                 "bands": {"systolic": {"extreme_high": 200}}}]})");
  h.arrive(bp(200, 90, kT0));
  h.arrive(bp(200, 90, kT0 + 1min));
  EXPECT_THAT(names(h.tick_at(kT0 + 3h)), ElementsAre("reminder/red"));
  EXPECT_THAT(names(h.tick_at(kT0 + 3h + 1min)), IsEmpty());
}

TEST(Filters, AFilteredCategoryRecordsAlertsWithNotifyFalse) {
  Harness h(R"({"categories": {"CVD": {"notify": false}},
      "rules": [{"id": "HF5", "type": "confirm-by-repeat", "category": "CVD", "kind": "blood-pressure",
                 "bands": {"systolic": {"extreme_high": 200}}},
                {"id": "weight", "type": "trend", "kind": "body-weight", "change": 2, "within": "3d"}]})");
  auto request = h.arrive(bp(200, 90, kT0));
  auto red = h.arrive(bp(200, 90, kT0 + 1min));
  ASSERT_THAT(names(red), ElementsAre("closed/info", "alert/red"));
  EXPECT_FALSE(request[0].alert.notify);
  EXPECT_FALSE(red[1].alert.notify);
  EXPECT_EQ(h.alert(red[1].alert.id)->notify, false) << "recorded all the same";
  EXPECT_EQ(h.alert(red[1].alert.id)->category, "CVD");
  h.arrive(single(Kind::body_weight, 80, kT0 + 2min));
  auto weight = h.arrive(single(Kind::body_weight, 82, kT0 + 3min));
  ASSERT_THAT(names(weight), ElementsAre("alert/amber"));
  EXPECT_TRUE(weight[0].alert.notify) << "other categories still notify";
}

const std::string kInactivity = R"({
  "rules": [{"id": "no-bp", "type": "inactivity", "kind": "blood-pressure"},
            {"id": "scale-silent", "type": "inactivity", "device": "scale-1", "after": "2d", "severity": "amber"}]
})";

TEST(Inactivity, NoReadingOfAKindForTenDaysRaisesANoticeExactlyAtTheLimit) {
  Harness h(kInactivity);
  h.arrive(bp(120, 80, kT0));
  EXPECT_THAT(names(h.tick_at(kT0 + 240h - 1ms)), IsEmpty());
  auto notice = h.tick_at(kT0 + 240h);
  ASSERT_THAT(names(notice), ElementsAre("inactivity/info"));
  EXPECT_EQ(notice[0].time, kT0 + 240h);
  EXPECT_EQ(notice[0].alert.readings, std::vector<std::string>{h.last_uid}) << "points at the last reading seen";
  EXPECT_THAT(names(h.tick_at(kT0 + 480h)), IsEmpty()) << "one notice per silence";
}

TEST(Inactivity, AReadingEndsTheSilenceClosesTheNoticeAndRestartsTheCount) {
  Harness h(kInactivity);
  h.arrive(bp(120, 80, kT0));
  const auto notice = h.tick_at(kT0 + 240h).front().alert;
  auto resumed = h.arrive(bp(121, 80, kT0 + 250h));
  ASSERT_THAT(names(resumed), ElementsAre("closed/info"));
  EXPECT_EQ(resumed[0].alert.resolution, "data resumed");
  EXPECT_THAT(names(h.tick_at(kT0 + 490h - 1ms)), IsEmpty());
  auto again = h.tick_at(kT0 + 490h);
  ASSERT_THAT(names(again), ElementsAre("inactivity/info"));
  EXPECT_NE(again[0].alert.id, notice.id);
}

TEST(Inactivity, AnOlderReadingArrivingLateDoesNotPostponeTheNotice) {
  Harness h(kInactivity);
  h.arrive(bp(120, 80, kT0));
  h.add(bp(119, 80, kT0 - 24h));
  EXPECT_THAT(names(h.tick_at(kT0 + 240h)), ElementsAre("inactivity/info"));
}

TEST(Inactivity, ADeviceRuleWatchesOneDeviceOfAnyKind) {
  Harness h(kInactivity);
  h.arrive(single(Kind::body_weight, 80, kT0, "Patient/a", "scale-1"));
  h.arrive(single(Kind::body_weight, 80, kT0 + 47h, "Patient/a", "scale-2"));
  auto notice = h.tick_at(kT0 + 48h);
  ASSERT_THAT(names(notice), ElementsAre("inactivity/amber"));
  EXPECT_EQ(notice[0].alert.rule, "scale-silent");
}

TEST(Inactivity, EachPatientHasTheirOwnSilence) {
  Harness h(kInactivity);
  h.arrive(bp(120, 80, kT0, "Patient/a"));
  h.arrive(bp(120, 80, kT0 + 5 * 24h, "Patient/b"));
  auto due = h.tick_at(kT0 + 240h);
  ASSERT_THAT(names(due), ElementsAre("inactivity/info"));
  EXPECT_EQ(due[0].alert.patient, "Patient/a");
}

const std::string kTrend = R"({"rules": [{"id": "weight-gain", "type": "trend", "kind": "body-weight",
    "change": 2, "within": "3d"}]})";

TEST(Trend, AGainOfExactlyTwoKilosWithinThreeDaysRaisesAnAmberAlert) {
  Harness h(kTrend);
  h.arrive(single(Kind::body_weight, 72.3, kT0));
  EXPECT_THAT(names(h.arrive(single(Kind::body_weight, 74.2, kT0 + 24h))), IsEmpty());
  const auto base = h.last_uid;
  auto gain = h.arrive(single(Kind::body_weight, 74.3, kT0 + 48h));
  ASSERT_THAT(names(gain), ElementsAre("alert/amber"));
  EXPECT_EQ(gain[0].alert.readings.size(), 2u);
  EXPECT_EQ(gain[0].alert.readings.back(), h.last_uid);
  EXPECT_NE(gain[0].alert.readings.front(), base) << "the baseline is the lowest reading in the window";
  EXPECT_THAT(names(h.arrive(single(Kind::body_weight, 75, kT0 + 60h))), IsEmpty()) << "one open trend alert";
}

TEST(Trend, TheBaselineMustBeWithinTheWindowInclusiveOfItsEdge) {
  Harness h(kTrend);
  h.arrive(single(Kind::body_weight, 70, kT0));
  EXPECT_THAT(names(h.arrive(single(Kind::body_weight, 72, kT0 + 72h + 1ms))), IsEmpty());
  Harness edge(kTrend);
  edge.arrive(single(Kind::body_weight, 70, kT0));
  EXPECT_THAT(names(edge.arrive(single(Kind::body_weight, 72, kT0 + 72h))), ElementsAre("alert/amber"));
}

TEST(Trend, AFallIsWatchedWithANegativeChange) {
  Harness h(R"({"rules": [{"id": "weight-loss", "type": "trend", "kind": "body-weight", "change": -3,
      "within": "7d", "severity": "info"}]})");
  h.arrive(single(Kind::body_weight, 80, kT0));
  EXPECT_THAT(names(h.arrive(single(Kind::body_weight, 77.1, kT0 + 24h))), IsEmpty());
  EXPECT_THAT(names(h.arrive(single(Kind::body_weight, 77, kT0 + 48h))), ElementsAre("alert/info"));
}

TEST(Trend, AnotherPatientsWeightIsNeverTheBaseline) {
  Harness h(kTrend);
  h.arrive(single(Kind::body_weight, 60, kT0, "Patient/b"));
  EXPECT_THAT(names(h.arrive(single(Kind::body_weight, 80, kT0 + 1h, "Patient/a"))), IsEmpty());
}

TEST(Reload, NewRulesKeepAnOpenEpisodeAndItsDeadline) {
  Harness h(kHF5);
  h.arrive(bp(200, 130, kT0));
  // The clinician lengthens the window; the open episode keeps the one it was opened with.
  h.engine->set_rules(rules_from(R"({"defaults": {"confirm_window": "9min", "repeat_deadline": "20min"},
      "rules": [{"id": "HF5", "type": "confirm-by-repeat", "kind": "blood-pressure",
                 "bands": {"systolic": {"extreme_high": 200}}}]})"));
  auto red = h.arrive(bp(200, 130, kT0 + 4min));
  ASSERT_THAT(names(red), ElementsAre("closed/info", "alert/red"));
  h.ack(red.back().alert.id);
  h.arrive(bp(200, 130, kT0 + 30min));
  EXPECT_THAT(names(h.tick_at(kT0 + 40min)), IsEmpty()) << "new episodes use the new 20 min deadline";
  EXPECT_THAT(names(h.tick_at(kT0 + 50min)), ElementsAre("closed/info", "alert/amber"));
}

TEST(Reload, StateOfARemovedRuleIsDroppedAtItsDeadline) {
  Harness h(kHF5);
  h.arrive(bp(200, 130, kT0));
  h.engine->set_rules(rules_from(R"({"rules": []})"));
  EXPECT_THAT(names(h.tick_at(kT0 + 10min)), IsEmpty());
}

TEST(Restart, ARestartMidWindowKeepsTheWindow) {
  Harness h(kHF5);
  auto request = h.arrive(bp(200, 130, kT0)).front().alert;
  h.restart(kHF5);  // the store is closed and reopened, with a new engine
  auto repeat = h.arrive(bp(204, 130, kT0 + 4min));
  ASSERT_THAT(names(repeat), ElementsAre("closed/info", "alert/red"));
  EXPECT_EQ(repeat[0].alert.id, request.id);
}

TEST(Restart, ADeadlinePassedWhileTheHubWasOffFiresAtTheFirstTick) {
  Harness h(kHF5);
  h.arrive(bp(200, 130, kT0));
  h.restart(kHF5);
  auto due = h.tick_at(kT0 + 2h);
  ASSERT_THAT(names(due), ElementsAre("closed/info", "alert/amber"));
  EXPECT_EQ(due[1].time, kT0 + 10min) << "the policy is dated at the deadline it enforces";
}

// ---- A reading later than the engine's clock (design.md invariant 8) ----
// The pipeline quarantines readings dated beyond their receipt; the engine must not be steerable by one
// anyway (a reading that slipped through, or state written by a carehub without that bound).

const TimePoint k2062 = from_epoch_ms(2917072800000);  // 2062-06-09T10:00:00Z

// Writes rule state as an older carehub left it.
void plant(Harness& h, const RuleState& s) {
  auto tx = h.store->begin();
  ASSERT_TRUE(tx.has_value());
  ASSERT_TRUE(h.store->put_rule_state(s).has_value());
  ASSERT_TRUE(tx->commit().has_value());
}

std::vector<std::string> all_names(std::initializer_list<std::vector<AlertEvent>> batches) {
  std::vector<std::string> out;
  for (const auto& b : batches) {
    for (auto& n : names(b)) out.push_back(std::move(n));
  }
  return out;
}

TEST(FutureTime, AnExtremeReadingDatedYearsAheadCannotHideARealExtremePairTakenNow) {
  Harness h(kHF5);
  const auto future = h.add(bp(210, 130, k2062));  // the clock reads kT0
  for (const auto& e : future) {
    if (e.alert.deadline) {
      EXPECT_LE(*e.alert.deadline, kT0 + 10min) << "no deadline in 2062";
    }
  }
  const auto first = h.arrive(bp(200, 130, kT0 + 1min));
  const auto repeat = h.arrive(bp(205, 130, kT0 + 4min));
  EXPECT_THAT(all_names({first, repeat}), ::testing::Contains("alert/red"));
}

TEST(FutureTime, AReadingDatedYearsAheadNeverMovesTheInactivityDeadlineIntoTheFuture) {
  Harness h(kInactivity);
  h.arrive(bp(120, 80, kT0));
  h.clock.set(kT0 + 1h);
  h.add(bp(121, 80, k2062));  // judged no later than now: the silence is counted from kT0 + 1h at the latest
  EXPECT_THAT(names(h.tick_at(kT0 + 241h)), ElementsAre("inactivity/info"));
}

TEST(FutureTime, AWeightDatedYearsAheadIsComparedWithTheRecentPast) {
  Harness h(kTrend);
  h.arrive(single(Kind::body_weight, 72.3, kT0));
  h.clock.set(kT0 + 24h);
  EXPECT_THAT(names(h.add(single(Kind::body_weight, 74.5, k2062))), ElementsAre("alert/amber"));
}

TEST(FutureTime, AnEpisodeAnOlderCarehubOpenedInTheFutureDoesNotSwallowTheNextReadings) {
  Harness h(kHF5);
  const nlohmann::json episode = {{"opened_ms", to_epoch_ms(k2062)},
                                  {"deadline_ms", to_epoch_ms(k2062 + 10min)},
                                  {"window_end_ms", to_epoch_ms(k2062 + 5min)},
                                  {"direction", "high"},
                                  {"anchor", "uid-2062"},
                                  {"values", "diastolic 130, systolic 210"},
                                  {"readings", {"uid-2062"}}};
  plant(h, {"HF5", "Patient/a", "episode", episode.dump(), k2062 + 10min});
  const auto first = h.arrive(bp(200, 130, kT0));
  const auto repeat = h.arrive(bp(205, 130, kT0 + 4min));
  EXPECT_THAT(all_names({first, repeat}), ::testing::Contains("alert/red"));
  EXPECT_THAT(names(repeat), ElementsAre("closed/info", "alert/red"));
}

TEST(FutureTime, AnInactivityCountAnOlderCarehubStartedInTheFutureRestartsAtTheNextReading) {
  Harness h(kInactivity);
  const nlohmann::json state = {{"last_ms", to_epoch_ms(k2062)}, {"last_uid", "uid-2062"}};
  plant(h, {"no-bp", "Patient/a", "kind:blood-pressure", state.dump(), k2062 + 240h});
  h.arrive(bp(120, 80, kT0));
  EXPECT_THAT(names(h.tick_at(kT0 + 240h)), ElementsAre("inactivity/info"));
}

TEST(AlertIds, AreDeterministicAcrossRuns) {
  Harness a(kHF5), b(kHF5);
  EXPECT_EQ(a.arrive(bp(200, 130, kT0)).front().alert.id, b.arrive(bp(200, 130, kT0)).front().alert.id);
  EXPECT_EQ(alert_id("HF5", "Patient/a", "alert", "x").size(), 19u);
}

// design.md invariant 9: two hubs of one patient (the same BLE cuff, or an inactivity notice that anchors on no
// reading) raise the same episode; each is its own hub's alert, acknowledged and reminded there.
TEST(AlertIds, TheHubIdKeepsTwoHubsAlertsApart) {
  EXPECT_NE(alert_id("HF5", "Patient/a", "alert", "x", "hub-0001"), alert_id("HF5", "Patient/a", "alert", "x", "hub-0002"));
  EXPECT_EQ(alert_id("HF5", "Patient/a", "alert", "x", ""), alert_id("HF5", "Patient/a", "alert", "x"));
  // The same reading on two hubs' engines: two alerts; the same hub after a restart: the same one.
  std::vector<std::string> ids;
  for (const char* hub : {"hub-0001", "hub-0002", "hub-0001"}) {
    Harness h(kHF5);
    h.engine = std::make_unique<Engine>(rules_from(kHF5), h.log, h.counters, hub);
    ids.push_back(h.arrive(bp(200, 130, kT0)).front().alert.id);
  }
  EXPECT_NE(ids[0], ids[1]);
  EXPECT_EQ(ids[0], ids[2]);
}

TEST(Acknowledge, AnUnknownOrClosedAlertIsRefusedWithAReason) {
  Harness h(kHF5);
  auto tx = h.store->begin();
  ASSERT_TRUE(tx.has_value());
  auto unknown = h.engine->acknowledge(*h.store, "al-nope", kT0);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, Errc::not_found);
  ASSERT_TRUE(tx->commit().has_value());
  auto request = h.arrive(bp(200, 130, kT0)).front().alert;
  h.arrive(bp(150, 90, kT0 + 1min));  // resolved: the request is closed
  auto tx2 = h.store->begin();
  auto closed = h.engine->acknowledge(*h.store, request.id, kT0 + 2min);
  ASSERT_FALSE(closed.has_value());
  EXPECT_THAT(closed.error().message, ::testing::HasSubstr("already closed"));
}

}  // namespace
}  // namespace carehub::rules::test
