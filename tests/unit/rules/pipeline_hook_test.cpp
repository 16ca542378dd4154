// The engine in the pipeline's commit path: alerts commit with their readings, are announced only after
// the commit, and a failing rule never costs a reading.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>

#include "store/pipeline.hpp"
#include "tests/unit/rules/harness.hpp"

namespace carehub::rules::test {
namespace {

using ::testing::ElementsAre;

constexpr auto kPatience = std::chrono::seconds(10);  // reached only when a test is failing

const std::string kHF5 = R"({"rules": [{"id": "HF5", "type": "confirm-by-repeat", "kind": "blood-pressure",
    "bands": {"systolic": {"extreme_high": 200}, "diastolic": {"extreme_high": 130}}}]})";

class FailingHook final : public BatchHook {
 public:
  Result<std::vector<AlertEvent>> in_transaction(RuleStore& w, const std::vector<StoredReading>&, TimePoint) override {
    Alert a;
    a.id = "half-written";
    a.rule = "broken";
    (void)w.put_alert(a);  // written, then undone with the rest of the hook's savepoint
    return make_error(Errc::internal, "rule exploded");
  }
  Result<std::vector<AlertEvent>> tick(RuleStore&, TimePoint) override { return std::vector<AlertEvent>{}; }
  Result<std::vector<AlertEvent>> judge_assigned(RuleStore&, const std::vector<StoredReading>&, TimePoint) override {
    return make_error(Errc::internal, "rule exploded");
  }
};

class PipelineHook : public ::testing::Test {
 protected:
  void SetUp() override {
    options.path = dir.file("buffer.db");
    auto w = StoreWriter::open(options);
    ASSERT_TRUE(w.has_value());
    writer = std::move(*w);
  }
  void start(BatchHook& hook) {
    PipelineOptions o;
    o.default_patient = "Patient/kit";
    o.heartbeat = std::chrono::hours(1);  // ticks only when the test asks
    pipeline = std::make_unique<Pipeline>(*writer, clock, log, counters, o);
    pipeline->set_batch_hook(hook);
    pipeline->on_commit([this](const CommitSummary& s) {
      std::lock_guard lock(mu);
      for (const auto& e : s.alerts) {
        // At announcement time the alert must already be readable by anyone: it is committed.
        auto reader = StoreReader::open(options);
        auto found = (*reader)->find_alert(e.alert.id);
        committed_when_announced.push_back(found.has_value() && found->has_value());
        announced.push_back(e.event);
      }
    });
    pipeline->start();
  }
  void TearDown() override {
    if (pipeline) pipeline->stop();
  }
  IngestResult ingest(Reading r) {
    auto f = pipeline->ingest({std::move(r)});
    EXPECT_EQ(f.wait_for(kPatience), std::future_status::ready);
    auto res = f.get();
    EXPECT_TRUE(res.has_value());
    return res.has_value() ? *res : IngestResult{};
  }
  std::vector<std::string> announced_events() {
    std::lock_guard lock(mu);
    return announced;
  }

  carehub::test::TempDir dir;
  StoreOptions options;
  Logger log{LogLevel::error};
  Counters counters;
  ManualClock clock{kT0};
  std::unique_ptr<StoreWriter> writer;
  std::unique_ptr<Pipeline> pipeline;
  std::mutex mu;
  std::vector<std::string> announced;
  std::vector<bool> committed_when_announced;
};

TEST_F(PipelineHook, AlertsAreCommittedWithTheirReadingsAndAnnouncedOnlyAfterTheCommit) {
  Engine engine(rules_from(kHF5), log, counters);
  start(engine);
  auto first = ingest(bp(200, 130, kT0, ""));  // attributed to the kit's patient by the pipeline
  clock.set(kT0 + 4min);
  ingest(bp(200, 130, kT0 + 4min, ""));
  pipeline->stop();  // listeners have all run once stop() returns
  EXPECT_THAT(announced, ElementsAre("repeat-request", "closed", "alert"));
  EXPECT_THAT(committed_when_announced, ElementsAre(true, true, true));
  auto reader = StoreReader::open(options);
  auto alerts = (*reader)->alerts({});
  ASSERT_TRUE(alerts.has_value());
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ((*alerts)[0].patient, "Patient/kit");
  EXPECT_EQ((*alerts)[0].readings.front(), first.uids[0]);
}

TEST_F(PipelineHook, ADuplicateReadingReachesNoRule) {
  Engine engine(rules_from(kHF5), log, counters);
  start(engine);
  ingest(bp(200, 130, kT0, ""));
  auto again = ingest(bp(200, 130, kT0, ""));
  EXPECT_EQ(again.status[0], IngestStatus::duplicate);
  pipeline->stop();
  EXPECT_THAT(announced, ElementsAre("repeat-request"));
}

TEST_F(PipelineHook, DeadlinesFireFromTheTickOnTheInjectedClock) {
  Engine engine(rules_from(kHF5), log, counters);
  start(engine);
  ingest(bp(200, 130, kT0, ""));
  clock.set(kT0 + 10min - std::chrono::milliseconds(1));
  auto early = pipeline->tick();
  ASSERT_EQ(early.wait_for(kPatience), std::future_status::ready);
  auto none = early.get();
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  clock.set(kT0 + 10min);
  auto due = pipeline->tick();
  ASSERT_EQ(due.wait_for(kPatience), std::future_status::ready);
  auto events = due.get();
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].event, "alert");
  EXPECT_EQ((*events)[1].alert.severity, Severity::amber);
  EXPECT_EQ((*events)[1].time, kT0 + 10min);
  pipeline->stop();
  EXPECT_THAT(announced, ElementsAre("repeat-request", "closed", "alert"));
}

TEST_F(PipelineHook, AnAcknowledgementThroughThePipelineIsDurableAndAnnounced) {
  Engine engine(rules_from(kHF5), log, counters);
  start(engine);
  ingest(bp(200, 130, kT0, ""));
  ingest(bp(200, 130, kT0 + 1min, ""));
  auto reader = StoreReader::open(options);
  const auto red = (*(*reader)->alerts({}))[0];
  auto acked = pipeline->apply_alerts([&](StoreWriter& w) { return engine.acknowledge(w, red.id, clock.now()); });
  ASSERT_EQ(acked.wait_for(kPatience), std::future_status::ready);
  auto events = acked.get();
  ASSERT_TRUE(events.has_value());
  EXPECT_EQ(events->size(), 1u);
  EXPECT_EQ((*(*reader)->find_alert(red.id))->state, AlertState::acknowledged);
  pipeline->stop();
  EXPECT_EQ(announced.back(), "acknowledged");
}

// Issue 16: a patient's OK on the display and a technician acknowledging for the patient must be told
// apart afterwards (in the store, `carehubctl alerts --all` and the FHIR alert), not only in the log.
TEST_F(PipelineHook, AnAcknowledgementRecordsWhoAcknowledged) {
  Engine engine(rules_from(kHF5), log, counters);
  start(engine);
  ingest(bp(200, 130, kT0, ""));
  ingest(bp(200, 130, kT0 + 1min, ""));
  auto reader = StoreReader::open(options);
  const auto red = (*(*reader)->alerts({}))[0];
  const std::string by = "anna (technician, for the patient): patient phoned, feels fine";
  auto acked = pipeline->apply_alerts([&](StoreWriter& w) { return engine.acknowledge(w, red.id, clock.now(), by); });
  ASSERT_EQ(acked.wait_for(kPatience), std::future_status::ready);
  ASSERT_TRUE(acked.get().has_value());
  EXPECT_EQ((*(*reader)->find_alert(red.id))->acknowledged_by, by);
  auto again = pipeline->apply_alerts([&](StoreWriter& w) { return engine.acknowledge(w, red.id, clock.now(), "x"); });
  ASSERT_TRUE(again.get().has_value());
  EXPECT_EQ((*(*reader)->find_alert(red.id))->acknowledged_by, by) << "a second acknowledgement changes nothing";
  pipeline->stop();
}

// Issue 12, defect 5: one reading dated 2062 (a device clock, a typo) opened an episode in 2062, so every
// real extreme reading after it was "older than the episode" and no red alert was ever raised.
TEST_F(PipelineHook, AReadingDated2062IsQuarantinedUnjudgedAndARealExtremePairStillRaisesTheRedAlert) {
  Engine engine(rules_from(kHF5), log, counters);
  start(engine);
  auto future = bp(210, 130, from_epoch_ms(2917072800000), "");  // 2062-06-09T10:00:00Z
  future.received = kT0;
  const auto stored = ingest(future);
  EXPECT_EQ(stored.status[0], IngestStatus::stored) << "stored: nothing is lost";
  ingest(bp(200, 130, kT0, ""));
  clock.set(kT0 + 4min);
  ingest(bp(205, 130, kT0 + 4min, ""));
  pipeline->stop();
  EXPECT_THAT(announced, ElementsAre("repeat-request", "closed", "alert")) << "the 2062 reading is never judged";
  auto reader = StoreReader::open(options);
  auto alerts = (*reader)->alerts({});
  ASSERT_TRUE(alerts.has_value());
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ((*alerts)[0].severity, Severity::red);
  ReadingQuery q;
  q.uids = {stored.uids[0]};
  auto row = (*reader)->readings(q);
  ASSERT_TRUE(row.has_value());
  ASSERT_EQ(row->size(), 1u);
  EXPECT_EQ(to_string((*row)[0].state), "quarantined");
  EXPECT_EQ((*reader)->counts()->pending, 2) << "the quarantined reading waits for no upload";
}

TEST_F(PipelineHook, AFailingRuleNeverCostsAReadingAndLeavesNothingHalfWritten) {
  FailingHook hook;
  start(hook);
  auto r = ingest(bp(200, 130, kT0, ""));
  EXPECT_EQ(r.status[0], IngestStatus::stored);
  auto reader = StoreReader::open(options);
  EXPECT_EQ((*reader)->counts()->pending, 1);
  EXPECT_FALSE((*reader)->find_alert("half-written")->has_value());
  EXPECT_EQ(counters.snapshot()["rules_errors"], 1u);
}

}  // namespace
}  // namespace carehub::rules::test
