// The simulator as the daemon runs it: rounds on a ManualClock, readings into a recording sink, status.
#include "drivers/sim/source.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

namespace carehub::sim {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

const TimePoint kT0 = from_epoch_ms(1'795'255'200'000);  // 2026-11-21T10:00:00Z

// Records every batch and answers each with `answer` (stored unless the test changes it).
class RecordingSink final : public ReadingSink {
 public:
  std::future<Result<IngestResult>> ingest(std::vector<Reading> readings) override {
    std::promise<Result<IngestResult>> p;
    {
      std::lock_guard lock(mu_);
      if (fail_) {
        p.set_value(make_error(Errc::unavailable, "disk full"));
      } else {
        IngestResult r;
        for (std::size_t i = 0; i < readings.size(); ++i) {
          const bool reject = reject_first_ && i == 0;
          r.uids.push_back(reject ? "" : "uid");
          r.status.push_back(reject ? IngestStatus::rejected : IngestStatus::stored);
          r.errors.push_back(reject ? "time in the future" : "");
        }
        p.set_value(std::move(r));
      }
      batches_.push_back(std::move(readings));
    }
    cv_.notify_all();
    return p.get_future();
  }
  std::future<Result<void>> upsert_device(Device) override { return {}; }
  std::future<Result<bool>> remove_device(std::string) override { return {}; }

  // Waits (bounded, for a broken driver) until `n` batches arrived.
  bool wait_batches(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return batches_.size() >= n; });
  }
  std::vector<std::vector<Reading>> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }
  void fail(bool on) {
    std::lock_guard lock(mu_);
    fail_ = on;
  }
  void reject_first(bool on) {
    std::lock_guard lock(mu_);
    reject_first_ = on;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::vector<Reading>> batches_;
  bool fail_ = false;
  bool reject_first_ = false;
};

struct ASimSource : ::testing::Test {
  RecordingSink sink;
  ManualClock clock{kT0};
  Logger log{LogLevel::error, [](LogLevel, std::string_view, std::string_view) {}};
  Counters counters;
  SourceContext context{sink, clock, log, counters, "hub-1", "Patient/p1"};

  std::unique_ptr<Source> make(const json& config) {
    auto made = make_sim_source(config, "/sources/sim", context);
    EXPECT_TRUE(made) << made.error().message;
    return made ? std::move(*made) : nullptr;
  }
};

const json kConfig = json::parse(R"({"device": "demo", "interval_s": 30, "readings": [
    {"kind": "blood-pressure", "values": {"systolic": 128, "diastolic": 84}},
    {"kind": "heart-rate", "values": {"value": 71}}]})");

TEST_F(ASimSource, EmitsOneRoundAtStartAndOneEveryIntervalOnItsClock) {
  auto source = make(kConfig);
  ASSERT_TRUE(source);
  ASSERT_TRUE(source->start());
  ASSERT_TRUE(sink.wait_batches(1));
  auto first = sink.batches().at(0);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].kind, Kind::blood_pressure);
  EXPECT_EQ(first[0].values.at("systolic"), 128);
  EXPECT_EQ(first[0].device, "demo");
  EXPECT_EQ(first[0].source, "sim");
  EXPECT_EQ(first[0].time, kT0);
  EXPECT_EQ(first[0].received, kT0);
  EXPECT_EQ(first[1].kind, Kind::heart_rate);

  // A round due before the interval had passed would carry the earlier time.
  clock.advance(std::chrono::milliseconds(29'999));
  clock.advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(sink.wait_batches(2));
  EXPECT_EQ(sink.batches().at(1).at(0).time, kT0 + std::chrono::seconds(30));
  source->stop();  // joins: every round's outcome is counted now
  EXPECT_EQ(sink.batches().size(), 2u);

  const auto status = source->status();
  EXPECT_EQ(status["state"], "stopped");
  EXPECT_EQ(status["device"], "demo");
  EXPECT_EQ(status["interval_s"], 30);
  EXPECT_EQ(status["rounds"], 2);
  EXPECT_EQ(status["readings"], 4);
  EXPECT_EQ(status["last_reading"], "2026-11-21T10:00:30Z");
  EXPECT_EQ(status["last_error"], "");
  EXPECT_EQ(counters.get("sim_readings").load(), 4u);
}

TEST_F(ASimSource, SaysInStatusWhenTheSinkFails) {
  sink.fail(true);
  auto source = make(kConfig);
  ASSERT_TRUE(source);
  ASSERT_TRUE(source->start());
  ASSERT_TRUE(sink.wait_batches(1));
  source->stop();
  const auto status = source->status();
  EXPECT_THAT(status["last_error"].get<std::string>(), HasSubstr("not stored: disk full"));
  EXPECT_EQ(status["readings"], 0);
  EXPECT_EQ(status["last_reading"], nullptr);
  EXPECT_EQ(counters.get("sim_ingest_errors").load(), 1u);
}

TEST_F(ASimSource, CountsRejectedReadingsWithoutTheReasonAndKeepsGoing) {
  sink.fail(true);
  auto source = make(kConfig);
  ASSERT_TRUE(source);
  ASSERT_TRUE(source->start());
  ASSERT_TRUE(sink.wait_batches(1));
  sink.fail(false);
  sink.reject_first(true);
  clock.advance(std::chrono::seconds(30));
  ASSERT_TRUE(sink.wait_batches(2)) << "a failed round does not stop the next";
  EXPECT_EQ(counters.get("sim_ingest_errors").load(), 1u);  // round 1 was answered before round 2 began
  source->stop();
  const auto status = source->status();
  EXPECT_EQ(status["readings"], 1) << "the heart rate of round 2; the rejected blood pressure is not counted";
  EXPECT_THAT(status["last_error"].get<std::string>(), HasSubstr("rejected"));
  EXPECT_THAT(status["last_error"].get<std::string>(), ::testing::Not(HasSubstr("future")))
      << "the pipeline's reason may quote values: debug level only";
  EXPECT_EQ(counters.get("sim_rejected").load(), 1u);
}

TEST_F(ASimSource, StopsAtOnceWhileWaitingForTheNextRound) {
  auto source = make(kConfig);
  ASSERT_TRUE(source);
  ASSERT_TRUE(source->start());
  ASSERT_TRUE(sink.wait_batches(1));
  source->stop();  // the next round is 30 s away on a clock that does not move: stop() must not wait for it
  EXPECT_EQ(source->status()["state"], "stopped");
  EXPECT_EQ(sink.batches().size(), 1u);
}

TEST_F(ASimSource, FactoryRefusesABadSectionWithItsPath) {
  auto made = make_sim_source(json{{"readings", json::array()}}, "/sources/sim", context);
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().message, HasSubstr("/sources/sim/readings"));
}

}  // namespace
}  // namespace carehub::sim
