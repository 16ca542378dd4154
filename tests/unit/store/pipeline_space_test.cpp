// The buffer-space policy on its own (store/pipeline_space.cpp), without the writer thread: the states a
// commit's space report leaves the buffer in, the disk-full state, and retention and the disk-full probe
// paced on an injected clock. store_space_test.cpp covers the same policy through the pipeline.
#include "store/pipeline_space.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>

#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const TimePoint kTime = from_epoch_ms(1763719200000);  // 2025-11-21T10:00:00Z
constexpr Millis kProbeEvery = 1h;                      // real time never makes a probe due here

class BufferSpaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options.path = dir.file("buffer.db");
    options.retention_days = 1;
    writer = StoreWriter::open(options).value();
  }
  bool logged(const std::string& needle) {
    std::lock_guard lock(log_mu);
    return log_text.find(needle) != std::string::npos;
  }
  // A heart rate measured `age` before kTime, stored and synced (what retention may prune).
  void synced_reading(std::chrono::hours age, int n) {
    Reading r;
    r.kind = Kind::heart_rate;
    r.device = "ble-aa";
    r.patient = "Patient/kit";
    r.time = kTime - age + std::chrono::seconds(n);
    r.received = r.time;
    r.source = "ble";
    r.values = {{"value", 60.0 + n}};
    ASSERT_TRUE(writer->insert_reading(r, reading_uid(r, "")).value());
    const auto all = readings();
    ASSERT_TRUE(writer->mark_synced(all.back().seq, "Observation/" + std::to_string(n), kTime).has_value());
  }
  std::vector<StoredReading> readings() {
    return StoreReader::open(options).value()->readings({std::nullopt, 0, 1000, false}).value();
  }

  test::TempDir dir;
  StoreOptions options;
  std::unique_ptr<StoreWriter> writer;
  ManualClock clock{kTime};
  std::mutex log_mu;
  std::string log_text;
  Logger log{LogLevel::debug, [this](LogLevel, std::string_view c, std::string_view m) {
               std::lock_guard lock(log_mu);
               log_text += std::string(c) + ": " + std::string(m) + "\n";
             }};
  Counters counters;
};

TEST_F(BufferSpaceTest, ShedsThenStaysSheddingUntilWellBelowTheCap) {
  BufferSpace space(*writer, clock, log, counters, kProbeEvery);
  space.committed({.used_bytes = 900, .max_bytes = 1000, .shed_synced = 3}, true);
  auto h = space.health();
  EXPECT_EQ(h.state, BufferState::shedding);
  EXPECT_THAT(h.detail, HasSubstr("size cap reached"));
  EXPECT_EQ(h.since, kTime);
  EXPECT_EQ(h.last_shed, kTime);
  EXPECT_EQ(h.shed_synced, 3);
  EXPECT_EQ(counters.snapshot()["store_shed_synced"], 3u);
  clock.advance(1min);
  space.committed({.used_bytes = 800, .max_bytes = 1000}, true);  // 80%: still near the cap
  EXPECT_EQ(space.state(), BufferState::shedding);
  space.committed({.used_bytes = 799, .max_bytes = 1000}, true);
  h = space.health();
  EXPECT_EQ(h.state, BufferState::ok);
  EXPECT_EQ(h.since, kTime + 1min);
  EXPECT_TRUE(h.detail.empty());
}

TEST_F(BufferSpaceTest, FullWithNothingToShedIsLoggedOnceAndClearedBySpace) {
  BufferSpace space(*writer, clock, log, counters, kProbeEvery);
  space.committed({.used_bytes = 1000, .max_bytes = 1000, .full = true}, true);
  EXPECT_EQ(space.state(), BufferState::full);
  EXPECT_TRUE(logged("store: event=buffer-full"));
  space.committed({.used_bytes = 500, .max_bytes = 1000}, true);
  EXPECT_EQ(space.state(), BufferState::ok);
  EXPECT_TRUE(logged("store: event=buffer-full-cleared"));
}

TEST_F(BufferSpaceTest, AFullDiskEndsOnlyWithACommitThatStoredReadings) {
  BufferSpace space(*writer, clock, log, counters, kProbeEvery);
  space.note_full(make_error(Errc::full, "database or disk is full"));
  EXPECT_EQ(space.state(), BufferState::disk_full);
  EXPECT_THAT(space.health().detail, HasSubstr("database or disk is full"));
  EXPECT_EQ(counters.snapshot()["store_disk_full"], 1u);
  space.committed({.used_bytes = 10}, false);  // a sync outcome squeezed in
  EXPECT_EQ(space.state(), BufferState::disk_full);
  space.committed({.used_bytes = 10}, true);
  EXPECT_EQ(space.state(), BufferState::ok);
  EXPECT_TRUE(logged("store: event=disk-space-back"));
}

TEST_F(BufferSpaceTest, ProbesAFullDiskOncePerIntervalOnTheInjectedClock) {
  BufferSpace space(*writer, clock, log, counters, kProbeEvery);
  space.note_full(make_error(Errc::full, "disk full"));
  space.maintain();  // the first probe: this test's filesystem has room, so the disk is back
  ASSERT_EQ(space.state(), BufferState::ok);
  space.note_full(make_error(Errc::full, "disk full again"));
  space.maintain();
  EXPECT_EQ(space.state(), BufferState::disk_full) << "probed again before the interval passed";
  clock.advance(kProbeEvery - 1ms);
  space.maintain();
  EXPECT_EQ(space.state(), BufferState::disk_full);
  clock.advance(1ms);
  space.maintain();
  EXPECT_EQ(space.state(), BufferState::ok);
}

TEST_F(BufferSpaceTest, PacesRetentionPassesOnTheInjectedClock) {
  BufferSpace space(*writer, clock, log, counters, kProbeEvery);
  synced_reading(48h, 1);
  synced_reading(2h, 2);  // younger than retention_days: kept
  space.maintain();
  ASSERT_EQ(readings().size(), 1u);
  EXPECT_EQ(space.health().pruned, 1);
  EXPECT_EQ(counters.snapshot()["store_retention_pruned"], 1u);
  EXPECT_TRUE(logged("store: event=retention-pruned"));

  synced_reading(48h, 3);
  clock.advance(10min - 1ms);  // a pass reached the newest reading: the next is 10 minutes later
  space.maintain();
  EXPECT_EQ(readings().size(), 2u);
  clock.advance(1ms);
  space.maintain();
  EXPECT_EQ(readings().size(), 1u);
  EXPECT_EQ(space.health().pruned, 2);
}

TEST_F(BufferSpaceTest, RetentionMeasuresAgeOnTheInjectedWallClock) {
  BufferSpace space(*writer, clock, log, counters, kProbeEvery);
  synced_reading(2h, 1);
  space.maintain();
  EXPECT_EQ(readings().size(), 1u) << "2 hours old: kept";
  clock.advance(22h + 1min);  // older than retention_days now, and the next pass is due
  space.maintain();
  EXPECT_TRUE(readings().empty());
}

}  // namespace
}  // namespace carehub
