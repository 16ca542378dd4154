#include "drivers/gatt/temperature.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/drivers/gatt/packets.hpp"

namespace carehub::gatt {
namespace {

using testing::bytes;
using testing::kTimestampHex;

TEST(ATemperatureMeasurement, ReadsCelsiusFromAnIeee11073Float) {
  const auto r = decode_temperature_measurement(bytes("00 6C 01 00 FF"));  // 364 x 10^-1
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unit, TemperatureUnit::celsius);
  EXPECT_EQ(r->temperature.to_string(), "36.4");
  EXPECT_EQ(r->temperature.value(), 36.4);
  EXPECT_FALSE(r->timestamp);
  EXPECT_FALSE(r->temperature_type);
}

TEST(ATemperatureMeasurement, ReadsFahrenheitWhenBitZeroIsSet) {
  const auto r = decode_temperature_measurement(bytes("01 DA 03 00 FF"));  // 986 x 10^-1
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unit, TemperatureUnit::fahrenheit);
  EXPECT_EQ(r->temperature.value(), 98.6);
}

TEST(ATemperatureMeasurement, WithEveryFlagReadsTimestampAndType) {
  const auto r = decode_temperature_measurement(bytes("06 6C 01 00 FF" + std::string(kTimestampHex) + " 03"));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->timestamp->to_string(), "2024-03-15T10:30:45");
  EXPECT_EQ(r->temperature_type, 3);
  EXPECT_EQ(temperature_type_name(*r->temperature_type), "ear");
}

TEST(ATemperatureMeasurement, ReadsTheTypeAloneRightAfterTheValue) {
  const auto r = decode_temperature_measurement(bytes("04 6C 01 00 FF 06"));
  ASSERT_TRUE(r);
  EXPECT_EQ(temperature_type_name(*r->temperature_type), "mouth");
}

TEST(ATemperatureMeasurement, NamesEveryTemperatureTypeAndCallsTheRestReserved) {
  EXPECT_EQ(temperature_type_name(1), "armpit");
  EXPECT_EQ(temperature_type_name(2), "body");
  EXPECT_EQ(temperature_type_name(5), "gastrointestinal_tract");
  EXPECT_EQ(temperature_type_name(9), "tympanum");
  EXPECT_EQ(temperature_type_name(0), "reserved");
  EXPECT_EQ(temperature_type_name(10), "reserved");
  EXPECT_EQ(temperature_type_name(255), "reserved");
}

TEST(ATemperatureMeasurement, KeepsFloatSpecialValuesSpecial) {
  const auto r = decode_temperature_measurement(bytes("00 FE FF 7F 00"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->temperature.kind(), Number::Kind::positive_infinity);
  EXPECT_FALSE(r->temperature.value());
}

TEST(ATemperatureMeasurement, IgnoresReservedFlagBits) {
  const auto r = decode_temperature_measurement(bytes("F8 6C 01 00 FF"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unit, TemperatureUnit::celsius);
  EXPECT_FALSE(r->timestamp);
}

TEST(ATemperatureMeasurement, WithAThreeByteFloatIsTruncated) {
  const auto r = decode_temperature_measurement(bytes("00 6C 01 00"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail, "temperature: temperature needs 4 bytes at offset 1, only 3 remain (packet is 4 bytes)");
}

}  // namespace
}  // namespace carehub::gatt
