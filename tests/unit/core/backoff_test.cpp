#include "core/backoff.hpp"

#include <gtest/gtest.h>

#include <climits>

namespace carehub {
namespace {

using namespace std::chrono_literals;

const BackoffPolicy kPolicy{1000ms, 300000ms};

TEST(BackoffDelay, IsZeroAtTheBottomOfTheJitter) {
  for (int n : {1, 2, 10, 1000}) EXPECT_EQ(backoff_delay(kPolicy, n, 0.0), 0ms) << n;
}

TEST(BackoffDelay, DoublesTheCeilingWithEachFailure) {
  EXPECT_EQ(backoff_delay(kPolicy, 1, 1.0), 1000ms);
  EXPECT_EQ(backoff_delay(kPolicy, 2, 1.0), 2000ms);
  EXPECT_EQ(backoff_delay(kPolicy, 3, 1.0), 4000ms);
  EXPECT_EQ(backoff_delay(kPolicy, 9, 1.0), 256000ms);
}

TEST(BackoffDelay, NeverExceedsTheCap) {
  EXPECT_EQ(backoff_delay(kPolicy, 10, 1.0), 300000ms);  // 512 s uncapped
  EXPECT_EQ(backoff_delay(kPolicy, 11, 0.5), 150000ms);
}

TEST(BackoffDelay, DrawsUniformlyBelowTheCeiling) {
  EXPECT_EQ(backoff_delay(kPolicy, 3, 0.25), 1000ms);
  EXPECT_EQ(backoff_delay(kPolicy, 3, 0.5), 2000ms);
  for (int n = 1; n <= 64; ++n) {
    const auto ceiling = std::min<long long>(300000, 1000LL << std::min(n - 1, 20));
    std::chrono::milliseconds previous{-1};
    for (double u = 0.0; u < 1.0; u += 0.0625) {
      const auto d = backoff_delay(kPolicy, n, u);
      EXPECT_GE(d.count(), 0) << n << " " << u;
      EXPECT_LE(d.count(), ceiling) << n << " " << u;
      EXPECT_GE(d, previous) << "not monotonic in the draw: " << n << " " << u;
      previous = d;
    }
  }
}

TEST(BackoffDelay, SurvivesHugeFailureCountsWithoutOverflow) {
  for (int n : {31, 63, 64, 1000, 1 << 20, INT_MAX}) {
    EXPECT_EQ(backoff_delay(kPolicy, n, 1.0), 300000ms) << n;
    EXPECT_EQ(backoff_delay(kPolicy, n, 0.5), 150000ms) << n;
  }
}

TEST(BackoffDelay, SurvivesAHugeCap) {
  const BackoffPolicy generous{1000ms, std::chrono::milliseconds(LLONG_MAX / 4)};
  const auto d = backoff_delay(generous, INT_MAX, 1.0);
  EXPECT_GT(d.count(), 0);
  EXPECT_LE(d, generous.cap);
}

TEST(BackoffDelay, TreatsZeroOrNegativeFailuresAsTheFirst) {
  EXPECT_EQ(backoff_delay(kPolicy, 0, 1.0), 1000ms);
  EXPECT_EQ(backoff_delay(kPolicy, -5, 1.0), 1000ms);
}

TEST(BackoffDelay, ClampsADrawOutsideTheUnitInterval) {
  EXPECT_EQ(backoff_delay(kPolicy, 2, -3.0), 0ms);
  EXPECT_EQ(backoff_delay(kPolicy, 2, 7.0), 2000ms);
}

TEST(BackoffDelay, UsesTheConfiguredBase) {
  const BackoffPolicy fast{10ms, 50ms};
  EXPECT_EQ(backoff_delay(fast, 1, 1.0), 10ms);
  EXPECT_EQ(backoff_delay(fast, 3, 1.0), 40ms);
  EXPECT_EQ(backoff_delay(fast, 4, 1.0), 50ms);
}

}  // namespace
}  // namespace carehub
