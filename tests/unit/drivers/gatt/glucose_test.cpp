#include "drivers/gatt/glucose.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/drivers/gatt/packets.hpp"

namespace carehub::gatt {
namespace {

using testing::bytes;
using testing::kTimestampHex;

std::string packet(std::string_view flags_and_sequence, std::string_view rest) {
  return std::string(flags_and_sequence) + " " + std::string(kTimestampHex) + " " + std::string(rest);
}

TEST(AGlucoseMeasurement, AlwaysCarriesSequenceNumberAndBaseTime) {
  const auto r = decode_glucose_measurement(bytes(packet("00 01 00", "")));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->sequence_number, 1);
  EXPECT_EQ(r->base_time.to_string(), "2024-03-15T10:30:45");
  EXPECT_FALSE(r->time_offset_minutes || r->concentration || r->sensor_status);
  EXPECT_FALSE(r->context_follows);
  EXPECT_EQ(r->measurement_time()->to_string(), "2024-03-15T10:30:45");
}

TEST(AGlucoseMeasurement, ReadsAMassConcentrationInKgPerLitre) {
  // 0xB078: exponent -5, mantissa 120 -> 0.00120 kg/L = 120 mg/dL; type 1, location 1.
  const auto r = decode_glucose_measurement(bytes(packet("02 01 00", "78 B0 11")));
  ASSERT_TRUE(r) << r.error().detail;
  ASSERT_TRUE(r->concentration);
  EXPECT_EQ(r->concentration->unit, GlucoseUnit::kg_per_L);
  EXPECT_EQ(r->concentration->value.to_string(), "0.00120");
  EXPECT_EQ(glucose_type_name(r->concentration->type), "capillary_whole_blood");
  EXPECT_EQ(glucose_sample_location_name(r->concentration->sample_location), "finger");
}

TEST(AGlucoseMeasurement, ReadsAMolarConcentrationInMolPerLitre) {
  const auto r = decode_glucose_measurement(bytes(packet("06 01 00", "43 C0 11")));  // 67e-4 mol/L
  ASSERT_TRUE(r);
  EXPECT_EQ(r->concentration->unit, GlucoseUnit::mol_per_L);
  EXPECT_EQ(r->concentration->value.value(), 0.0067);
}

TEST(AGlucoseMeasurement, TakesTypeFromTheLowNibbleAndLocationFromTheHighNibble) {
  const auto r = decode_glucose_measurement(bytes(packet("02 01 00", "78 B0 F2")));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->concentration->type, 2);
  EXPECT_EQ(r->concentration->sample_location, 15);
  EXPECT_EQ(glucose_type_name(2), "capillary_plasma");
  EXPECT_EQ(glucose_sample_location_name(15), "not_available");
}

TEST(AGlucoseMeasurement, WithEveryFlagReadsEveryOptionalFieldInOrder) {
  const auto r = decode_glucose_measurement(bytes(packet("1F 05 00", "F6 FF 43 C0 F2 01 00")));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->sequence_number, 5);
  EXPECT_EQ(r->time_offset_minutes, -10);
  EXPECT_EQ(r->measurement_time()->to_string(), "2024-03-15T10:20:45");
  EXPECT_EQ(r->concentration->unit, GlucoseUnit::mol_per_L);
  EXPECT_TRUE(r->sensor_status->device_battery_low());
  EXPECT_FALSE(r->sensor_status->time_fault());
  EXPECT_TRUE(r->context_follows);
}

TEST(AGlucoseMeasurement, ReadsTheSensorStatusAloneRightAfterTheBaseTime) {
  const auto r = decode_glucose_measurement(bytes(packet("08 01 00", "00 08")));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->sensor_status->time_fault());
  EXPECT_FALSE(r->concentration);
}

TEST(AGlucoseMeasurement, AppliesANegativeTimeOffsetAcrossALeapDay) {
  // Base 2024-03-01T00:05:00, offset -10 min.
  const auto r = decode_glucose_measurement(bytes("01 01 00 E8 07 03 01 00 05 00 F6 FF"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->measurement_time()->to_string(), "2024-02-29T23:55:00");
}

TEST(AGlucoseMeasurement, HasNoMeasurementTimeWhenTheBaseTimeIsUnknown) {
  const auto r = decode_glucose_measurement(bytes("01 01 00 00 00 00 00 00 00 00 0A 00"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->base_time.is_valid());
  EXPECT_FALSE(r->measurement_time());
}

TEST(AGlucoseMeasurement, DropsReservedFlagAndStatusBits) {
  const auto r = decode_glucose_measurement(bytes(packet("E8 01 00", "00 F0")));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->sensor_status->bits, 0);
  EXPECT_FALSE(r->concentration);
}

TEST(AGlucoseMeasurement, CallsUndefinedTypesAndLocationsReserved) {
  EXPECT_EQ(glucose_type_name(0), "reserved");
  EXPECT_EQ(glucose_type_name(10), "control_solution");
  EXPECT_EQ(glucose_type_name(11), "reserved");
  EXPECT_EQ(glucose_sample_location_name(0), "reserved");
  EXPECT_EQ(glucose_sample_location_name(4), "control_solution");
  EXPECT_EQ(glucose_sample_location_name(5), "reserved");
  EXPECT_EQ(glucose_sample_location_name(14), "reserved");
}

TEST(AGlucoseMeasurement, MissingItsTypeSampleLocationIsTruncated) {
  const auto r = decode_glucose_measurement(bytes(packet("02 01 00", "78 B0")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail,
            "glucose: type-sample location needs 1 byte at offset 12, only 0 remain (packet is 12 bytes)");
}

}  // namespace
}  // namespace carehub::gatt
