#include "drivers/gatt/pulse_oximeter.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/drivers/gatt/packets.hpp"

namespace carehub::gatt {
namespace {

using testing::bytes;
using testing::kTimestampHex;

TEST(APlxSpotCheck, ReadsSpo2AndPulseRate) {
  const auto r = decode_plx_spot_check(bytes("00 61 00 48 00"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->spo2.value(), 97.0);
  EXPECT_EQ(r->pulse_rate.value(), 72.0);
  EXPECT_FALSE(r->timestamp || r->measurement_status || r->device_and_sensor_status || r->pulse_amplitude_index);
  EXPECT_FALSE(r->device_clock_not_set);
}

TEST(APlxSpotCheck, WithEveryFlagReadsEveryOptionalFieldInOrder) {
  const auto r =
      decode_plx_spot_check(bytes("1F 61 00 48 00" + std::string(kTimestampHex) + " 80 00 20 00 00 1E F0"));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->timestamp->to_string(), "2024-03-15T10:30:45");
  EXPECT_TRUE(r->device_clock_not_set);
  EXPECT_TRUE(r->measurement_status->validated_data());
  EXPECT_FALSE(r->measurement_status->measurement_ongoing());
  EXPECT_TRUE(r->device_and_sensor_status->low_perfusion_detected());
  EXPECT_EQ(r->pulse_amplitude_index->to_string(), "3.0");
}

TEST(APlxSpotCheck, ReadsEachOptionalFieldAloneAtTheRightOffset) {
  const auto status = decode_plx_spot_check(bytes("02 61 00 48 00 00 20"));
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->measurement_status->measurement_unavailable());

  const auto device = decode_plx_spot_check(bytes("04 61 00 48 00 00 80 00"));
  ASSERT_TRUE(device);
  EXPECT_TRUE(device->device_and_sensor_status->sensor_disconnected());

  const auto pai = decode_plx_spot_check(bytes("08 61 00 48 00 1E F0"));
  ASSERT_TRUE(pai);
  EXPECT_EQ(pai->pulse_amplitude_index->value(), 3.0);
}

TEST(APlxSpotCheck, SaysWhenTheDeviceClockIsNotSetAndThenDistrustsItsTimestamp) {
  const auto r = decode_plx_spot_check(bytes("11 61 00 48 00" + std::string(kTimestampHex)));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->device_clock_not_set);
  EXPECT_TRUE(r->timestamp);
  EXPECT_FALSE(r->trusted_timestamp());

  const auto set = decode_plx_spot_check(bytes("01 61 00 48 00" + std::string(kTimestampHex)));
  ASSERT_TRUE(set);
  EXPECT_EQ(set->trusted_timestamp(), set->timestamp);
}

TEST(APlxSpotCheck, DropsReservedStatusBitsAndFlagBits) {
  const auto r = decode_plx_spot_check(bytes("E6 61 00 48 00 1F 00 00 00 FF"));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->measurement_status->bits, 0);
  EXPECT_EQ(r->device_and_sensor_status->bits, 0u);
  EXPECT_FALSE(r->timestamp);
}

TEST(APlxSpotCheck, KeepsAnUnavailableSpo2Special) {
  const auto r = decode_plx_spot_check(bytes("00 FF 07 00 08"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->spo2.kind(), Number::Kind::nan);
  EXPECT_EQ(r->pulse_rate.kind(), Number::Kind::nres);
}

TEST(APlxSpotCheck, MissingItsDeviceStatusIsTruncated) {
  const auto r = decode_plx_spot_check(bytes("04 61 00 48 00 00 80"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail,
            "plx spot-check: device and sensor status needs 3 bytes at offset 5, only 2 remain (packet is 7 bytes)");
}

TEST(APlxContinuous, ReadsTheNormalSpo2AndPulseRate) {
  const auto r = decode_plx_continuous(bytes("00 62 00 4B 00"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->spo2.value(), 98.0);
  EXPECT_EQ(r->pulse_rate.value(), 75.0);
  EXPECT_FALSE(r->spo2_fast || r->spo2_slow || r->measurement_status || r->pulse_amplitude_index);
}

TEST(APlxContinuous, WithEveryFlagReadsFastSlowStatusAndAmplitudeInOrder) {
  const auto r = decode_plx_continuous(bytes("1F 62 00 4B 00 61 00 4C 00 62 00 4A 00 00 01 00 80 00 1E F0"));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->spo2_fast->value(), 97.0);
  EXPECT_EQ(r->pulse_rate_fast->value(), 76.0);
  EXPECT_EQ(r->spo2_slow->value(), 98.0);
  EXPECT_EQ(r->pulse_rate_slow->value(), 74.0);
  EXPECT_TRUE(r->measurement_status->fully_qualified_data());
  EXPECT_TRUE(r->device_and_sensor_status->sensor_disconnected());
  EXPECT_EQ(r->pulse_amplitude_index->value(), 3.0);
}

TEST(APlxContinuous, WithOnlyTheSlowFlagReadsSlowRightAfterNormal) {
  const auto r = decode_plx_continuous(bytes("02 62 00 4B 00 63 00 49 00"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->spo2_fast);
  EXPECT_EQ(r->spo2_slow->value(), 99.0);
  EXPECT_EQ(r->pulse_rate_slow->value(), 73.0);
}

TEST(APlxContinuous, IgnoresReservedFlagBits) {
  const auto r = decode_plx_continuous(bytes("E0 62 00 4B 00"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->spo2_fast || r->pulse_amplitude_index);
}

TEST(APlxContinuous, MissingTheFastPulseRateIsTruncated) {
  const auto r = decode_plx_continuous(bytes("01 62 00 4B 00 61 00"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail,
            "plx continuous: pulse rate fast needs 2 bytes at offset 7, only 0 remain (packet is 7 bytes)");
}

}  // namespace
}  // namespace carehub::gatt
