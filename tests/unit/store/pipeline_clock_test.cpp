// The pipeline's writer loop paces itself on the injected clock (store/pipeline.cpp): the hook is ticked
// once a heartbeat has passed on the clock, and retention's next pass waits for its interval on the
// clock. The heartbeat here is an hour of a ManualClock, so real time never makes anything due: each
// test submits an operation to wake the loop and reads what the clock made due.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>

#include "store/pipeline.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;

const TimePoint kTime = from_epoch_ms(1763719200000);  // 2025-11-21T10:00:00Z
constexpr auto kPatience = 10s;                         // only ever reached when a test is failing

class TickCounter final : public BatchHook {
 public:
  Result<std::vector<AlertEvent>> in_transaction(RuleStore&, const std::vector<StoredReading>&, TimePoint) override {
    return std::vector<AlertEvent>{};
  }
  Result<std::vector<AlertEvent>> tick(RuleStore&, TimePoint now) override {
    std::lock_guard lock(mu);
    ticks.push_back(now);
    return std::vector<AlertEvent>{};
  }
  Result<std::vector<AlertEvent>> judge_assigned(RuleStore&, const std::vector<StoredReading>&, TimePoint) override {
    return std::vector<AlertEvent>{};
  }
  std::vector<TimePoint> seen() {
    std::lock_guard lock(mu);
    return ticks;
  }

 private:
  std::mutex mu;
  std::vector<TimePoint> ticks;
};

class PipelineClock : public ::testing::Test {
 protected:
  void start(int retention_days = 0) {
    options.path = dir.file("buffer.db");
    options.retention_days = retention_days;
    writer = StoreWriter::open(options).value();
    PipelineOptions o;
    o.default_patient = "Patient/kit";
    o.heartbeat = 1h;
    pipeline = std::make_unique<Pipeline>(*writer, clock, log, counters, o);
    pipeline->set_batch_hook(hook);
    pipeline->start();
  }
  void TearDown() override {
    if (pipeline) pipeline->stop();
  }
  // Runs `op` through the loop and waits for its commit. The loop keeps its space (retention) after
  // answering, so a second call returns only once the first call's pass is done.
  void run(WriteOp op = [](StoreWriter&) -> Result<void> { return {}; }) {
    auto f = pipeline->apply(std::move(op));
    ASSERT_EQ(f.wait_for(kPatience), std::future_status::ready);
    auto r = f.get();
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  void settle() {
    run();
    run();
  }
  std::vector<StoredReading> readings() {
    return StoreReader::open(options).value()->readings({std::nullopt, 0, 1000, false}).value();
  }
  void ingest_synced(TimePoint t) {
    Reading r;
    r.kind = Kind::heart_rate;
    r.device = "ble-aa";
    r.time = t;
    r.received = t;
    r.source = "ble";
    r.values = {{"value", 70}};
    auto f = pipeline->ingest({r});
    ASSERT_EQ(f.wait_for(kPatience), std::future_status::ready);
    ASSERT_TRUE(f.get().has_value());
    const auto seq = readings().at(0).seq;
    run([seq](StoreWriter& w) { return w.mark_synced(seq, "Observation/1", kTime); });
  }

  test::TempDir dir;
  StoreOptions options;
  std::unique_ptr<StoreWriter> writer;
  Logger log{LogLevel::error, [](LogLevel, std::string_view, std::string_view) {}};
  Counters counters;
  ManualClock clock{kTime};
  TickCounter hook;
  std::unique_ptr<Pipeline> pipeline;
};

TEST_F(PipelineClock, TicksTheHookOnceAHeartbeatHasPassedOnItsClock) {
  start();
  run();  // the loop's first wake ticks
  EXPECT_THAT(hook.seen(), ElementsAre(kTime));
  clock.advance(1h - 1ms);
  run();
  EXPECT_THAT(hook.seen(), ElementsAre(kTime)) << "ticked before a heartbeat passed on the clock";
  clock.advance(1ms);
  run();  // ticked in the same transaction as this operation
  EXPECT_THAT(hook.seen(), ElementsAre(kTime, kTime + 1h));
  clock.advance(3h);
  run();
  EXPECT_THAT(hook.seen(), ElementsAre(kTime, kTime + 1h, kTime + 4h)) << "one tick per wake, however late";
}

TEST_F(PipelineClock, PacesRetentionOnItsClock) {
  start(1);
  ingest_synced(kTime - 48h);  // the first pass ran before it was synced
  settle();
  ASSERT_EQ(readings().size(), 1u) << "pruned before the next pass was due";
  clock.advance(10min);  // a pass that reached the newest reading waits this long
  settle();
  EXPECT_TRUE(readings().empty());
  EXPECT_EQ(pipeline->buffer_health().pruned, 1);
  EXPECT_EQ(counters.snapshot()["store_retention_pruned"], 1u);
}

}  // namespace
}  // namespace carehub
