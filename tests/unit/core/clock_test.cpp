#include "core/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace carehub {
namespace {

using namespace std::chrono_literals;

TEST(ManualClock, StandsStillUntilTold) {
  ManualClock clock(from_epoch_ms(1000));
  EXPECT_EQ(clock.now(), from_epoch_ms(1000));
  EXPECT_EQ(clock.now(), from_epoch_ms(1000));
}

TEST(ManualClock, AdvancesWallAndMonotonicTimeTogether) {
  ManualClock clock(from_epoch_ms(1000));
  const auto mono = clock.monotonic();
  clock.advance(250ms);
  EXPECT_EQ(clock.now(), from_epoch_ms(1250));
  EXPECT_EQ(clock.monotonic() - mono, 250ms);
}

TEST(ManualClock, NeverRunsMonotonicTimeBackwardsWhenTheWallClockIsSetBack) {
  ManualClock clock(from_epoch_ms(10000));
  const auto mono = clock.monotonic();
  clock.set(from_epoch_ms(5000));
  EXPECT_EQ(clock.now(), from_epoch_ms(5000));
  EXPECT_EQ(clock.monotonic(), mono);
  clock.advance(-1000ms);
  EXPECT_EQ(clock.now(), from_epoch_ms(4000));
  EXPECT_EQ(clock.monotonic(), mono);
}

TEST(ManualClock, MovesMonotonicTimeForwardWhenTheWallClockIsSetForward) {
  ManualClock clock(from_epoch_ms(10000));
  const auto mono = clock.monotonic();
  clock.set(from_epoch_ms(12000));
  EXPECT_EQ(clock.monotonic() - mono, 2000ms);
}

TEST(SystemClock, ReportsWholeMilliseconds) {
  SystemClock clock;
  const auto t = clock.now();
  EXPECT_GT(to_epoch_ms(t), 1700000000000);  // after 2023: the hub's clock is set
  const auto first = clock.monotonic();
  const auto second = clock.monotonic();
  EXPECT_LE(first, second);
}

}  // namespace
}  // namespace carehub
