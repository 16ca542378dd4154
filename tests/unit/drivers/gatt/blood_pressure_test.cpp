#include "drivers/gatt/blood_pressure.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/drivers/gatt/packets.hpp"

namespace carehub::gatt {
namespace {

using testing::bytes;
using testing::kTimestampHex;

TEST(ABloodPressureMeasurement, DecodesTheMinimalMmHgPacketAs120Over80Mean93) {
  // flags 0x00 (mmHg, nothing optional), systolic 0x0078, diastolic 0x0050, MAP 0x005D.
  const auto r = decode_blood_pressure_measurement(bytes("00 78 00 50 00 5d 00"));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->unit, PressureUnit::mmHg);
  EXPECT_EQ(r->systolic.value(), 120.0);
  EXPECT_EQ(r->diastolic.value(), 80.0);
  EXPECT_EQ(r->mean_arterial.value(), 93.0);
  EXPECT_FALSE(r->timestamp);
  EXPECT_FALSE(r->pulse_rate);
  EXPECT_FALSE(r->user_id);
  EXPECT_FALSE(r->status);
}

TEST(ABloodPressureMeasurement, InKpaKeepsTheDevicesDecimals) {
  // 16.0 / 10.7 / 12.5 kPa, each exponent -1.
  const auto r = decode_blood_pressure_measurement(bytes("01 A0 F0 6B F0 7D F0"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unit, PressureUnit::kPa);
  EXPECT_EQ(r->systolic.to_string(), "16.0");
  EXPECT_EQ(r->diastolic.value(), 10.7);
  EXPECT_EQ(r->mean_arterial.value(), 12.5);
}

TEST(ABloodPressureMeasurement, WithEveryFlagReadsEveryOptionalFieldInOrder) {
  const auto r = decode_blood_pressure_measurement(
      bytes("1E 78 00 50 00 5D 00" + std::string(kTimestampHex) + " 48 00 02 04 00"));
  ASSERT_TRUE(r) << r.error().detail;
  ASSERT_TRUE(r->timestamp);
  EXPECT_EQ(r->timestamp->to_string(), "2024-03-15T10:30:45");
  ASSERT_TRUE(r->pulse_rate);
  EXPECT_EQ(r->pulse_rate->value(), 72.0);
  EXPECT_EQ(r->user_id, 2);
  ASSERT_TRUE(r->status);
  EXPECT_TRUE(r->status->irregular_pulse());
  EXPECT_FALSE(r->status->body_movement());
}

TEST(ABloodPressureMeasurement, ReadsEachOptionalFieldAloneAtTheRightOffset) {
  const auto pulse_only = decode_blood_pressure_measurement(bytes("04 78 00 50 00 5D 00 48 00"));
  ASSERT_TRUE(pulse_only);
  EXPECT_EQ(pulse_only->pulse_rate->value(), 72.0);
  EXPECT_FALSE(pulse_only->timestamp);

  const auto user_only = decode_blood_pressure_measurement(bytes("08 78 00 50 00 5D 00 FF"));
  ASSERT_TRUE(user_only);
  EXPECT_EQ(user_only->user_id, kUnknownUser);

  const auto status_only = decode_blood_pressure_measurement(bytes("10 78 00 50 00 5D 00 21 00"));
  ASSERT_TRUE(status_only);
  EXPECT_TRUE(status_only->status->body_movement());
  EXPECT_TRUE(status_only->status->improper_position());
}

TEST(ABloodPressureMeasurement, ReadsThePulseRateRangeAsATwoBitField) {
  using Range = BloodPressureStatus::PulseRateRange;
  EXPECT_EQ(decode_blood_pressure_measurement(bytes("10 78 00 50 00 5D 00 00 00"))->status->pulse_rate_range(),
            Range::within_range);
  EXPECT_EQ(decode_blood_pressure_measurement(bytes("10 78 00 50 00 5D 00 08 00"))->status->pulse_rate_range(),
            Range::exceeds_upper_limit);
  EXPECT_EQ(decode_blood_pressure_measurement(bytes("10 78 00 50 00 5D 00 10 00"))->status->pulse_rate_range(),
            Range::below_lower_limit);
  EXPECT_EQ(decode_blood_pressure_measurement(bytes("10 78 00 50 00 5D 00 18 00"))->status->pulse_rate_range(),
            Range::reserved);
}

TEST(ABloodPressureMeasurement, IgnoresReservedFlagBits) {
  const auto r = decode_blood_pressure_measurement(bytes("E0 78 00 50 00 5D 00"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unit, PressureUnit::mmHg);
  EXPECT_FALSE(r->timestamp || r->pulse_rate || r->user_id || r->status);
}

TEST(ABloodPressureMeasurement, DropsReservedMeasurementStatusBits) {
  const auto r = decode_blood_pressure_measurement(bytes("10 78 00 50 00 5D 00 C0 FF"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status->bits, 0);
}

TEST(ABloodPressureMeasurement, KeepsAFailedCuffsNaNAsNaN) {
  const auto r = decode_blood_pressure_measurement(bytes("00 FF 07 FF 07 FF 07"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->systolic.kind(), Number::Kind::nan);
  EXPECT_FALSE(r->systolic.value());
}

TEST(ABloodPressureMeasurement, ShorterThanItsFlagsRequireIsTruncatedNamingTheField) {
  const auto r = decode_blood_pressure_measurement(bytes("02 78 00 50 00 5D 00 E8 07 03"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::truncated);
  EXPECT_EQ(r.error().detail,
            "blood pressure: timestamp needs 7 bytes at offset 7, only 3 remain (packet is 10 bytes)");
}

TEST(ABloodPressureMeasurement, IgnoresBytesAfterTheLastAnnouncedField) {
  const auto r = decode_blood_pressure_measurement(bytes("00 78 00 50 00 5D 00 AA BB"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->systolic.value(), 120.0);
}

TEST(AnIntermediateCuffPressure, CarriesTheCurrentCuffPressureInTheSystolicSlot) {
  const auto r = decode_intermediate_cuff_pressure(bytes("04 8C 00 FF 07 FF 07 48 00"));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->unit, PressureUnit::mmHg);
  EXPECT_EQ(r->current_cuff_pressure.value(), 140.0);
  EXPECT_EQ(r->pulse_rate->value(), 72.0);
}

TEST(AnIntermediateCuffPressure, NamesItselfWhenTruncated) {
  const auto r = decode_intermediate_cuff_pressure(bytes("00 8C 00 FF 07"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail,
            "intermediate cuff pressure: unused mean arterial pressure needs 2 bytes at offset 5, only 0 remain "
            "(packet is 5 bytes)");
}

}  // namespace
}  // namespace carehub::gatt
