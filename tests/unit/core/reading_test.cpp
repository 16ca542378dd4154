#include "core/reading.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <set>
#include <string>

#include "core/reading_json.hpp"
#include "tests/support/fixtures.hpp"

namespace carehub {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const TimePoint kTime = from_epoch_ms(1763719200000);  // 2025-11-21T10:00:00Z

Reading blood_pressure(double sys = 120, double dia = 80) {
  return test::blood_pressure(sys, dia, kTime,
                              {.device = "ble-aa-bb-cc-dd-ee-ff", .patient = "Patient/p1", .source = "ble"});
}

// A reading of `kind` whose required components all sit at their minimum.
Reading minimal(Kind kind) {
  Reading r;
  r.kind = kind;
  r.time = kTime;
  r.received = kTime;
  for (const auto& c : info(kind).components) {
    if (c.required) r.values[std::string(c.name)] = c.min;
  }
  return r;
}

TEST(Validate, AcceptsAPlausibleBloodPressure) {
  auto v = validate(blood_pressure());
  EXPECT_TRUE(v.has_value()) << v.error().message;
}

TEST(Validate, AcceptsOptionalComponents) {
  auto r = blood_pressure();
  r.values["mean"] = 93;
  r.values["pulse"] = 64;
  EXPECT_TRUE(validate(r).has_value());
}

TEST(Validate, RefusesAReadingMissingARequiredComponentNamingIt) {
  auto r = blood_pressure();
  r.values.erase("diastolic");
  auto v = validate(r);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, Errc::invalid_argument);
  EXPECT_THAT(v.error().message, AllOf(HasSubstr("blood-pressure"), HasSubstr("\"diastolic\""), HasSubstr("required")));
}

TEST(Validate, RefusesAReadingWithNoValuesAtAll) {
  Reading r = minimal(Kind::heart_rate);
  r.values.clear();
  EXPECT_FALSE(validate(r).has_value());
}

TEST(Validate, RefusesAnUnknownComponentListingTheKnownOnes) {
  auto r = blood_pressure();
  r.values["heart"] = 60;
  auto v = validate(r);
  ASSERT_FALSE(v.has_value());
  EXPECT_THAT(v.error().message,
              AllOf(HasSubstr("unknown component \"heart\""), HasSubstr("systolic, diastolic, mean, pulse")));
}

TEST(Validate, RefusesNotANumberAndInfinities) {
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    auto r = blood_pressure(bad, 80);
    auto v = validate(r);
    ASSERT_FALSE(v.has_value()) << bad;
    EXPECT_THAT(v.error().message, HasSubstr("systolic")) << bad;
  }
}

TEST(Validate, NamesTheComponentValueUnitAndRangeOfAnImplausibleValue) {
  auto v = validate(blood_pressure(400, 80));
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().message, "blood-pressure: systolic = 400 mm[Hg] is outside the plausible range 20..350");
}

TEST(Validate, AcceptsEveryComponentExactlyAtItsRangeEdges) {
  for (const auto& k : all_kinds()) {
    for (const auto& c : k.components) {
      SCOPED_TRACE(std::string(k.name) + "/" + std::string(c.name));
      for (double edge : {c.min, c.max}) {
        auto r = minimal(k.kind);
        r.values[std::string(c.name)] = edge;
        auto v = validate(r);
        EXPECT_TRUE(v.has_value()) << edge << ": " << v.error().message;
      }
    }
  }
}

TEST(Validate, RefusesEveryComponentJustOutsideItsRange) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (const auto& k : all_kinds()) {
    for (const auto& c : k.components) {
      SCOPED_TRACE(std::string(k.name) + "/" + std::string(c.name));
      for (double outside : {std::nextafter(c.min, -inf), std::nextafter(c.max, inf)}) {
        auto r = minimal(k.kind);
        r.values[std::string(c.name)] = outside;
        auto v = validate(r);
        ASSERT_FALSE(v.has_value()) << outside;
        EXPECT_THAT(v.error().message, HasSubstr(std::string(c.name)));
      }
    }
  }
}

TEST(Validate, RefusesATimeBefore2000AsAClockNeverSet) {
  auto r = blood_pressure();
  r.time = from_epoch_ms(946684800000 - 1);  // 1999-12-31T23:59:59.999Z
  auto v = validate(r);
  ASSERT_FALSE(v.has_value());
  EXPECT_THAT(v.error().message, AllOf(HasSubstr("1999-12-31T23:59:59.999Z"), HasSubstr("before 2000")));
  r.time = from_epoch_ms(946684800000);  // 2000-01-01T00:00:00Z
  EXPECT_TRUE(validate(r).has_value());
}

TEST(ReadingUid, IsAVersion8UuidInCanonicalForm) {
  const auto uid = reading_uid(blood_pressure());
  EXPECT_TRUE(std::regex_match(uid, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << uid;
}

TEST(ReadingUid, IsTheSameForTheSameMeasurement) {
  EXPECT_EQ(reading_uid(blood_pressure()), reading_uid(blood_pressure()));
}

TEST(ReadingUid, DiffersWhenAnyIdentifyingFieldDiffers) {
  const auto base = blood_pressure();
  std::vector<std::pair<std::string, Reading>> variants;
  {
    auto r = base;
    r.patient = "Patient/p2";
    variants.emplace_back("patient", r);
  }
  {
    auto r = base;
    r.device = "ble-11-22-33-44-55-66";
    variants.emplace_back("device", r);
  }
  {
    auto r = base;
    r.kind = Kind::heart_rate;
    variants.emplace_back("kind", r);
  }
  {
    auto r = base;
    r.time += Millis{1};
    variants.emplace_back("time", r);
  }
  {
    auto r = base;
    r.values["systolic"] = 121;
    variants.emplace_back("a value", r);
  }
  {
    auto r = base;
    r.values["pulse"] = 60;
    variants.emplace_back("an extra value", r);
  }
  {
    auto r = base;
    r.values = {{"systolic", 80}, {"diastolic", 120}};
    variants.emplace_back("values swapped between components", r);
  }
  std::set<std::string> seen{reading_uid(base)};
  for (const auto& [what, r] : variants) {
    EXPECT_TRUE(seen.insert(reading_uid(r)).second) << "uid did not change with " << what;
  }
}

// design.md invariant 9 (issue 13): hubs of one fleet upload to one server. Golden values computed apart from
// carehub: uuid8(sha256("carehub-reading-v1\nPatient/p1\n<device>\nblood-pressure\n1763719200000\ndiastolic=80\n
// systolic=120")) with python's hashlib, bytes 6 and 8 set to version 8 and the RFC 9562 variant.
TEST(ReadingUid, AHubLocalDeviceIsQualifiedByTheHubSoTwoHubsNeverShareAReading) {
  auto r = blood_pressure();
  r.device = "manual";
  EXPECT_EQ(reading_uid(r, "hub-0001"), "5a90bd44-a696-8d24-aba1-5a7766886038") << "the device line is \"hub-0001/manual\"";
  EXPECT_EQ(reading_uid(r), "7dc158ff-2eb1-8101-a9d1-df8c2e3b68e4") << "no hub: the uid carehub always gave";
  for (const char* device : {"manual", "openhab-LivingRoom_Temperature", "mqtt-home/scale", "kitchen-scale",
                             "ble-AA-BB-CC-DD-EE-FF", "ble-aa-bb", "ble-aa-bb-cc-dd-ee-fg"}) {
    r.device = device;
    EXPECT_NE(reading_uid(r, "hub-0001"), reading_uid(r, "hub-0002")) << device << " is only unique within its hub";
    EXPECT_EQ(reading_uid(r, "hub-0001"), reading_uid(r, "hub-0001")) << device;
  }
}

TEST(ReadingUid, ABleDevicesReadingIsOneMeasurementWhicheverHubRelaysIt) {
  // The PHD IG's conditional-create identifier: the same measurement through two gateways is one Observation.
  // Unchanged from before hub ids entered, so a device's memory resent after the upgrade is still a duplicate.
  const auto r = blood_pressure();
  EXPECT_EQ(reading_uid(r, "hub-0001"), "64eb9fe2-04ec-8b55-b48f-956d7d62e23e");
  EXPECT_EQ(reading_uid(r, "hub-0002"), reading_uid(r, "hub-0001"));
  EXPECT_EQ(reading_uid(r), reading_uid(r, "hub-0001"));
}

TEST(FleetDeviceId, OnlyABluetoothAddressIsUniqueByItself) {
  EXPECT_EQ(fleet_device_id("ble-a4-c1-38-00-00-01", "hub-0001"), "ble-a4-c1-38-00-00-01");
  EXPECT_EQ(fleet_device_id("manual", "hub-0001"), "hub-0001/manual");
  EXPECT_EQ(fleet_device_id("openhab-Hall_Motion", "hub-0001"), "hub-0001/openhab-Hall_Motion");
  EXPECT_EQ(fleet_device_id("mqtt-home/scale", "hub-0001"), "hub-0001/mqtt-home/scale");
  EXPECT_EQ(fleet_device_id("ble-A4-C1-38-00-00-01", "hub-0001"), "hub-0001/ble-A4-C1-38-00-00-01")
      << "not the form the BLE driver gives: a name someone chose";
  EXPECT_EQ(fleet_device_id("manual", ""), "manual");
  EXPECT_TRUE(hardware_device_id("ble-00-11-22-aa-bb-ff"));
  for (const char* id : {"ble-00-11-22-aa-bb", "ble-00-11-22-aa-bb-ff-", "ble-00:11:22:aa:bb:ff", "ble-0011-22-aa-bb-ff",
                         "BLE-00-11-22-aa-bb-ff", "", "manual"}) {
    EXPECT_FALSE(hardware_device_id(id)) << id;
  }
}

TEST(ReadingUid, IgnoresWhenAndHowTheHubReceivedTheReading) {
  // A device resending its memory on reconnect delivers the same measurement again, later.
  auto resent = blood_pressure();
  resent.received += std::chrono::hours(5);
  resent.source = "mqtt";
  EXPECT_EQ(reading_uid(resent), reading_uid(blood_pressure()));
}

TEST(ReadingUid, IsStableAcrossAJsonRoundTrip) {
  auto r = blood_pressure(120.123456789, 80.5);
  r.values["pulse"] = 61;
  const auto line = reading_to_json(r).dump();
  auto back = parse_reading_json(line, r.received);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(reading_uid(*back), reading_uid(r));
}

TEST(ReadingUid, IsStableForAValueConvertedFromKilopascal) {
  const auto received = kTime;
  auto kpa = parse_reading_json(
      R"({"kind":"blood-pressure","time":"2025-11-21T10:00:00Z","device":"ble-aa","patient":"Patient/p1",)"
      R"("values":{"systolic":16,"diastolic":10.6},"units":{"systolic":"kPa","diastolic":"kPa"}})",
      received);
  ASSERT_TRUE(kpa.has_value()) << kpa.error().message;
  // The same reading written out in canonical units (as `carehubctl measurements --json` does) and read back.
  auto again = parse_reading_json(reading_to_json(*kpa).dump(), received);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(reading_uid(*again), reading_uid(*kpa));
  // And typed in by hand with the converted value's printed precision.
  auto typed = parse_reading_json(
      R"({"kind":"blood-pressure","time":"2025-11-21T10:00:00Z","device":"ble-aa","patient":"Patient/p1",)"
      R"("values":{"systolic":120.009852135,"diastolic":79.506527040}})",
      received);
  ASSERT_TRUE(typed.has_value()) << typed.error().message;
  EXPECT_EQ(reading_uid(*typed), reading_uid(*kpa));
}

TEST(ReadingUid, IsTheSameForATemperatureGivenInFahrenheitOrCelsius) {
  auto fahrenheit = parse_reading_json(
      R"({"kind":"body-temperature","time":"2025-11-21T10:00:00Z","values":{"value":100.4},"units":{"value":"°F"}})",
      kTime);
  auto celsius =
      parse_reading_json(R"({"kind":"body-temperature","time":"2025-11-21T10:00:00Z","values":{"value":38}})", kTime);
  ASSERT_TRUE(fahrenheit.has_value()) << fahrenheit.error().message;
  ASSERT_TRUE(celsius.has_value()) << celsius.error().message;
  EXPECT_EQ(reading_uid(*fahrenheit), reading_uid(*celsius));
}

}  // namespace
}  // namespace carehub
