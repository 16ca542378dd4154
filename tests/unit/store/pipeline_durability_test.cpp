// Issue 15: a batch of sync outcomes alone (Durability::deferred) commits without an fsync of its own;
// anything else in the same batch, and every later batch, commits as the store is configured (FULL).
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "store/pipeline.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

using namespace std::chrono_literals;

Reading heart_rate(double bpm) {
  return test::heart_rate(bpm, from_epoch_ms(1763719200000), {.device = "ble-aa", .source = "ble"});
}

class PipelineDurability : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.path = dir_.file("buffer.db");
    auto w = StoreWriter::open(options_);
    ASSERT_TRUE(w.has_value()) << w.error().message;
    writer_ = std::move(*w);
    PipelineOptions o;
    o.default_patient = "Patient/kit";
    pipeline_ = std::make_unique<Pipeline>(*writer_, clock_, log_, counters_, o);
    pipeline_->start();
  }
  void TearDown() override { pipeline_->stop(); }

  // The commit setting the operation's transaction runs under, as the operation sees it.
  std::future<Result<void>> record(Synchronous& seen, Durability d) {
    return pipeline_->apply(
        [&seen](StoreWriter& w) -> Result<void> {
          auto s = w.synchronous();
          if (!s) return s.error();
          seen = *s;
          return {};
        },
        d);
  }

  test::TempDir dir_;
  StoreOptions options_;
  std::unique_ptr<StoreWriter> writer_;
  Logger log_{LogLevel::error, [](LogLevel, std::string_view, std::string_view) {}};
  Counters counters_;
  SystemClock clock_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineDurability, ASyncOutcomeAloneCommitsWithoutAnFsyncAndTheNextDurableCommitIsFullAgain) {
  Synchronous outcome = Synchronous::extra, durable = Synchronous::extra;
  ASSERT_TRUE(record(outcome, Durability::deferred).get());
  EXPECT_EQ(outcome, Synchronous::normal);
  ASSERT_TRUE(record(durable, Durability::full).get());
  EXPECT_EQ(durable, Synchronous::full);
}

TEST_F(PipelineDurability, ASyncOutcomeQueuedWithAReadingCommitsWithTheReadingsFsync) {
  // Hold the writer inside one transaction while a reading and an outcome queue up behind it: the
  // writer takes both into its next batch.
  std::promise<void> entered, release;
  auto held = pipeline_->apply([&](StoreWriter&) -> Result<void> {
    entered.set_value();
    release.get_future().wait();
    return {};
  });
  ASSERT_EQ(entered.get_future().wait_for(10s), std::future_status::ready);
  auto reading = pipeline_->ingest({heart_rate(72)});
  Synchronous outcome = Synchronous::extra;
  auto recorded = record(outcome, Durability::deferred);
  release.set_value();
  ASSERT_TRUE(held.get());
  ASSERT_TRUE(reading.get());
  ASSERT_TRUE(recorded.get());
  EXPECT_EQ(outcome, Synchronous::full);
}

TEST_F(PipelineDurability, AStoreConfiguredNormalStaysNormal) {
  // Nothing to relax, nothing to restore: the configured setting is what every commit uses.
  pipeline_->stop();
  options_.path = dir_.file("normal.db");
  options_.synchronous = Synchronous::normal;
  auto w = StoreWriter::open(options_);
  ASSERT_TRUE(w.has_value()) << w.error().message;
  ASSERT_TRUE((*w)->begin(StoreWriter::Commit::without_fsync)->commit());
  EXPECT_EQ((*w)->synchronous().value(), Synchronous::normal);
  ASSERT_TRUE((*w)->begin()->commit());
  EXPECT_EQ((*w)->synchronous().value(), Synchronous::normal);
}

}  // namespace
}  // namespace carehub
