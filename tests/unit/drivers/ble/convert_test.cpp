#include "drivers/ble/convert.hpp"

#include <gtest/gtest.h>

#include "drivers/gatt/parse.hpp"

namespace carehub::ble {
namespace {

const TimePoint kReceived = *parse_rfc3339("2026-11-21T12:00:00Z");

Converted run(std::uint16_t uuid, std::string_view hex) {
  auto bytes = gatt::parse_hex(hex);
  auto decoded = gatt::decode(uuid, *bytes);
  EXPECT_TRUE(decoded) << decoded.error().detail;
  return convert(*decoded, "ble-a4-c1-38-00-00-01", kReceived, TimeOptions{true, std::chrono::minutes(60)});
}

TEST(BleConvert, BloodPressureInKpaBecomesMillimetresOfMercuryWithTheDeviceTime) {
  // flags 0x03: kPa + time stamp; 16.0 / 10.7 / 12.5 kPa (SFLOAT exponent -1), 2026-11-21 10:00:00.
  auto c = run(0x2A35, "03a0f06bf07df0ea070b150a0000");
  ASSERT_EQ(c.readings.size(), 1u);
  const auto& r = c.readings[0];
  EXPECT_EQ(r.kind, Kind::blood_pressure);
  EXPECT_EQ(r.device, "ble-a4-c1-38-00-00-01");
  EXPECT_EQ(r.source, "ble");
  EXPECT_NEAR(r.values.at("systolic"), 120.0, 0.01);
  EXPECT_NEAR(r.values.at("diastolic"), 80.26, 0.01);
  EXPECT_EQ(format_rfc3339(r.time), "2026-11-21T10:00:00Z");
  ASSERT_TRUE(r.device_time);
  EXPECT_EQ(r.received, kReceived);
}

TEST(BleConvert, ASpecialValueNeverBecomesANumber) {
  auto c = run(0x2A35, "00ff07500000f8");  // systolic NaN
  EXPECT_TRUE(c.readings.empty());
  EXPECT_NE(c.skipped.find("NaN"), std::string::npos) << c.skipped;
  auto mean_nan = run(0x2A35, "0078005000ff07");  // optional mean NaN: left out
  ASSERT_EQ(mean_nan.readings.size(), 1u);
  EXPECT_EQ(mean_nan.readings[0].values.count("mean"), 0u);
}

TEST(BleConvert, FahrenheitBecomesCelsius) {
  auto c = run(0x2A1C, "01ec0300ff");  // 100.4 °F
  ASSERT_EQ(c.readings.size(), 1u);
  EXPECT_DOUBLE_EQ(c.readings[0].values.at("value"), 38.0);
  EXPECT_FALSE(c.readings[0].device_time);
  EXPECT_EQ(c.readings[0].time, kReceived);  // no clock: the receive time
}

TEST(BleConvert, AClockFarAheadIsNotUsedAndTheReceiveTimeTakesItsPlace) {
  auto c = run(0x2A1C, "02720100ffea070b16000000");  // 2026-11-22 00:00, 12 h ahead
  ASSERT_EQ(c.readings.size(), 1u);
  EXPECT_FALSE(c.device_time);
  EXPECT_FALSE(c.readings[0].device_time);
  EXPECT_EQ(c.readings[0].time, kReceived);
}

TEST(BleConvert, AnUnsetClockIsNotUsed) {
  auto c = run(0x2A1C, "02720100ff00000000000000");  // year 0: not known
  ASSERT_EQ(c.readings.size(), 1u);
  EXPECT_FALSE(c.device_time);
}

TEST(BleConvert, GlucoseCarriesItsSequenceNumberInMilligramsPerDecilitre) {
  // flags 0x02 (concentration in kg/L), sequence 7, base time 2026-11-21 09:00:00, 9e-4 kg/L, type/location 0x11.
  auto c = run(0x2A18, "020700ea070b1509000009c011");
  ASSERT_EQ(c.sequence, 7);
  ASSERT_EQ(c.readings.size(), 1u);
  EXPECT_EQ(c.readings[0].kind, Kind::glucose);
  EXPECT_DOUBLE_EQ(c.readings[0].values.at("value"), 90.0);
  EXPECT_EQ(format_rfc3339(c.readings[0].time), "2026-11-21T09:00:00Z");
}

TEST(BleConvert, IntermediateCuffPressureIsNotAReading) {
  auto c = run(0x2A36, "007800ff07ff07");
  EXPECT_TRUE(c.readings.empty());
  EXPECT_FALSE(c.skipped.empty());
}

}  // namespace
}  // namespace carehub::ble
