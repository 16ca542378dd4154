#include "drivers/ble/convert.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "drivers/gatt/parse.hpp"

namespace carehub::ble {
namespace {

const TimePoint kReceived = *parse_rfc3339("2026-11-21T12:00:00Z");

Converted run(std::uint16_t uuid, std::string_view hex) {
  auto bytes = gatt::parse_hex(hex);
  auto decoded = gatt::decode(uuid, *bytes);
  EXPECT_TRUE(decoded) << decoded.error().detail;
  return convert(*decoded, "ble-a4-c1-38-00-00-01", kReceived, TimeOptions{.device_time_utc = true});
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
  ASSERT_EQ(c.device_times.size(), 1u);
  EXPECT_EQ(format_rfc3339(c.device_times[0]), "2026-11-21T10:00:00Z");
  EXPECT_EQ(r.received, kReceived);
  EXPECT_EQ(r.time, kReceived) << "placed by the record guard, which knows the device's history";
  EXPECT_FALSE(r.device_time);
}

// Issue 14: a multi-user monitor's User ID decides whose reading it is; it was decoded and then dropped,
// so a spouse's reading on slot 2 went to the patient.
TEST(BleConvert, BloodPressureCarriesTheDevicesUserSlot) {
  // flags 0x08: mmHg + user id; 210/120/150, user 2.
  auto c = run(0x2A35, "08d200780096" "00" "02");
  ASSERT_EQ(c.readings.size(), 1u);
  EXPECT_EQ(c.readings[0].user, std::optional<int>(2));
}

TEST(BleConvert, TheUnknownUserIsKeptAsSlot255NeverAsNoUser) {
  // 0xFF = "unknown user" on a multi-user device: not the same as a device without users (empty), which
  // the device binding alone attributes. Kept as kUnknownUserSlot so attribution leaves it unassigned.
  auto c = run(0x2A35, "08d200780096" "00" "ff");
  ASSERT_EQ(c.readings.size(), 1u);
  EXPECT_EQ(c.readings[0].user, std::optional<int>(kUnknownUserSlot));
  static_assert(kUnknownUserSlot == 255 && kUnknownUserSlot == kUnknownUser);
}

TEST(BleConvert, AMonitorWithoutUserIdHasNoUserSlot) {
  auto c = run(0x2A35, "00d200780096" "00");
  ASSERT_EQ(c.readings.size(), 1u);
  EXPECT_FALSE(c.readings[0].user);
}

TEST(BleConvert, WeightCarriesTheDevicesUserSlot) {
  // flags 0x04: SI + user id; 14000 counts = 70 kg, user 1.
  auto c = run(0x2A9D, "04b03601");
  ASSERT_EQ(c.readings.size(), 1u);
  EXPECT_EQ(c.readings[0].user, std::optional<int>(1));
  auto unknown = run(0x2A9D, "04b036ff");
  ASSERT_EQ(unknown.readings.size(), 1u);
  EXPECT_EQ(unknown.readings[0].user, std::optional<int>(kUnknownUserSlot));
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
  EXPECT_TRUE(c.device_times.empty());
  EXPECT_EQ(c.readings[0].time, kReceived);  // no clock: the receive time
}

TEST(BleConvert, AClockFarAheadStillNamesItsInstantForTheGuardToJudge) {
  auto c = run(0x2A1C, "02720100ffea070b16000000");  // 2026-11-22 00:00, 12 h ahead
  ASSERT_EQ(c.readings.size(), 1u);
  ASSERT_EQ(c.device_times.size(), 1u);
  EXPECT_EQ(format_rfc3339(c.device_times[0]), "2026-11-22T00:00:00Z");
  EXPECT_EQ(c.readings[0].time, kReceived);
}

TEST(BleConvert, AnUnsetClockNamesNoInstant) {
  auto c = run(0x2A1C, "02720100ff00000000000000");  // year 0: not known
  ASSERT_EQ(c.readings.size(), 1u);
  EXPECT_TRUE(c.device_times.empty());
}

TEST(BleConvert, GlucoseCarriesItsSequenceNumberInMilligramsPerDecilitre) {
  // flags 0x02 (concentration in kg/L), sequence 7, base time 2026-11-21 09:00:00, 9e-4 kg/L, type/location 0x11.
  auto c = run(0x2A18, "020700ea070b1509000009c011");
  ASSERT_EQ(c.sequence, 7);
  ASSERT_EQ(c.readings.size(), 1u);
  EXPECT_EQ(c.readings[0].kind, Kind::glucose);
  EXPECT_DOUBLE_EQ(c.readings[0].values.at("value"), 90.0);
  ASSERT_EQ(c.device_times.size(), 1u);
  EXPECT_EQ(format_rfc3339(c.device_times[0]), "2026-11-21T09:00:00Z");
}

// Local device time under the hub's zone rules. TZ is set per test and put back after.
class LocalDeviceTime : public ::testing::Test {
 protected:
  void TearDown() override {
    if (previous_) setenv("TZ", previous_->c_str(), 1);
    else unsetenv("TZ");
    tzset();
  }
  void zone(const char* tz) {
    if (!saved_) {
      if (const char* old = std::getenv("TZ")) previous_ = old;
      saved_ = true;
    }
    setenv("TZ", tz, 1);
    tzset();
  }
  static std::vector<std::string> instants(std::uint16_t y, std::uint8_t mo, std::uint8_t d, std::uint8_t h,
                                           std::uint8_t mi) {
    std::vector<std::string> out;
    for (auto t : device_instants(gatt::DateTime{y, mo, d, h, mi, 0}, false)) out.push_back(format_rfc3339(t));
    return out;
  }
  bool saved_ = false;
  std::optional<std::string> previous_;
};

using Instants = std::vector<std::string>;

TEST_F(LocalDeviceTime, AnOrdinaryWallTimeIsOneInstant) {
  zone("Europe/Berlin");
  EXPECT_EQ(instants(2026, 7, 1, 12, 0), (Instants{"2026-07-01T10:00:00Z"}));
  EXPECT_EQ(instants(2026, 12, 1, 12, 0), (Instants{"2026-12-01T11:00:00Z"}));
  zone("America/New_York");
  EXPECT_EQ(instants(2026, 7, 1, 12, 0), (Instants{"2026-07-01T16:00:00Z"}));
}

TEST_F(LocalDeviceTime, AWallTimeThatOccursTwiceIsBothInstantsEarliestFirst) {
  zone("Europe/Berlin");
  EXPECT_EQ(instants(2026, 10, 25, 2, 30), (Instants{"2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"}));
  zone("America/New_York");
  EXPECT_EQ(instants(2026, 11, 1, 1, 30), (Instants{"2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z"}));
}

TEST_F(LocalDeviceTime, AWallTimeThatNeverOccursIsReadWithTheOffsetBeforeTheSwitch) {
  zone("Europe/Berlin");
  EXPECT_EQ(instants(2026, 3, 29, 2, 30), (Instants{"2026-03-29T01:30:00Z"}));
  zone("America/New_York");
  EXPECT_EQ(instants(2026, 3, 8, 2, 15), (Instants{"2026-03-08T07:15:00Z"}));
}

TEST_F(LocalDeviceTime, DoesNotDependOnWhatMktimeWasAskedBefore) {
  zone("Europe/Berlin");
  (void)instants(2026, 7, 1, 12, 0);  // summer time in mktime's memory
  const auto after_summer = instants(2026, 10, 25, 2, 30);
  (void)instants(2026, 12, 1, 12, 0);  // standard time in its memory
  EXPECT_EQ(instants(2026, 10, 25, 2, 30), after_summer);
}

TEST_F(LocalDeviceTime, AZoneWithoutSummerTimeNamesOneInstant) {
  zone("UTC");
  EXPECT_EQ(instants(2026, 10, 25, 2, 30), (Instants{"2026-10-25T02:30:00Z"}));
  zone("Asia/Kolkata");
  EXPECT_EQ(instants(2026, 10, 25, 2, 30), (Instants{"2026-10-24T21:00:00Z"}));
}

TEST(BleConvert, IntermediateCuffPressureIsNotAReading) {
  auto c = run(0x2A36, "007800ff07ff07");
  EXPECT_TRUE(c.readings.empty());
  EXPECT_FALSE(c.skipped.empty());
}

}  // namespace
}  // namespace carehub::ble
