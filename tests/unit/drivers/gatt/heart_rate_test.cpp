#include "drivers/gatt/heart_rate.hpp"

#include <gtest/gtest.h>

#include "tests/unit/drivers/gatt/packets.hpp"

namespace carehub::gatt {
namespace {

using testing::bytes;

TEST(AHeartRateMeasurement, ReadsAnEightBitValue) {
  const auto r = decode_heart_rate_measurement(bytes("00 48"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->heart_rate_bpm, 72);
  EXPECT_FALSE(r->sixteen_bit_value);
  EXPECT_EQ(r->sensor_contact, SensorContact::not_supported);
  EXPECT_FALSE(r->energy_expended_kj);
  EXPECT_TRUE(r->rr_intervals_1024ths.empty());
}

TEST(AHeartRateMeasurement, ReadsASixteenBitValue) {
  const auto r = decode_heart_rate_measurement(bytes("01 48 01"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->heart_rate_bpm, 328);
  EXPECT_TRUE(r->sixteen_bit_value);
}

TEST(AHeartRateMeasurement, ReportsSensorContactOnlyWhenTheSensorSupportsIt) {
  EXPECT_EQ(decode_heart_rate_measurement(bytes("00 48"))->sensor_contact, SensorContact::not_supported);
  EXPECT_EQ(decode_heart_rate_measurement(bytes("02 48"))->sensor_contact, SensorContact::not_supported);
  EXPECT_EQ(decode_heart_rate_measurement(bytes("04 48"))->sensor_contact, SensorContact::not_detected);
  EXPECT_EQ(decode_heart_rate_measurement(bytes("06 48"))->sensor_contact, SensorContact::detected);
}

TEST(AHeartRateMeasurement, ReadsEnergyExpendedInKilojoules) {
  const auto r = decode_heart_rate_measurement(bytes("08 48 2C 01"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->energy_expended_kj, 300);
}

TEST(AHeartRateMeasurement, ReadsEveryRrIntervalInTheRestOfThePacket) {
  const auto r = decode_heart_rate_measurement(bytes("10 48 00 04 00 02 52 03"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->rr_intervals_1024ths.size(), 3u);
  EXPECT_EQ(r->rr_interval_s(0), 1.0);
  EXPECT_EQ(r->rr_interval_s(1), 0.5);
  EXPECT_EQ(r->rr_interval_s(2), 850 / 1024.0);
}

TEST(AHeartRateMeasurement, WithEveryFlagReadsValueEnergyAndRrInOrder) {
  const auto r = decode_heart_rate_measurement(bytes("1F 48 00 2C 01 00 04"));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->heart_rate_bpm, 72);
  EXPECT_EQ(r->sensor_contact, SensorContact::detected);
  EXPECT_EQ(r->energy_expended_kj, 300);
  ASSERT_EQ(r->rr_intervals_1024ths.size(), 1u);
  EXPECT_EQ(r->rr_intervals_1024ths[0], 1024);
}

TEST(AHeartRateMeasurement, WithTheRrFlagButNoIntervalIsTruncated) {
  const auto r = decode_heart_rate_measurement(bytes("10 48"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::truncated);
  EXPECT_EQ(r.error().detail, "heart rate: rr interval needs 2 bytes at offset 2, only 0 remain (packet is 2 bytes)");
}

TEST(AHeartRateMeasurement, EndingInHalfAnRrIntervalIsTruncated) {
  const auto r = decode_heart_rate_measurement(bytes("10 48 00 04 00"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail, "heart rate: rr interval needs 2 bytes at offset 4, only 1 remains (packet is 5 bytes)");
}

TEST(AHeartRateMeasurement, WithASixteenBitFlagButOneByteIsTruncated) {
  const auto r = decode_heart_rate_measurement(bytes("01 48"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail,
            "heart rate: heart rate (uint16) needs 2 bytes at offset 1, only 1 remains (packet is 2 bytes)");
}

TEST(AHeartRateMeasurement, IgnoresReservedFlagBits) {
  const auto r = decode_heart_rate_measurement(bytes("E0 48 AA"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->heart_rate_bpm, 72);
  EXPECT_TRUE(r->rr_intervals_1024ths.empty());
}

}  // namespace
}  // namespace carehub::gatt
