// The commit window (PipelineOptions::commit_window, issue 15): a stream of readings shares one commit,
// and nothing that must not wait (an alert, an operation someone waits for, a stop) waits for it. The
// window and its gap are measured on a ManualClock here (PipelineOptions::window_clock), so every case is
// exact.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>

#include "store/pipeline.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

using namespace std::chrono_literals;

const TimePoint kTime = from_epoch_ms(1763719200000);  // 2025-11-21T10:00:00Z
constexpr auto kPatience = 10s;                         // only ever reached when a test is failing
// Long enough for a writer that wrongly committed to have answered; a correct one never answers.
constexpr auto kStillWaiting = 200ms;

Reading heart_rate(double bpm, int minute) {
  return test::heart_rate(bpm, kTime + std::chrono::minutes(minute), {.device = "ble-aa", .source = "ble"});
}

// Raises a red alert for every heart rate of 200/min or more, as a bands rule would.
class AlertAt200 final : public BatchHook {
 public:
  Result<std::vector<AlertEvent>> in_transaction(RuleStore&, const std::vector<StoredReading>& inserted,
                                                 TimePoint now) override {
    std::vector<AlertEvent> events;
    for (const auto& r : inserted) {
      if (r.reading.values.at("value") < 200) continue;
      Alert a;
      a.id = "alert-" + r.uid;
      a.severity = Severity::red;
      a.readings = {r.uid};
      events.push_back({"alert", now, a});
    }
    return events;
  }
  Result<std::vector<AlertEvent>> tick(RuleStore&, TimePoint) override { return std::vector<AlertEvent>{}; }
  Result<std::vector<AlertEvent>> judge_assigned(RuleStore&, const std::vector<StoredReading>&, TimePoint) override {
    return std::vector<AlertEvent>{};
  }
};

template <class T>
bool ready(std::future<T>& f, std::chrono::milliseconds within = kPatience) {
  return f.wait_for(within) == std::future_status::ready;
}

class PipelineWindow : public ::testing::Test {
 protected:
  void SetUp() override {
    store_options.path = dir.file("buffer.db");
    writer = StoreWriter::open(store_options).value();
  }
  void TearDown() override {
    if (pipeline) pipeline->stop();
  }
  // A window and a gap as long as an hour of the manual clock: only what the test does ends them.
  PipelineOptions window(Millis length = 1h, Millis gap = 1h) {
    PipelineOptions o;
    o.default_patient = "Patient/kit";
    o.commit_window = length;
    o.commit_gap = gap;
    o.window_clock = &clock;
    return o;
  }
  void start() { start(window()); }
  void start(const PipelineOptions& o) {
    pipeline = std::make_unique<Pipeline>(*writer, clock, log, counters, o);
    pipeline->set_batch_hook(hook);
    pipeline->on_commit([this](const CommitSummary& s) {
      {
        std::lock_guard lock(mu);
        commits.push_back(s);
      }
      committed.notify_all();
    });
    pipeline->start();
    // The first reading finds no commit before it: it commits at once and opens the window.
    auto first = pipeline->ingest({heart_rate(70, 0)});
    ASSERT_TRUE(ready(first));
    ASSERT_TRUE(first.get().has_value());
  }
  // The commits so far, once there are at least `n` (listeners hear of a commit just after its producers
  // are answered).
  std::vector<CommitSummary> seen(std::size_t n) {
    std::unique_lock lock(mu);
    committed.wait_for(lock, kPatience, [&] { return commits.size() >= n; });
    return commits;
  }

  test::TempDir dir;
  StoreOptions store_options;
  std::unique_ptr<StoreWriter> writer;
  ManualClock clock{kTime};
  Logger log{LogLevel::debug, [](LogLevel, std::string_view, std::string_view) {}};
  Counters counters;
  AlertAt200 hook;
  std::mutex mu;
  std::condition_variable committed;
  std::vector<CommitSummary> commits;
  std::unique_ptr<Pipeline> pipeline;
};

TEST_F(PipelineWindow, GathersAStreamOfReadingsIntoOneCommitUntilTheWindowCloses) {
  start();
  auto second = pipeline->ingest({heart_rate(71, 1)});
  auto third = pipeline->ingest({heart_rate(72, 2)});
  EXPECT_FALSE(ready(third, kStillWaiting)) << "a normal reading inside the window waits for it";
  clock.advance(1h);
  ASSERT_TRUE(ready(second));
  ASSERT_TRUE(ready(third));
  EXPECT_TRUE(second.get().has_value());
  EXPECT_TRUE(third.get().has_value());
  const auto c = seen(2);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1].stored, 2u) << "both readings of the window in one commit";
}

TEST_F(PipelineWindow, CommitsAtOnceWhenAReadingInTheWindowRaisesAnAlert) {
  start();
  auto normal = pipeline->ingest({heart_rate(71, 1)});
  EXPECT_FALSE(ready(normal, kStillWaiting));
  auto extreme = pipeline->ingest({heart_rate(210, 2)});
  // The manual clock has not moved: only the alert can have closed the window.
  ASSERT_TRUE(ready(extreme)) << "an alert is never held back by the window";
  ASSERT_TRUE(ready(normal));
  const auto c = seen(2);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1].stored, 2u);
  ASSERT_EQ(c[1].alerts.size(), 1u) << "the alert reaches the publishers with the commit that made it durable";
  EXPECT_EQ(c[1].alerts[0].alert.severity, Severity::red);
}

TEST_F(PipelineWindow, CommitsAtOnceWhenAnOperationSomeoneWaitsForJoinsTheWindow) {
  start();
  auto normal = pipeline->ingest({heart_rate(71, 1)});
  EXPECT_FALSE(ready(normal, kStillWaiting));
  auto op = pipeline->apply([](StoreWriter& w) { return w.put_meta("k", "v"); });
  ASSERT_TRUE(ready(op)) << "an acknowledgement or a registry change does not wait for the window";
  EXPECT_TRUE(op.get().has_value());
  ASSERT_TRUE(ready(normal));
}

// The uploader waits for its outcomes before its next request: at the broker's full rate a window it
// waited out at every bundle halved the upload rate while readings poured in.
TEST_F(PipelineWindow, CommitsAtOnceWhenASyncOutcomeJoinsTheWindowAndSharesItsFsync) {
  start();
  auto normal = pipeline->ingest({heart_rate(71, 1)});
  EXPECT_FALSE(ready(normal, kStillWaiting));
  auto outcome = pipeline->apply([](StoreWriter& w) { return w.put_meta("k", "v"); }, Durability::deferred);
  ASSERT_TRUE(ready(outcome));
  ASSERT_TRUE(ready(normal));
  const auto c = seen(2);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1].stored, 1u);
  EXPECT_EQ(c[1].ops, 1u) << "the outcome committed with the reading, in the same transaction";
}

TEST_F(PipelineWindow, CommitsWhenNothingMoreArrivesWithinTheGap) {
  start(window(1h, 5ms));
  auto second = pipeline->ingest({heart_rate(71, 1)});
  EXPECT_FALSE(ready(second, kStillWaiting));
  clock.advance(5ms);
  ASSERT_TRUE(ready(second)) << "a producer that waits for each answer waits one gap, not a whole window";
}

TEST_F(PipelineWindow, CommitsTheNextReadingAtOnceOnAHubIdleForAWindow) {
  start(window(10ms, 1h));
  clock.advance(10ms);
  auto later = pipeline->ingest({heart_rate(71, 1)});
  ASSERT_TRUE(ready(later)) << "a reading after a quiet window is not held back";
}

TEST_F(PipelineWindow, CommitsWhatTheWindowGatheredWhenItStops) {
  start();
  auto normal = pipeline->ingest({heart_rate(71, 1)});
  EXPECT_FALSE(ready(normal, kStillWaiting));
  pipeline->stop();
  ASSERT_TRUE(ready(normal));
  EXPECT_TRUE(normal.get().has_value()) << "stop commits what it holds rather than failing it";
}

TEST_F(PipelineWindow, CommitsAtOnceWhenTheWindowReachesMaxBatch) {
  auto o = window();
  o.max_batch = 2;
  start(o);
  auto a = pipeline->ingest({heart_rate(74, 4)});
  auto b = pipeline->ingest({heart_rate(75, 5)});
  ASSERT_TRUE(ready(b)) << "a full batch commits without waiting for the window";
  ASSERT_TRUE(ready(a));
  const auto c = seen(2);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1].stored, 2u);
}

// A daemon test moves its ManualClock only when it means to: the window must not wait for it.
TEST_F(PipelineWindow, RunsOnRealTimeWhateverClockThePipelineJudgesTimeOn) {
  auto o = window(20ms, 1h);
  o.window_clock = nullptr;  // real time
  start(o);
  auto second = pipeline->ingest({heart_rate(71, 1)});
  ASSERT_TRUE(ready(second)) << "the manual clock never moved; the window closed on real time";
}

// An MQTT broker sends at most 20 unacknowledged messages: a window waiting for more than that would wait
// for messages the broker holds back until it is acknowledged.
TEST_F(PipelineWindow, CommitsAtOnceWhenTheWindowHoldsItsShareOfReadings) {
  auto o = window();
  o.commit_window_readings = 3;
  start(o);
  auto a = pipeline->ingest({heart_rate(74, 4)});
  auto b = pipeline->ingest({heart_rate(75, 5)});
  EXPECT_FALSE(ready(b, kStillWaiting));
  auto c = pipeline->ingest({heart_rate(76, 6)});
  ASSERT_TRUE(ready(c)) << "the third reading fills the window";
  ASSERT_TRUE(ready(a));
  const auto done = seen(2);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[1].stored, 3u);
}

}  // namespace
}  // namespace carehub
