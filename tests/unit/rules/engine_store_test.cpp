// The engine needs only RuleStore (store/rule_store.hpp): these run it on an in-memory store, where a
// failing write is one assignment away, and show that a store failure ends the evaluation with that
// failure (the pipeline then undoes the hook's savepoint) instead of announcing half of an episode.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/rules/fake_rule_store.hpp"
#include "tests/unit/rules/harness.hpp"

namespace carehub::rules::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::string kHF5 = R"({"rules": [{"id": "HF5", "type": "confirm-by-repeat", "kind": "blood-pressure",
    "bands": {"systolic": {"extreme_high": 200}, "diastolic": {"extreme_high": 130}}}]})";

StoredReading stored(Reading r, std::string uid) { return {0, std::move(uid), std::move(r), SyncState::pending, 0, {}, {}}; }

class EngineOnAFakeStore : public ::testing::Test {
 protected:
  Result<std::vector<AlertEvent>> judge(Reading r, const std::string& uid) {
    return engine.in_transaction(store, {stored(std::move(r), uid)}, kT0);
  }
  Logger log{LogLevel::error};
  Counters counters;
  Engine engine{rules_from(kHF5), log, counters};
  FakeRuleStore store;
};

TEST_F(EngineOnAFakeStore, KeepsAnEpisodeInTheStoreAndEndsItFromTheTick) {
  auto first = judge(bp(200, 130, kT0), "r1");
  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_THAT(names(*first), ElementsAre("repeat-request/info"));
  ASSERT_EQ(store.states.size(), 1u) << "the open episode lives in the store, not in the engine";
  EXPECT_EQ(store.states.begin()->second.due, kT0 + 10min);
  auto early = engine.tick(store, kT0 + 10min - 1ms);
  ASSERT_TRUE(early.has_value());
  EXPECT_THAT(*early, IsEmpty());
  auto due = engine.tick(store, kT0 + 10min);
  ASSERT_TRUE(due.has_value()) << due.error().message;
  EXPECT_THAT(names(*due), ElementsAre("closed/info", "alert/amber"));
  EXPECT_TRUE(store.states.empty());
}

TEST_F(EngineOnAFakeStore, AFailedWriteEndsTheEvaluationWithThatFailure) {
  store.fail_writes = make_error(Errc::io, "disk I/O error");
  auto r = judge(bp(200, 130, kT0), "r1");
  ASSERT_FALSE(r.has_value()) << "events announced for state that was never stored";
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_EQ(r.error().message, "disk I/O error");
}

TEST_F(EngineOnAFakeStore, AFailedWriteInTheTickEndsItWithThatFailure) {
  ASSERT_TRUE(judge(bp(200, 130, kT0), "r1").has_value());
  store.fail_writes = make_error(Errc::io, "disk I/O error");
  auto r = engine.tick(store, kT0 + 10min);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::io);
  store.fail_writes.reset();
  auto again = engine.tick(store, kT0 + 10min);  // what the pipeline does at the next heartbeat
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_THAT(names(*again), ElementsAre("closed/info", "alert/amber"));
}

}  // namespace
}  // namespace carehub::rules::test
