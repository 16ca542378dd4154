#include "drivers/gatt/weight.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/drivers/gatt/packets.hpp"

namespace carehub::gatt {
namespace {

using testing::bytes;
using testing::kTimestampHex;

TEST(AWeightMeasurement, InSiUnitsCountsFiveGramSteps) {
  const auto r = decode_weight_measurement(bytes("00 B0 36"));  // 14000 x 0.005 kg
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unit, WeightUnit::si);
  EXPECT_EQ(r->weight.value(), 70.0);
  EXPECT_EQ(r->weight.to_string(), "70.000");
  EXPECT_FALSE(r->measurement_unsuccessful);
}

TEST(AWeightMeasurement, InSiUnitsIsExactToTheLastStep) {
  const auto r = decode_weight_measurement(bytes("00 19 3C"));  // 15385 x 0.005 kg
  ASSERT_TRUE(r);
  EXPECT_EQ(r->weight.value(), 76.925);
}

TEST(AWeightMeasurement, InImperialUnitsCountsHundredthsOfAPound) {
  const auto r = decode_weight_measurement(bytes("01 5C 3A"));  // 14940 x 0.01 lb
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unit, WeightUnit::imperial);
  EXPECT_EQ(r->weight.value(), 149.4);
}

TEST(AWeightMeasurement, WithEveryFlagReadsTimestampUserBmiAndHeight) {
  const auto r = decode_weight_measurement(bytes("0E B0 36" + std::string(kTimestampHex) + " 01 F0 00 C2 06"));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->timestamp->to_string(), "2024-03-15T10:30:45");
  EXPECT_EQ(r->user_id, 1);
  EXPECT_EQ(r->bmi->value(), 24.0);
  EXPECT_EQ(r->height->value(), 1.73);  // 1730 x 0.001 m
}

TEST(AWeightMeasurement, InImperialUnitsReadsHeightInTenthsOfAnInch) {
  const auto r = decode_weight_measurement(bytes("09 5C 3A F0 00 A6 02"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->height->value(), 67.8);
  EXPECT_EQ(r->bmi->value(), 24.0);
}

TEST(AWeightMeasurement, ReadsTheUserIdAloneRightAfterTheWeight) {
  const auto r = decode_weight_measurement(bytes("04 B0 36 FF"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->user_id, 0xFF);
  EXPECT_FALSE(r->timestamp);
  EXPECT_FALSE(r->bmi);
}

TEST(AWeightMeasurement, ReportsAnUnsuccessfulMeasurementAsNaNNotAsAWeight) {
  const auto r = decode_weight_measurement(bytes("06 FF FF" + std::string(kTimestampHex) + " 03"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->measurement_unsuccessful);
  EXPECT_EQ(r->weight.kind(), Number::Kind::nan);
  EXPECT_FALSE(r->weight.value());
  EXPECT_EQ(r->user_id, 3);
}

TEST(AWeightMeasurement, IgnoresReservedFlagBits) {
  const auto r = decode_weight_measurement(bytes("F0 B0 36"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unit, WeightUnit::si);
  EXPECT_FALSE(r->timestamp || r->user_id || r->bmi || r->height);
}

TEST(AWeightMeasurement, MissingItsHeightIsTruncated) {
  const auto r = decode_weight_measurement(bytes("08 B0 36 F0 00"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail, "weight: height needs 2 bytes at offset 5, only 0 remain (packet is 5 bytes)");
}

}  // namespace
}  // namespace carehub::gatt
