#include "store/pipeline.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>

#include "tests/support/fixtures.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const TimePoint kTime = from_epoch_ms(1763719200000);  // 2025-11-21T10:00:00Z
constexpr auto kPatience = 10s;                         // only ever reached when a test is failing

Reading heart_rate(double bpm, int minute = 0, std::string device = "ble-aa") {
  return test::heart_rate(bpm, kTime + std::chrono::minutes(minute), {.device = std::move(device), .source = "ble"});
}

// Stops the pipeline when a test body ends, however it ends: declared after the locals its listeners
// capture, it runs before they are destroyed.
struct StopOnExit {
  Pipeline& pipeline;
  ~StopOnExit() { pipeline.stop(); }
};

template <class T>
bool ready(std::future<T>& f, std::chrono::milliseconds within = kPatience) {
  return f.wait_for(within) == std::future_status::ready;
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_options.path = dir.file("buffer.db");
    auto w = StoreWriter::open(store_options);
    ASSERT_TRUE(w.has_value()) << w.error().message;
    writer = std::move(*w);
  }
  void TearDown() override {
    if (pipeline) pipeline->stop();
    pipeline.reset();
  }
  static PipelineOptions defaults() {
    PipelineOptions o;
    o.default_patient = "Patient/kit";
    return o;
  }
  void make_pipeline(PipelineOptions o = defaults(), const Clock& clock = system_clock) {
    pipeline = std::make_unique<Pipeline>(*writer, clock, log, counters, std::move(o));
  }
  IngestResult ingest_and_wait(std::vector<Reading> rs) {
    auto f = pipeline->ingest(std::move(rs));
    EXPECT_TRUE(ready(f)) << "ingest never resolved";
    auto r = f.get();
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r.has_value() ? *r : IngestResult{};
  }
  // A fresh connection each time: what any other component would see.
  std::vector<StoredReading> stored() {
    auto reader = StoreReader::open(store_options);
    EXPECT_TRUE(reader.has_value());
    auto rs = (*reader)->readings({std::nullopt, 0, 100000, false});
    EXPECT_TRUE(rs.has_value());
    return rs.has_value() ? *rs : std::vector<StoredReading>{};
  }
  std::optional<std::string> meta(const std::string& key) {
    auto reader = StoreReader::open(store_options);
    return (*reader)->meta(key).value();
  }

  test::TempDir dir;
  StoreOptions store_options;
  std::unique_ptr<StoreWriter> writer;
  Logger log{LogLevel::debug, [](LogLevel, std::string_view, std::string_view) {}};
  Counters counters;
  static inline const SystemClock system_clock{};
  std::unique_ptr<Pipeline> pipeline;
};

TEST_F(PipelineTest, ResolvesAnIngestOnlyOnceAFreshReaderCanSeeTheReading) {
  make_pipeline();
  pipeline->start();
  const auto r = heart_rate(72);
  const auto result = ingest_and_wait({r});
  ASSERT_THAT(result.status, ElementsAre(IngestStatus::stored));
  ASSERT_EQ(result.uids.size(), 1u);
  EXPECT_THAT(result.errors, ElementsAre(""));
  const auto rows = stored();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].uid, result.uids[0]);
  EXPECT_EQ(rows[0].reading.values, r.values);
  EXPECT_EQ(rows[0].state, SyncState::pending);
}

TEST_F(PipelineTest, GivesTheUidOfTheAttributedReading) {
  make_pipeline();
  pipeline->start();
  const auto result = ingest_and_wait({heart_rate(72)});
  auto attributed = heart_rate(72);
  attributed.patient = "Patient/kit";
  EXPECT_THAT(result.uids, ElementsAre(reading_uid(attributed)));
}

TEST_F(PipelineTest, ReportsARepeatedReadingAsADuplicateWithTheSameUid) {
  make_pipeline();
  pipeline->start();
  const auto first = ingest_and_wait({heart_rate(72)});
  const auto again = ingest_and_wait({heart_rate(72), heart_rate(80, 1), heart_rate(80, 1)});
  EXPECT_THAT(again.status, ElementsAre(IngestStatus::duplicate, IngestStatus::stored, IngestStatus::duplicate));
  EXPECT_EQ(again.uids[0], first.uids[0]);
  EXPECT_EQ(again.uids[1], again.uids[2]);
  EXPECT_EQ(stored().size(), 2u);
}

TEST_F(PipelineTest, RejectsAnInvalidReadingAloneWhileTheOthersInTheBatchAreStored) {
  make_pipeline();
  pipeline->start();
  const auto result = ingest_and_wait({heart_rate(72, 0), heart_rate(999, 1), heart_rate(74, 2)});
  EXPECT_THAT(result.status, ElementsAre(IngestStatus::stored, IngestStatus::rejected, IngestStatus::stored));
  EXPECT_EQ(result.uids[1], "");
  EXPECT_EQ(result.errors[0], "");
  EXPECT_THAT(result.errors[1], HasSubstr("value = 999"));
  EXPECT_EQ(result.errors[2], "");
  const auto rows = stored();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].reading.values.at("value"), 72);
  EXPECT_EQ(rows[1].reading.values.at("value"), 74);
}

// Invariant 8: a device clock set decades ahead (or a typo) must not be believed, nor lost.
TEST_F(PipelineTest, StoresAReadingDatedFarAheadOfItsReceiptAsQuarantinedCountedAndNotPending) {
  make_pipeline();
  pipeline->start();
  auto future = heart_rate(72);
  future.time = from_epoch_ms(2917072800000);  // 2062-06-09T10:00:00Z, received at kTime
  const auto result = ingest_and_wait({future, heart_rate(74, 1)});
  EXPECT_THAT(result.status, ElementsAre(IngestStatus::stored, IngestStatus::stored)) << "nothing is lost";
  EXPECT_THAT(result.errors[0], HasSubstr("quarantined"));
  EXPECT_EQ(result.errors[1], "");
  const auto rows = stored();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(to_string(rows[0].state), "quarantined");
  EXPECT_THAT(rows[0].quarantine_reason, HasSubstr("2062-06-09T10:00:00Z"));
  EXPECT_EQ(rows[0].reading.time, future.time) << "kept as the device sent it, for the technician";
  EXPECT_EQ(to_string(rows[1].state), "pending");
  auto reader = StoreReader::open(store_options);
  const auto counts = (*reader)->counts().value();
  EXPECT_EQ(counts.pending, 1) << "a quarantined reading never waits for the uploader";
  EXPECT_EQ(counts.quarantined, 1);
  EXPECT_EQ(counters.snapshot()["readings_quarantined"], 1u);
  EXPECT_EQ(counters.snapshot()["readings_stored"], 2u);
}

TEST_F(PipelineTest, BelievesADeviceClockUpToTheToleranceAheadOfReceiptAndNotOneMillisecondMore) {
  make_pipeline();
  pipeline->start();
  auto at_limit = heart_rate(72);
  at_limit.time = at_limit.received + std::chrono::minutes(5);
  auto beyond = heart_rate(73);
  beyond.time = beyond.received + std::chrono::minutes(5) + 1ms;
  ingest_and_wait({at_limit, beyond});
  const auto rows = stored();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(to_string(rows[0].state), "pending");
  EXPECT_EQ(to_string(rows[1].state), "quarantined");
}

TEST_F(PipelineTest, TakesItsToleranceForADeviceClockAheadFromItsOptions) {
  auto o = defaults();
  o.max_future = std::chrono::minutes(1);
  make_pipeline(o);
  pipeline->start();
  auto at_limit = heart_rate(72);
  at_limit.time = at_limit.received + std::chrono::minutes(1);
  auto beyond = heart_rate(73);
  beyond.time = beyond.received + std::chrono::minutes(1) + 1ms;
  ingest_and_wait({at_limit, beyond});
  const auto rows = stored();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].state, SyncState::pending);
  EXPECT_EQ(rows[1].state, SyncState::quarantined);
  EXPECT_THAT(rows[1].quarantine_reason, HasSubstr("tolerance 60 s"));
}

TEST_F(PipelineTest, ReportsARepeatOfAQuarantinedReadingAsADuplicateAndCountsItOnce) {
  make_pipeline();
  pipeline->start();
  auto future = heart_rate(72);
  future.time = from_epoch_ms(2917072800000);
  ingest_and_wait({future});
  const auto again = ingest_and_wait({future});
  EXPECT_THAT(again.status, ElementsAre(IngestStatus::duplicate));
  EXPECT_EQ(counters.snapshot()["readings_quarantined"], 1u);
  auto reader = StoreReader::open(store_options);
  EXPECT_EQ((*reader)->counts()->quarantined, 1);
}

TEST_F(PipelineTest, BoundsAReadingWithoutAReceiveTimeByThePipelineClock) {
  make_pipeline();
  pipeline->start();
  auto r = heart_rate(72);
  r.received = TimePoint{};  // a producer that did not stamp it: the pipeline's own clock is the receipt
  r.time = std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()) + std::chrono::hours(24 * 365);
  ingest_and_wait({r, heart_rate(74)});
  const auto rows = stored();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(to_string(rows[0].state), "quarantined");
  EXPECT_EQ(to_string(rows[1].state), "pending");
}

TEST_F(PipelineTest, AttributesARegisteredDevicesReadingsToItsPatientAndOthersToTheDefault) {
  make_pipeline();
  pipeline->load_devices({Device{"ble-cuff", "", "", "", "", "", "Patient/spouse", std::nullopt},
                          Device{"ble-scale", "", "", "", "", "", "", std::nullopt}});
  pipeline->start();
  ingest_and_wait({heart_rate(70, 0, "ble-cuff"), heart_rate(71, 1, "ble-scale"), heart_rate(72, 2, "ble-unknown"),
                   heart_rate(73, 3, "manual")});
  const auto rows = stored();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].reading.patient, "Patient/spouse");
  EXPECT_EQ(rows[1].reading.patient, "Patient/kit") << "bound to no patient: the kit's";
  EXPECT_EQ(rows[2].reading.patient, "Patient/kit");
  EXPECT_EQ(rows[3].reading.patient, "Patient/kit");
}

TEST_F(PipelineTest, KeepsAPatientTheReadingAlreadyNames) {
  make_pipeline();
  pipeline->load_devices({Device{"ble-cuff", "", "", "", "", "", "Patient/spouse", std::nullopt}});
  pipeline->start();
  auto r = heart_rate(70, 0, "ble-cuff");
  r.patient = "Patient/visitor";
  ingest_and_wait({r});
  EXPECT_EQ(stored().at(0).reading.patient, "Patient/visitor");
}

TEST_F(PipelineTest, FollowsRegistryChangesMadeThroughThePipeline) {
  // Registered before it measures: its readings are its patient's (attribution_test covers the others).
  ManualClock clock(kTime - std::chrono::hours(1));
  make_pipeline(defaults(), clock);
  StopOnExit stop{*pipeline};  // before `clock` goes
  pipeline->start();
  auto up = pipeline->upsert_device(Device{"ble-cuff", "AA:BB:CC:DD:EE:FF", "cuff", "", "", "", "Patient/spouse", kTime});
  ASSERT_TRUE(ready(up));
  ASSERT_TRUE(up.get().has_value());
  ingest_and_wait({heart_rate(70, 0, "ble-cuff")});

  auto removed_result = pipeline->remove_device("ble-cuff").get();
  ASSERT_TRUE(removed_result.has_value()) << removed_result.error().message;
  EXPECT_TRUE(*removed_result);
  ingest_and_wait({heart_rate(71, 1, "ble-cuff")});

  EXPECT_EQ(pipeline->remove_device("ble-cuff").get().value(), false);

  const auto rows = stored();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].reading.patient, "Patient/spouse");
  EXPECT_EQ(rows[1].reading.patient, "Patient/kit");
  auto reader = StoreReader::open(store_options);
  EXPECT_TRUE((*reader)->devices().value().empty());
}

// remove_device() returns a std::launch::deferred future: wait_for()/wait_until() report
// future_status::deferred for ever and the removal only happens inside get(), on the caller's thread. A
// caller waiting with a timeout (a control-socket handler) would always see a timeout.
TEST_F(PipelineTest, AnswersRemoveDeviceWithAFutureThatBecomesReady) {
  make_pipeline();
  pipeline->start();
  auto up = pipeline->upsert_device(Device{"ble-cuff", "", "", "", "", "", "Patient/spouse", std::nullopt});
  ASSERT_TRUE(ready(up));
  auto removed = pipeline->remove_device("ble-cuff");
  ASSERT_NE(removed.wait_for(0ms), std::future_status::deferred) << "remove_device() returned a deferred future";
  ASSERT_TRUE(ready(removed));
  EXPECT_EQ(removed.get().value(), true);
}

TEST_F(PipelineTest, RollsBackAFailingWriteOpToItsSavepointWhileTheRestOfTheBatchCommits) {
  make_pipeline();
  std::vector<CommitSummary> commits;
  pipeline->on_commit([&](const CommitSummary& s) { commits.push_back(s); });
  StopOnExit stop_on_exit{*pipeline};
  // Queued before start, so the writer takes all four in one transaction.
  auto r1 = pipeline->ingest({heart_rate(70, 0)});
  auto bad = pipeline->apply([](StoreWriter& w) -> Result<void> {
    if (auto r = w.put_meta("half-done", "yes"); !r) return r;
    return make_error(Errc::invalid_argument, "op failed after writing");
  });
  auto r2 = pipeline->ingest({heart_rate(71, 1)});
  auto good = pipeline->apply([](StoreWriter& w) { return w.put_meta("done", "yes"); });
  pipeline->start();
  ASSERT_TRUE(ready(r1) && ready(bad) && ready(r2) && ready(good));
  EXPECT_TRUE(r1.get().has_value());
  EXPECT_TRUE(r2.get().has_value());
  EXPECT_TRUE(good.get().has_value());
  auto bad_result = bad.get();
  ASSERT_FALSE(bad_result.has_value());
  EXPECT_EQ(bad_result.error().message, "op failed after writing");
  pipeline->stop();
  ASSERT_EQ(commits.size(), 1u) << "all four jobs must share one transaction for this test to mean anything";
  EXPECT_EQ(commits[0].stored, 2u);
  EXPECT_EQ(commits[0].ops, 2u);
  EXPECT_EQ(stored().size(), 2u);
  EXPECT_EQ(meta("half-done"), std::nullopt);
  EXPECT_EQ(meta("done"), "yes");
}

TEST_F(PipelineTest, CommitsEverythingQueuedBeforeStopReturns) {
  make_pipeline();
  pipeline->start();
  std::vector<std::future<Result<IngestResult>>> futures;
  for (int job = 0; job < 50; ++job) {
    std::vector<Reading> batch;
    for (int i = 0; i < 10; ++i) batch.push_back(heart_rate(60 + i, job * 10 + i));
    futures.push_back(pipeline->ingest(std::move(batch)));
  }
  pipeline->stop();
  for (auto& f : futures) {
    ASSERT_TRUE(ready(f, 0ms)) << "stop() returned before answering a queued ingest";
    auto r = f.get();
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  EXPECT_EQ(stored().size(), 500u);
  EXPECT_EQ(pipeline->queued(), 0u);
}

TEST_F(PipelineTest, FailsAnIngestAfterStopWithUnavailable) {
  make_pipeline();
  pipeline->start();
  pipeline->stop();
  auto f = pipeline->ingest({heart_rate(70)});
  ASSERT_TRUE(ready(f, 0ms));
  auto r = f.get();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::unavailable);
  EXPECT_TRUE(stored().empty());
}

TEST_F(PipelineTest, AnswersWorkQueuedOnAPipelineThatNeverStartedWhenItStops) {
  make_pipeline();
  auto f = pipeline->ingest({heart_rate(70)});
  auto op = pipeline->apply([](StoreWriter& w) { return w.put_meta("k", "v"); });
  pipeline->stop();
  ASSERT_TRUE(ready(f, 0ms));
  ASSERT_TRUE(ready(op, 0ms));
  EXPECT_EQ(f.get().error().code, Errc::unavailable);
  EXPECT_EQ(op.get().error().code, Errc::unavailable);
  EXPECT_TRUE(stored().empty());
}

// A write op handed to a pipeline whose writer has already exited sits in the queue unanswered until the
// Pipeline is destroyed: whoever waits on it (the uploader records sync outcomes with apply().get())
// blocks forever. It must fail at once with Errc::unavailable, as ingest does.
TEST_F(PipelineTest, FailsAWriteOpAfterStopWithUnavailable) {
  make_pipeline();
  pipeline->start();
  pipeline->stop();
  auto f = pipeline->apply([](StoreWriter& w) { return w.put_meta("late", "yes"); });
  ASSERT_TRUE(ready(f, 2s)) << "apply() after stop() is never answered";
  auto r = f.get();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::unavailable);
}

TEST_F(PipelineTest, ReleasesAProducerBlockedOnAFullQueueWhenItStops) {
  auto o = defaults();
  o.queue_capacity = 1;
  make_pipeline(o);
  auto first = pipeline->ingest({heart_rate(70, 0)});  // fills the queue: nothing drains it yet
  auto blocked = std::async(std::launch::async, [&] { return pipeline->ingest({heart_rate(71, 1)}).get(); });
  pipeline->stop();
  ASSERT_TRUE(ready(blocked));
  EXPECT_EQ(blocked.get().error().code, Errc::unavailable);
  EXPECT_EQ(first.get().error().code, Errc::unavailable);
}

TEST_F(PipelineTest, ReleasesAProducerBlockedOnAFullQueueOnceTheWriterDrainsIt) {
  auto o = defaults();
  o.queue_capacity = 1;
  make_pipeline(o);
  auto first = pipeline->ingest({heart_rate(70, 0)});
  auto second = std::async(std::launch::async, [&] { return pipeline->ingest({heart_rate(71, 1)}).get(); });
  pipeline->start();
  ASSERT_TRUE(ready(first));
  ASSERT_TRUE(ready(second));
  EXPECT_TRUE(first.get().has_value());
  EXPECT_TRUE(second.get().has_value());
  EXPECT_EQ(stored().size(), 2u);
}

TEST_F(PipelineTest, AcceptsOneJobLargerThanTheWholeQueueAndCountsItsReadings) {
  auto o = defaults();
  o.queue_capacity = 2;
  make_pipeline(o);
  auto f = pipeline->ingest({heart_rate(70, 0), heart_rate(71, 1), heart_rate(72, 2), heart_rate(73, 3)});
  EXPECT_EQ(pipeline->queued(), 4u);
  pipeline->start();
  ASSERT_TRUE(ready(f));
  EXPECT_TRUE(f.get().has_value());
  EXPECT_EQ(pipeline->queued(), 0u);
  EXPECT_EQ(stored().size(), 4u);
}

TEST_F(PipelineTest, TellsCommitListenersWhatEachCommitHeldAndCountsIt) {
  make_pipeline();
  std::promise<CommitSummary> first_commit;
  std::atomic<bool> told{false};
  pipeline->on_commit([&](const CommitSummary& s) {
    if (!told.exchange(true)) first_commit.set_value(s);
  });
  StopOnExit stop_on_exit{*pipeline};
  auto ingest = pipeline->ingest({heart_rate(70, 0), heart_rate(70, 0), heart_rate(-5, 1), heart_rate(71, 2)});
  auto op = pipeline->apply([](StoreWriter& w) { return w.put_meta("k", "v"); });
  pipeline->start();
  auto summary_future = first_commit.get_future();
  ASSERT_TRUE(ready(summary_future));
  const auto s = summary_future.get();
  EXPECT_EQ(s.stored, 2u);
  EXPECT_EQ(s.duplicates, 1u);
  EXPECT_EQ(s.rejected, 1u);
  EXPECT_EQ(s.ops, 1u);
  pipeline->stop();
  const auto snap = counters.snapshot();
  EXPECT_EQ(snap.at("pipeline_commits"), 1u);
  EXPECT_EQ(snap.at("readings_stored"), 2u);
  EXPECT_EQ(snap.at("readings_duplicate"), 1u);
  EXPECT_EQ(snap.at("readings_rejected"), 1u);
}

TEST_F(PipelineTest, RunsCommitListenersOnlyOnceTheBatchIsDurable) {
  make_pipeline();
  std::promise<std::size_t> visible;
  std::atomic<bool> told{false};
  pipeline->on_commit([&](const CommitSummary&) {
    if (told.exchange(true)) return;
    auto reader = StoreReader::open(store_options);
    visible.set_value(reader.has_value() ? (*reader)->readings({std::nullopt, 0, 100, false}).value().size() : 0);
  });
  StopOnExit stop_on_exit{*pipeline};
  pipeline->start();
  auto f = pipeline->ingest({heart_rate(70, 0), heart_rate(71, 1)});
  auto seen = visible.get_future();
  ASSERT_TRUE(ready(seen));
  EXPECT_EQ(seen.get(), 2u) << "a listener (the uploader's wake-up) must find the committed readings";
  pipeline->stop();
}

TEST_F(PipelineTest, SplitsGroupCommitsAtMaxBatchButNeverSplitsOneJob) {
  auto o = defaults();
  o.max_batch = 2;
  make_pipeline(o);
  std::mutex mu;
  std::vector<std::size_t> stored_per_commit;
  pipeline->on_commit([&](const CommitSummary& s) {
    std::lock_guard lock(mu);
    stored_per_commit.push_back(s.stored);
  });
  StopOnExit stop_on_exit{*pipeline};
  std::vector<std::future<Result<IngestResult>>> fs;
  fs.push_back(pipeline->ingest({heart_rate(70, 0), heart_rate(71, 1)}));
  fs.push_back(pipeline->ingest({heart_rate(72, 2)}));
  fs.push_back(pipeline->ingest({heart_rate(73, 3)}));
  fs.push_back(pipeline->ingest({heart_rate(74, 4), heart_rate(75, 5), heart_rate(76, 6)}));
  pipeline->start();
  for (auto& f : fs) ASSERT_TRUE(ready(f));
  pipeline->stop();
  std::lock_guard lock(mu);
  EXPECT_THAT(stored_per_commit, ElementsAre(2u, 2u, 3u));
  EXPECT_EQ(counters.snapshot().at("pipeline_commits"), 3u);
}

TEST_F(PipelineTest, RunsTheHeartbeatWhileIdle) {
  auto o = defaults();
  o.heartbeat = 5ms;
  make_pipeline(o);
  std::promise<void> beating;
  std::atomic<int> beats{0};
  pipeline->on_heartbeat([&] {
    if (++beats == 3) beating.set_value();
  });
  StopOnExit stop_on_exit{*pipeline};
  pipeline->start();  // and never given any work
  auto f = beating.get_future();
  EXPECT_TRUE(ready(f)) << "only " << beats.load() << " heartbeats";
  pipeline->stop();
  EXPECT_EQ(counters.snapshot().count("pipeline_commits"), 0u) << "an idle heartbeat commits nothing";
}

TEST_F(PipelineTest, StopsPromptlyWhenIdleEvenWithALongHeartbeat) {
  auto o = defaults();
  o.heartbeat = std::chrono::hours(1);
  make_pipeline(o);
  pipeline->start();
  auto stopped = std::async(std::launch::async, [&] { pipeline->stop(); });
  EXPECT_TRUE(ready(stopped)) << "stop() waited for the heartbeat interval";
}

}  // namespace
}  // namespace carehub
