// Proves core/attribution.cpp: every rule of design.md invariant 7, one at a time.
#include "core/attribution.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/fixtures.hpp"

namespace carehub {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

const TimePoint kPaired = from_epoch_ms(1795255200000);  // 2026-11-21T10:00:00Z

Reading bp(TimePoint t, std::optional<int> user = std::nullopt, std::string source = "ble",
           std::string device = "ble-cuff") {
  Reading r = test::blood_pressure(120, 80, t, {.device = std::move(device), .source = std::move(source)});
  r.user = user;
  return r;
}

Device cuff(std::string patient, std::optional<TimePoint> since) {
  Device d;
  d.id = "ble-cuff";
  d.patient = std::move(patient);
  d.bound_since = since;
  return d;
}

class AttributionTest : public ::testing::Test {
 protected:
  Attribution a{"Patient/kit"};
};

TEST_F(AttributionTest, GivesAnUnknownDeviceTheHubsPatientAsBefore) {
  const auto got = a.attribute(bp(kPaired - 24h, std::nullopt, "openhab", "openhab-temp"));
  EXPECT_EQ(got.patient, "Patient/kit");
  EXPECT_TRUE(got.unassigned.empty());
}

TEST_F(AttributionTest, KeepsAPatientTheReadingNamesEvenFromABoundUserSlotsDevice) {
  a.set_binding({"ble-cuff", 1, "Patient/p", kPaired, ""});
  auto r = bp(kPaired - 1h, 2);
  r.patient = "Patient/visitor";  // carehubctl measure add --patient
  EXPECT_EQ(a.attribute(r).patient, "Patient/visitor");
}

TEST_F(AttributionTest, GivesARegisteredDeviceItsPatientFromItsPairingOn) {
  a.set_device(cuff("Patient/p", kPaired));
  EXPECT_EQ(a.attribute(bp(kPaired)).patient, "Patient/p");
  EXPECT_EQ(a.attribute(bp(kPaired + 1min)).patient, "Patient/p");
}

TEST_F(AttributionTest, LeavesASecondHandDevicesOlderMemoryUnassigned) {
  a.set_device(cuff("Patient/p", kPaired));
  const auto got = a.attribute(bp(kPaired - 1ms));
  EXPECT_TRUE(got.patient.empty());
  EXPECT_THAT(got.unassigned, HasSubstr("before the device was paired"));
  EXPECT_THAT(got.unassigned, HasSubstr("2026-11-21T10:00:00Z"));
}

TEST_F(AttributionTest, AnUnboundDeviceTakesTheHubsPatientButStillOnlyFromItsPairingOn) {
  a.set_device(cuff("", kPaired));
  EXPECT_EQ(a.attribute(bp(kPaired + 1s)).patient, "Patient/kit");
  EXPECT_TRUE(a.attribute(bp(kPaired - 1s)).patient.empty());
}

TEST_F(AttributionTest, KeepsAttributingAllReadingsOfADeviceRegisteredBeforeAnyoneKnewWhen) {
  a.set_device(cuff("Patient/p", std::nullopt));  // schema < 6
  EXPECT_EQ(a.attribute(bp(kPaired - 24h * 365)).patient, "Patient/p");
}

TEST_F(AttributionTest, SourcesWithoutADeviceMemoryKeepTodaysBehaviourWhateverTheTime) {
  for (const char* source : {"manual", "mqtt", "openhab", "sim"}) {
    Device d = cuff("Patient/p", kPaired);
    d.id = std::string(source) + "-dev";
    a.set_device(d);
    EXPECT_EQ(a.attribute(bp(kPaired - 48h, std::nullopt, source, d.id)).patient, "Patient/p") << source;
    EXPECT_FALSE(has_device_memory(source));
  }
  EXPECT_TRUE(has_device_memory("ble"));
  EXPECT_TRUE(has_device_memory("a-new-driver"));  // careful by default
}

TEST_F(AttributionTest, AttributesABoundUserSlotToItsPatientFromItsBindingOn) {
  a.set_device(cuff("Patient/p", kPaired - 24h));
  a.set_binding({"ble-cuff", 1, "Patient/p", kPaired, "tech"});
  a.set_binding({"ble-cuff", 2, "Patient/spouse", kPaired + 1h, "tech"});
  EXPECT_EQ(a.attribute(bp(kPaired, 1)).patient, "Patient/p");
  EXPECT_EQ(a.attribute(bp(kPaired + 1h, 2)).patient, "Patient/spouse");
  const auto early = a.attribute(bp(kPaired + 59min, 2));
  EXPECT_TRUE(early.patient.empty());
  EXPECT_THAT(early.unassigned, HasSubstr("before user slot 2 was bound"));
}

TEST_F(AttributionTest, LeavesAnUnboundSlotOfABoundDeviceUnassignedNotTheDevicesPatient) {
  a.set_device(cuff("Patient/p", kPaired - 24h));
  a.set_binding({"ble-cuff", 1, "Patient/p", kPaired, "tech"});
  const auto spouse = a.attribute(bp(kPaired + 1h, 2));
  EXPECT_TRUE(spouse.patient.empty());
  EXPECT_THAT(spouse.unassigned, HasSubstr("user slot 2 of the device is not bound"));
  const auto nameless = a.attribute(bp(kPaired + 1h));
  EXPECT_TRUE(nameless.patient.empty());
  EXPECT_THAT(nameless.unassigned, HasSubstr("names none"));
}

TEST_F(AttributionTest, AUserSlotOfADeviceWithNoBoundSlotIsUnassignedNotTheDevicesPatient) {
  a.set_device(cuff("Patient/p", kPaired));
  const auto got = a.attribute(bp(kPaired + 1min, 2));
  EXPECT_TRUE(got.patient.empty());
  EXPECT_THAT(got.unassigned, HasSubstr("names user slot 2 but none of its slots is bound"));
  EXPECT_THAT(got.unassigned, HasSubstr("devices assign ble-cuff --user 2 --patient"));
  a.set_binding({"ble-cuff", 1, "Patient/p", kPaired, ""});
  a.remove_binding("ble-cuff", 1);  // the last slot binding gone: unassigned again, never the device's patient
  EXPECT_TRUE(a.attribute(bp(kPaired + 1min, 1)).patient.empty());
  EXPECT_EQ(a.attribute(bp(kPaired + 1min)).patient, "Patient/p") << "a reading naming no slot: the device's";
}

TEST_F(AttributionTest, TheDevicesUnknownUserIsAlwaysUnassignedEvenOnADeviceWithoutSlotBindings) {
  a.set_device(cuff("Patient/p", kPaired));
  const auto got = a.attribute(bp(kPaired + 1min, kUnknownUser));
  EXPECT_TRUE(got.patient.empty());
  EXPECT_THAT(got.unassigned, HasSubstr("unknown user"));
}

TEST_F(AttributionTest, ADeviceMovedToAnotherPatientStartsAFreshBindingTime) {
  a.set_device(cuff("Patient/p", kPaired));
  const TimePoint later = kPaired + 24h;
  EXPECT_EQ(a.bound_since_for(cuff("Patient/p", std::nullopt), later), kPaired);  // same patient: kept
  EXPECT_EQ(a.bound_since_for(cuff("Patient/q", kPaired), later), later);        // moved: now
  EXPECT_EQ(a.bound_since_for(cuff("Patient/kit", kPaired), later), later);
  Device other = cuff("Patient/p", std::nullopt);
  other.id = "ble-new";
  EXPECT_EQ(a.bound_since_for(other, later), later);  // new: now
  // An empty patient is the hub's patient: naming it explicitly is no move.
  Attribution b{"Patient/kit"};
  b.set_device(cuff("", kPaired));
  EXPECT_EQ(b.bound_since_for(cuff("Patient/kit", std::nullopt), later), kPaired);
}

TEST_F(AttributionTest, ForgettingADeviceForgetsItsSlotBindings) {
  a.set_device(cuff("Patient/p", kPaired));
  a.set_binding({"ble-cuff", 1, "Patient/p", kPaired, ""});
  a.forget_device("ble-cuff");
  EXPECT_FALSE(a.binding("ble-cuff", 1).has_value());
  EXPECT_EQ(a.attribute(bp(kPaired - 24h)).patient, "Patient/kit");  // unknown again: today's default
  EXPECT_TRUE(a.attribute(bp(kPaired - 24h, 1)).patient.empty()) << "a slot never falls to the default";
}

}  // namespace
}  // namespace carehub
