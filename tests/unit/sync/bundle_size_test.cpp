// The bundle-size policy on its own: halve on a too-large or too-slow bundle, grow back after
// kGrowAfter full bundles in a row, never below 1 nor above what is configured.
#include "sync/bundle_size.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace carehub::sync {
namespace {

TEST(BundleSize, StartsAtTheConfiguredMostAndNeverAtZero) {
  EXPECT_EQ(BundleSize(100).current(), 100u);
  EXPECT_EQ(BundleSize(0).current(), 1u);
}

TEST(BundleSize, HalvesWhatTheRefusedRequestCarried) {
  BundleSize size(100);
  EXPECT_TRUE(size.shrink(100));
  EXPECT_EQ(size.current(), 50u);
  EXPECT_TRUE(size.shrink(7)) << "half of what was sent, not of the size";
  EXPECT_EQ(size.current(), 3u);
  EXPECT_TRUE(size.shrink(2));
  EXPECT_EQ(size.current(), 1u);
}

TEST(BundleSize, HasNothingToHalveInARequestOfOne) {
  BundleSize size(100);
  EXPECT_FALSE(size.shrink(1));
  EXPECT_FALSE(size.shrink(0));
  EXPECT_EQ(size.current(), 100u);
}

TEST(BundleSize, GrowsBackAfterKGrowAfterFullBundlesInARow) {
  BundleSize size(100);
  ASSERT_TRUE(size.shrink(100));
  ASSERT_TRUE(size.shrink(50));  // 25
  std::vector<std::size_t> sizes;
  for (int i = 0; i < 3 * BundleSize::kGrowAfter; ++i) {
    size.went_through(size.current());
    sizes.push_back(size.current());
  }
  const auto k = static_cast<std::size_t>(BundleSize::kGrowAfter);
  EXPECT_EQ(sizes[k - 2], 25u);
  EXPECT_EQ(sizes[k - 1], 50u) << "the kGrowAfter-th full bundle doubles it";
  EXPECT_EQ(sizes[2 * k - 1], 100u) << "capped at the configured most";
  EXPECT_EQ(sizes.back(), 100u);
}

TEST(BundleSize, CountsOnlyFullBundlesTowardsGrowing) {
  BundleSize size(100);
  ASSERT_TRUE(size.shrink(20));  // 10
  for (int i = 0; i < 4 * BundleSize::kGrowAfter; ++i) EXPECT_FALSE(size.went_through(9));
  for (int i = 0; i < 4 * BundleSize::kGrowAfter; ++i) EXPECT_FALSE(size.went_through(0));
  EXPECT_EQ(size.current(), 10u);
  for (int i = 1; i < BundleSize::kGrowAfter; ++i) EXPECT_FALSE(size.went_through(10));
  EXPECT_TRUE(size.went_through(10));
  EXPECT_EQ(size.current(), 20u);
}

TEST(BundleSize, StartsCountingAgainAfterAShrink) {
  BundleSize size(100);
  ASSERT_TRUE(size.shrink(20));  // 10
  for (int i = 1; i < BundleSize::kGrowAfter; ++i) EXPECT_FALSE(size.went_through(10));
  ASSERT_TRUE(size.shrink(10));  // 5: the good run is forgotten
  for (int i = 1; i < BundleSize::kGrowAfter; ++i) EXPECT_FALSE(size.went_through(5));
  EXPECT_TRUE(size.went_through(5));
  EXPECT_EQ(size.current(), 10u);
}

}  // namespace
}  // namespace carehub::sync
