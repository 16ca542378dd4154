#include "core/time_json.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace carehub {
namespace {

TEST(OptionalTimeJson, AnInstantIsItsRfc3339Text) {
  EXPECT_EQ(optional_time_json(from_epoch_ms(1'795'255'200'000)), nlohmann::json("2026-11-21T10:00:00Z"));
}

TEST(OptionalTimeJson, KeepsMilliseconds) {
  EXPECT_EQ(optional_time_json(from_epoch_ms(1'795'255'200'250)), nlohmann::json("2026-11-21T10:00:00.250Z"));
}

TEST(OptionalTimeJson, NoInstantIsNullNotTheEpoch) {
  const nlohmann::json j = optional_time_json(std::nullopt);
  EXPECT_TRUE(j.is_null());
  EXPECT_EQ(j.dump(), "null");
}

}  // namespace
}  // namespace carehub
