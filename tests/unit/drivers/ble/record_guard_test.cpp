// The resend guard's decisions, without BlueZ: the evidence a Manager would gather comes in as Known.
#include "drivers/ble/record_guard.hpp"

#include <gtest/gtest.h>

namespace carehub::ble {
namespace {

TimePoint at(const char* rfc3339) { return *parse_rfc3339(rfc3339); }

Converted record(std::vector<TimePoint> instants, std::optional<std::uint16_t> sequence = {}) {
  Converted c;
  Reading r;
  r.kind = Kind::glucose;
  r.values = {{"value", 100}};
  c.readings.push_back(r);
  c.device_times = std::move(instants);
  c.sequence = sequence;
  return c;
}

const Known kNothingStored = [](TimePoint) { return std::optional<bool>(false); };
const Known kStoreDown = [](TimePoint) { return std::optional<bool>(); };

class ARecordGuard : public ::testing::Test {
 protected:
  Judgement run(Converted& c, const Known& known) {
    for (auto& r : c.readings) r.received = r.time = received_;
    return judge(c, marks_, received_, options_, known);
  }
  TimeOptions options_;
  Device marks_;
  TimePoint received_ = at("2026-12-04T20:00:00Z");
};

TEST_F(ARecordGuard, TakesTheInstantAfterTheNewestStoredOfARepeatedWallTime) {
  const std::vector<TimePoint> both{at("2026-10-25T00:10:00Z"), at("2026-10-25T01:10:00Z")};
  EXPECT_EQ(pick_instant(both, at("2026-10-25T00:50:00Z"), at("2026-10-25T07:00:00Z"), options_), both[1]);
}

TEST_F(ARecordGuard, TakesTheLiveInstantWhenBothFollowTheNewestStored) {
  const std::vector<TimePoint> both{at("2026-10-25T00:30:00Z"), at("2026-10-25T01:30:00Z")};
  EXPECT_EQ(pick_instant(both, at("2026-10-24T18:00:00Z"), at("2026-10-25T01:30:30Z"), options_), both[1]);
  EXPECT_EQ(pick_instant(both, at("2026-10-24T18:00:00Z"), at("2026-10-25T00:30:30Z"), options_), both[0]);
}

TEST_F(ARecordGuard, TakesTheEarlierInstantWhenNothingElseTells) {
  const std::vector<TimePoint> both{at("2026-10-25T00:30:00Z"), at("2026-10-25T01:30:00Z")};
  EXPECT_EQ(pick_instant(both, std::nullopt, at("2026-10-25T09:00:00Z"), options_), both[0]);
}

TEST_F(ARecordGuard, DropsAMemoryRecordOlderThanTheNewestStoredWithoutAskingTheStore) {
  marks_.newest_record = at("2026-12-04T12:00:00Z");
  auto c = record({at("2026-12-04T11:00:00Z")});
  bool asked = false;
  EXPECT_EQ(run(c, [&](TimePoint) { return asked = true, std::optional<bool>(false); }).verdict, Verdict::resent);
  EXPECT_FALSE(asked);
}

// A multi-user monitor keeps one memory per user and sends them one after the other: user 2's newest
// record may be older than user 1's. The device-wide mark says nothing about user 2's memory, so its
// records are asked about, never dropped by order (they were, and user 2's readings were lost).
TEST_F(ARecordGuard, AsksTheStoreAboutAnOlderRecordOfAnotherUserSlotInsteadOfDroppingIt) {
  marks_.newest_record = at("2026-12-04T12:00:00Z");  // user 1's newest
  auto c = record({at("2026-12-04T11:00:00Z")});
  c.readings[0].user = 2;
  bool asked = false;
  const auto j = run(c, [&](TimePoint) { return asked = true, std::optional<bool>(false); });
  EXPECT_EQ(j.verdict, Verdict::fresh);
  EXPECT_TRUE(asked);
  EXPECT_FALSE(j.went_back) << "another user's memory is not a clock that went back";
  EXPECT_EQ(c.readings[0].time, at("2026-12-04T11:00:00Z"));
  EXPECT_EQ(marks_.newest_record, at("2026-12-04T12:00:00Z"));
}

TEST_F(ARecordGuard, DropsAnOlderRecordOfAUserSlotThatTheStoreHolds) {
  marks_.newest_record = at("2026-12-04T12:00:00Z");
  auto c = record({at("2026-12-04T11:00:00Z")});
  c.readings[0].user = 2;
  EXPECT_EQ(run(c, [](TimePoint) { return std::optional<bool>(true); }).verdict, Verdict::resent);
}

TEST_F(ARecordGuard, KeepsALiveReadingFromAClockThatWentBackEvenWhenTheStoreCannotSay) {
  marks_.newest_record = at("2026-12-04T20:30:00Z");  // stamped by a clock running fast, since put right
  auto c = record({at("2026-12-04T19:59:00Z")});
  auto j = run(c, kStoreDown);
  EXPECT_EQ(j.verdict, Verdict::fresh) << "its identity holds its device time: the pipeline drops a true resend";
  EXPECT_EQ(c.readings[0].time, at("2026-12-04T19:59:00Z"));
  EXPECT_EQ(marks_.newest_record, at("2026-12-04T20:30:00Z"));
  auto again = record({at("2026-12-04T19:59:30Z")});
  j = run(again, kNothingStored);
  EXPECT_EQ(j.verdict, Verdict::fresh);
  EXPECT_TRUE(j.went_back);
}

TEST_F(ARecordGuard, SetsAsideAWrongClockRecordTheStoreCannotCheck) {
  auto c = record({at("2024-01-01T00:02:00Z")});
  EXPECT_EQ(run(c, kStoreDown).verdict, Verdict::set_aside);
  auto ahead = record({at("2028-12-03T09:00:00Z")});
  EXPECT_EQ(run(ahead, kStoreDown).verdict, Verdict::set_aside);
}

TEST_F(ARecordGuard, PlacesAWrongClockRecordAtItsReceiveTimeAndNeverMovesTheMarkWithIt) {
  marks_.newest_record = at("2026-12-04T08:00:00Z");
  for (const char* wrong : {"2024-01-01T00:02:00Z", "2028-12-03T09:00:00Z", "1999-12-31T23:00:00Z"}) {
    auto c = record({at(wrong)});
    const auto j = run(c, kNothingStored);
    EXPECT_EQ(j.verdict, Verdict::fresh) << wrong;
    EXPECT_NE(j.clock, DeviceClock::usable) << wrong;
    EXPECT_EQ(c.readings[0].time, received_) << wrong;
    EXPECT_EQ(c.readings[0].device_time, at(wrong)) << wrong;
    EXPECT_FALSE(j.marks_changed) << wrong;
  }
  EXPECT_EQ(marks_.newest_record, at("2026-12-04T08:00:00Z"));
}

TEST_F(ARecordGuard, DropsWhatTheStoreHolds) {
  marks_.newest_record = at("2026-12-04T12:00:00Z");
  auto c = record({at("2026-12-04T11:00:00Z")});
  EXPECT_EQ(run(c, [](TimePoint t) { return std::optional<bool>(t == at("2026-12-04T11:00:00Z")); }).verdict,
            Verdict::resent);
}

TEST_F(ARecordGuard, AsksTheStoreAboutBothInstantsOfARepeatedWallTime) {
  // Sent live, behind a newest record stamped by a clock that ran an hour fast: the guard takes the
  // later instant, but the copy it stored before may hold the other one.
  received_ = at("2026-10-25T01:32:00Z");
  marks_.newest_record = at("2026-10-25T02:40:00Z");
  auto c = record({at("2026-10-25T00:30:00Z"), at("2026-10-25T01:30:00Z")});
  EXPECT_EQ(run(c, [](TimePoint t) { return std::optional<bool>(t == at("2026-10-25T00:30:00Z")); }).verdict,
            Verdict::resent);
}

TEST_F(ARecordGuard, TellsASequenceWrapFromARestartAndFollowsTheDevicesNumbering) {
  marks_.newest_sequence = 65535;
  auto wrapped = record({at("2026-12-04T19:00:00Z")}, 0);
  EXPECT_EQ(run(wrapped, [](TimePoint) { return std::optional<bool>(); }).sequence, Sequence::wrapped)
      << "0 follows 65535: new without asking the store";
  EXPECT_EQ(marks_.newest_sequence, 0);
  auto before_wrap = record({at("2026-12-04T18:00:00Z")}, 65535);
  EXPECT_EQ(run(before_wrap, [](TimePoint) { return std::optional<bool>(true); }).verdict, Verdict::resent);
  marks_.newest_sequence = 250;
  auto restarted = record({at("2026-12-04T19:30:00Z")}, 1);
  const auto j = run(restarted, kNothingStored);
  EXPECT_EQ(j.sequence, Sequence::restarted);
  EXPECT_EQ(j.verdict, Verdict::fresh);
  EXPECT_EQ(marks_.newest_sequence, 1) << "so that asking for records after it works again";
}

TEST_F(ARecordGuard, LeavesTheSequenceMarkWhenTheStoreCannotSay) {
  marks_.newest_sequence = 250;
  marks_.newest_record = at("2026-12-04T19:00:00Z");
  auto c = record({at("2026-12-04T18:00:00Z")}, 1);
  const auto j = run(c, kStoreDown);
  EXPECT_EQ(j.verdict, Verdict::fresh);
  EXPECT_EQ(marks_.newest_sequence, 250);
}

TEST_F(ARecordGuard, AlwaysKeepsARecordWithNeitherTimeNorSequence) {
  marks_.newest_record = at("2026-12-04T19:00:00Z");
  auto c = record({});
  EXPECT_EQ(run(c, kStoreDown).verdict, Verdict::fresh);
  EXPECT_EQ(c.readings[0].time, received_);
}

}  // namespace
}  // namespace carehub::ble
