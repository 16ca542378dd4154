// The PHD IG (STU 2) side of the mapping: what a reading from a Personal Health Device claims and carries
// (profiles, categories, MDC codes, the IG's identifier, the coincident timestamp, flags), and the PhdDevice
// and PhgDevice resources. The rules checked here are transcribed from the IG's FSH (HL7/phd input/fsh).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "sync/fhir_mapping.hpp"

namespace carehub::fhir {
namespace {

using nlohmann::json;

constexpr const char* kPhd = "http://hl7.org/fhir/uv/phd/StructureDefinition/";
constexpr const char* kVitals = "http://hl7.org/fhir/StructureDefinition/";
constexpr const char* kUid = "3f2b9c4e-1a2b-8c3d-9e4f-0123456789ab";

Device cuff() {
  Device d;
  d.id = "ble-00-e5-de-ad-77-c3";
  d.address = "00:E5:DE:AD:77:C3";
  d.category = "blood-pressure";
  d.manufacturer = "A&D Medical";
  d.model = "UA-651BLE";
  d.serial = "5120334";
  d.firmware_revision = "1.04";
  d.hardware_revision = "B";
  return d;
}

StoredReading stored(Kind kind, std::map<std::string, double> values, bool device_time = true) {
  StoredReading s;
  s.uid = kUid;
  s.reading.kind = kind;
  s.reading.device = "ble-00-e5-de-ad-77-c3";
  s.reading.patient = "Patient/p1";
  s.reading.time = *parse_rfc3339("2026-11-21T10:00:00Z");
  s.reading.received = s.reading.time + std::chrono::seconds(3);
  if (device_time) s.reading.device_time = s.reading.time;
  s.reading.values = std::move(values);
  return s;
}

struct Fixture : ::testing::Test {
  Device device = cuff();
  References refs() const {
    References r{"Device/7", "Device/1"};
    r.device = &device;
    return r;
  }
};

std::set<std::string> category_codes(const json& obs) {
  std::set<std::string> out;
  for (const auto& cat : obs.value("category", json::array())) {
    for (const auto& c : cat["coding"]) out.insert(c["system"].get<std::string>() + "#" + c["code"].get<std::string>());
  }
  return out;
}

bool has_coding(const json& cc, const std::string& system, const std::string& code) {
  for (const auto& c : cc["coding"]) {
    if (c["system"] == system && c["code"] == code) return true;
  }
  return false;
}

using PhdObservation = Fixture;

TEST_F(PhdObservation, ClaimsTheCompoundProfileAndBpForABloodPressure) {
  const auto obs = observation(stored(Kind::blood_pressure, {{"systolic", 128}, {"diastolic", 82}, {"mean", 97}}), refs());
  EXPECT_EQ(obs["meta"]["profile"], json::array({std::string(kPhd) + "PhdCompoundNumericObservation", std::string(kVitals) + "bp"}));
  EXPECT_EQ(category_codes(obs),
            (std::set<std::string>{"http://terminology.hl7.org/CodeSystem/observation-category#vital-signs",
                                   "http://hl7.org/fhir/uv/phd/CodeSystem/PhdObservationCategories#phd"}));
  EXPECT_TRUE(has_coding(obs["code"], "urn:iso:std:iso:11073:10101", "150020"));
  // PhdCompoundNumericObservation: every component carries its MDC type beside the LOINC code.
  const std::map<std::string, std::string> mdc{{"8480-6", "150021"}, {"8462-4", "150022"}, {"8478-0", "150023"}};
  ASSERT_EQ(obs["component"].size(), 3u);
  for (const auto& c : obs["component"]) {
    const auto loinc = c["code"]["coding"][0]["code"].get<std::string>();
    EXPECT_TRUE(has_coding(c["code"], "urn:iso:std:iso:11073:10101", mdc.at(loinc))) << loinc;
  }
  EXPECT_FALSE(obs.contains("valueQuantity")) << "PhdCompoundNumericObservation: value[x] 0..0";
}

TEST_F(PhdObservation, CarriesThePhdIdentifierButIsCreatedOnItsUuid) {
  const auto entries = observations(stored(Kind::body_temperature, {{"value", 36.9}}), refs());
  const auto& obs = entries[0].resource;
  EXPECT_EQ(obs["identifier"][0], json({{"system", "urn:ietf:rfc:3986"}, {"value", std::string("urn:uuid:") + kUid}}));
  // device (address, hex, no separators) - patient logical id - MDC type - device time in s since 2000.
  EXPECT_EQ(obs["identifier"][1],
            json({{"system", std::string(kPhd) + "PhdBaseObservation"}, {"value", "00E5DEAD77C3-p1-150364-848570400"}}));
  EXPECT_EQ(entries[0].if_none_exist, observation_if_none_exist(kUid));
}

// The BLE driver keeps two records of one device second that differ in their values (record_guard.cpp).
// The IG's identifier has no values: created on it, the second would match the first and be lost.
TEST_F(PhdObservation, TwoReadingsOfOneDeviceSecondWithDifferentValuesAreTwoResources) {
  auto a = stored(Kind::body_temperature, {{"value", 36.9}});
  auto b = stored(Kind::body_temperature, {{"value", 37.4}});
  a.uid = reading_uid(a.reading);
  b.uid = reading_uid(b.reading);
  const auto ea = observations(a, refs());
  const auto eb = observations(b, refs());
  EXPECT_EQ(ea[0].resource["identifier"][1], eb[0].resource["identifier"][1]) << "the IG's identifier cannot tell them apart";
  EXPECT_NE(ea[0].if_none_exist, eb[0].if_none_exist);
}

TEST_F(PhdObservation, BuildsTheIdentifierFromTheDevicesOwnTimeAndSystemId) {
  device.system_id = "FEEDABEEDEAD77C3";
  auto s = stored(Kind::body_temperature, {{"value", 36.9}});
  s.reading.time = *parse_rfc3339("2026-11-21T10:00:00.250Z");
  s.reading.device_time = s.reading.time;
  EXPECT_EQ(observation(s, refs())["identifier"][1]["value"], "FEEDABEEDEAD77C3-p1-150364-848570400.250");
}

TEST_F(PhdObservation, LeavesThePhdIdentifierOutWhenTheHubDidNotBelieveTheDevicesClock) {
  auto s = stored(Kind::body_temperature, {{"value", 36.9}});
  s.reading.device_time = *parse_rfc3339("2019-01-01T00:00:00Z");  // a reset clock: the hub used the receive time
  const auto entries = observations(s, refs());
  EXPECT_EQ(entries[0].resource["identifier"].size(), 1u);
  ASSERT_EQ(entries.size(), 2u) << "the coincident timestamp still records the correction";
  EXPECT_EQ(entries[1].resource["valueDateTime"], "2019-01-01T00:00:00Z");
}

TEST_F(PhdObservation, WithoutADeviceTimeIsCreatedOnItsUuid) {
  const auto entries = observations(stored(Kind::body_temperature, {{"value", 36.9}}, false), refs());
  ASSERT_EQ(entries.size(), 1u) << "no device time: no coincident timestamp";
  EXPECT_EQ(entries[0].resource["identifier"].size(), 1u);
  EXPECT_EQ(entries[0].if_none_exist, observation_if_none_exist(kUid));
}

TEST_F(PhdObservation, RelatesTheDevicesClockToTheHubsWithACoincidentTimestamp) {
  auto s = stored(Kind::body_temperature, {{"value", 36.9}});
  s.reading.device_time = *parse_rfc3339("2026-11-21T09:58:00Z");  // device clock 2 min slow; hub kept its own
  const auto entries = observations(s, refs());
  ASSERT_EQ(entries.size(), 2u);
  const auto& coin = entries[1].resource;
  EXPECT_EQ(coin["meta"]["profile"][0], std::string(kPhd) + "PhdCoincidentTimeStampObservation");
  EXPECT_EQ(coin["code"]["coding"][0]["code"], "67975");
  EXPECT_EQ(coin["subject"]["reference"], "Device/7") << "subject: the PHD";
  EXPECT_EQ(coin["device"]["reference"], "Device/1") << "device: the PHG";
  EXPECT_EQ(coin["effectiveDateTime"], "2026-11-21T10:00:00Z");
  EXPECT_EQ(coin["valueDateTime"], "2026-11-21T09:58:00Z");
  EXPECT_FALSE(coin.contains("derivedFrom"));
  // The measurement cites it by identifier (batch entries cannot reference each other).
  const auto& ext = entries[0].resource["extension"];
  ASSERT_EQ(ext.size(), 2u);
  EXPECT_EQ(ext[1]["url"], "http://hl7.org/fhir/uv/phd/StructureDefinition/CoincidentTimeStampReference");
  EXPECT_EQ(ext[1]["valueReference"]["identifier"], coin["identifier"][0]);
  EXPECT_EQ(entries[1].if_none_exist, identifier_query("urn:ietf:rfc:3986", coin["identifier"][0]["value"].get<std::string>()));
}

TEST_F(PhdObservation, CoincidentTimestampsOfTwoHubsNeverShareAnIdentity) {
  const auto s = stored(Kind::body_temperature, {{"value", 36.9}});
  auto a = refs();
  auto b = refs();
  b.hub = "Device/2";
  EXPECT_NE(observations(s, a).back().if_none_exist, observations(s, b).back().if_none_exist);
}

TEST_F(PhdObservation, DerivedObservationsShareTheDeviceTimeAndTheCoincidentTimestamp) {
  const auto entries = observations(stored(Kind::blood_pressure, {{"systolic", 128}, {"diastolic", 82}, {"pulse", 64}}), refs());
  ASSERT_EQ(entries.size(), 3u);
  const auto& pulse = entries[1].resource;
  EXPECT_EQ(pulse["meta"]["profile"], json::array({std::string(kPhd) + "PhdNumericObservation", std::string(kVitals) + "heartrate"}));
  EXPECT_TRUE(has_coding(pulse["code"], "urn:iso:std:iso:11073:10101", "149546")) << "MDC_PULS_RATE_NON_INV";
  EXPECT_EQ(pulse["identifier"][1]["value"], "00E5DEAD77C3-p1-149546-848570400");
  EXPECT_EQ(pulse["derivedFrom"][0]["identifier"], entries[0].resource["identifier"][0]) << "cites the panel's urn:uuid";
  EXPECT_EQ(pulse["extension"][1], entries[0].resource["extension"][1]);
}

TEST_F(PhdObservation, WithoutAPhdDeviceClaimsVitalSignsOnly) {
  const auto entries = observations(stored(Kind::body_temperature, {{"value", 36.9}}), {"Device/7", "Device/1"});
  ASSERT_EQ(entries.size(), 1u);
  const auto& obs = entries[0].resource;
  EXPECT_EQ(obs["meta"]["profile"], json::array({std::string(kVitals) + "bodytemp"}));
  EXPECT_EQ(category_codes(obs), std::set<std::string>{"http://terminology.hl7.org/CodeSystem/observation-category#vital-signs"});
  EXPECT_EQ(obs["code"]["coding"].size(), 1u) << "no MDC code claimed for a device that is not a PHD";
}

TEST_F(PhdObservation, ABleDeviceWhoseInformationServiceWasNotReadIsNoPhd) {
  device.manufacturer.clear();
  EXPECT_FALSE(phd_device(device));
  EXPECT_EQ(observation(stored(Kind::body_temperature, {{"value", 36.9}}), refs())["meta"]["profile"].size(), 1u);
}

TEST_F(PhdObservation, CodesCapillaryGlucoseWithLoincAndMdc) {
  const auto obs = observation(stored(Kind::glucose, {{"value", 104}}), refs());
  EXPECT_TRUE(has_coding(obs["code"], "http://loinc.org", "41653-7"));
  EXPECT_TRUE(has_coding(obs["code"], "urn:iso:std:iso:11073:10101", "160184"));
  EXPECT_EQ(category_codes(obs), std::set<std::string>{"http://hl7.org/fhir/uv/phd/CodeSystem/PhdObservationCategories#phd"});
}

TEST_F(PhdObservation, SendsStepsAsActivityOverAPeriod) {
  const auto obs = observation(stored(Kind::steps, {{"value", 5400}}), refs());
  EXPECT_TRUE(category_codes(obs).contains("http://terminology.hl7.org/CodeSystem/observation-category#activity"));
  EXPECT_FALSE(obs.contains("effectiveDateTime"));
  EXPECT_EQ(obs["effectivePeriod"], json({{"end", "2026-11-21T10:00:00Z"}})) << "the pedometer does not say when counting began";
}

TEST_F(PhdObservation, KeepsRoomSensorsOutOfClinicalViews) {
  Device room;
  room.id = "openhab-Living_Temp";
  References r{"Device/9", "Device/1"};
  r.device = &room;
  for (const auto kind : {Kind::room_temperature, Kind::room_humidity, Kind::illuminance, Kind::motion}) {
    const auto entries = observations(stored(kind, {{"value", 1}}), r);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(category_codes(entries[0].resource),
              std::set<std::string>{"urn:carehub:fhir:CodeSystem:observation-category#home-environment"});
    EXPECT_FALSE(entries[0].resource.contains("meta"));
  }
}

TEST_F(PhdObservation, FlagsEvidenceForDashboardsWithTheMeasurementStatusThePhdProfileRequires) {
  auto r = refs();
  r.flags = {{"systolic", Flag::critical_high}, {"diastolic", Flag::high}};
  const auto obs = observation(stored(Kind::blood_pressure, {{"systolic", 205}, {"diastolic", 112}}), r);
  ASSERT_EQ(obs["interpretation"].size(), 1u);
  const auto& worst = obs["interpretation"][0];
  EXPECT_TRUE(has_coding(worst, "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "HH"));
  EXPECT_TRUE(has_coding(worst, "http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status", "in-alarm"));
  EXPECT_TRUE(has_coding(obs["component"][0]["interpretation"][0], "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "HH"));
  EXPECT_TRUE(has_coding(obs["component"][1]["interpretation"][0], "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "H"));
  // Not a PHD: the v3 flag alone (no PHD profile asks for a measurement status).
  References plain{"", "Device/1"};
  plain.flags = {{"value", Flag::critical_low}};
  const auto low = observation(stored(Kind::spo2, {{"value", 84}}), plain);
  EXPECT_EQ(low["interpretation"][0]["coding"].size(), 1u);
  EXPECT_EQ(low["interpretation"][0]["coding"][0]["code"], "LL");
}

TEST(FlagFromBand, ReadsTheRulesBandNames) {
  EXPECT_EQ(flag_from_band("extreme_high"), Flag::critical_high);
  EXPECT_EQ(flag_from_band("high"), Flag::high);
  EXPECT_EQ(flag_from_band("low"), Flag::low);
  EXPECT_EQ(flag_from_band("extreme_low"), Flag::critical_low);
  EXPECT_EQ(flag_from_band("optimal"), std::nullopt);
  EXPECT_EQ(flag_from_band("bogus"), std::nullopt);
}

using PhdDeviceResource = Fixture;

TEST_F(PhdDeviceResource, FollowsPhdDeviceFromTheDeviceInformationService) {
  device.system_id = "FEEDABEEDEAD77C3";
  device.software_revision = "2.1";
  const auto dev = sensor_device(device, "hub-0001");
  EXPECT_EQ(dev["meta"]["profile"], json::array({std::string(kPhd) + "PhdDevice"}));
  EXPECT_TRUE(has_coding(dev["type"], "urn:iso:std:iso:11073:10101", "65573"));
  EXPECT_EQ(dev["manufacturer"], "A&D Medical");
  EXPECT_EQ(dev["modelNumber"], "UA-651BLE");
  EXPECT_EQ(dev["serialNumber"], "5120334");
  ASSERT_EQ(dev["specialization"].size(), 1u);
  EXPECT_TRUE(has_coding(dev["specialization"][0]["systemType"], "urn:iso:std:iso:11073:10101", "528391"));
  EXPECT_EQ(dev["specialization"][0]["version"], "1");
  std::map<std::string, std::string> versions;
  for (const auto& v : dev["version"]) versions[v["type"]["coding"][0]["code"].get<std::string>()] = v["value"].get<std::string>();
  EXPECT_EQ(versions, (std::map<std::string, std::string>{{"531974", "B"}, {"531975", "2.1"}, {"531976", "1.04"}}));
  std::map<std::string, json> ids;
  for (const auto& id : dev["identifier"]) ids[id["system"].get<std::string>()] = id;
  EXPECT_EQ(ids.at("urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680")["value"], "FE-ED-AB-EE-DE-AD-77-C3");
  EXPECT_EQ(ids.at("urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680")["type"]["coding"][0]["code"], "SYSID");
  EXPECT_EQ(ids.at("http://hl7.org/fhir/sid/eui-48/bluetooth")["value"], "00-E5-DE-AD-77-C3");
  EXPECT_EQ(ids.at("urn:carehub:device")["value"], "ble-00-e5-de-ad-77-c3");
}

TEST_F(PhdDeviceResource, ClaimsNothingItCannotFill) {
  device.firmware_revision.clear();
  device.hardware_revision.clear();
  const auto dev = sensor_device(device, "hub-0001");
  EXPECT_FALSE(dev.contains("meta")) << "PhdDevice requires a version";
  EXPECT_FALSE(dev.contains("specialization"));
}

TEST(PhgDevice, DescribesTheHub) {
  const auto dev = hub_device("hub-0001", "FEEDABEEDEAD77C3", 532228);
  EXPECT_EQ(dev["meta"]["profile"], json::array({std::string(kPhd) + "PhgDevice"}));
  EXPECT_TRUE(has_coding(dev["type"], "urn:iso:std:iso:11073:10101", "531981"));
  EXPECT_EQ(dev["identifier"][0], json({{"system", "urn:carehub:hub"}, {"value", "hub-0001"}}));
  EXPECT_EQ(dev["identifier"][1]["value"], "FE-ED-AB-EE-DE-AD-77-C3");
  EXPECT_EQ(dev["identifier"][1]["type"]["coding"][0]["code"], "SYSID");
  EXPECT_GE(dev["specialization"].size(), 1u);
  EXPECT_TRUE(has_coding(dev["version"][0]["type"], "urn:iso:std:iso:11073:10101", "531975"));
  EXPECT_FALSE(dev["version"][0]["value"].get<std::string>().empty());
  EXPECT_TRUE(has_coding(dev["property"][0]["type"], "urn:iso:std:iso:11073:10101", "68220"));
  EXPECT_TRUE(has_coding(dev["property"][0]["valueCode"][0], "urn:iso:std:iso:11073:10101", "532228"));
  EXPECT_EQ(hub_if_none_exist("hub-0001"), "identifier=urn:carehub:hub|hub-0001");
}

TEST(PhgDevice, WithoutASystemIdIsNotClaimedAPhg) {
  const auto dev = hub_device("hub-0001");
  EXPECT_FALSE(dev.contains("meta"));
  EXPECT_FALSE(dev.contains("property"));
  EXPECT_EQ(dev["identifier"].size(), 1u);
}

TEST_F(PhdDeviceResource, LeavesOutAMalformedAddressOrSystemIdRatherThanSendingItWrong) {
  device.system_id = "FEEDABEE";  // too short
  device.address = "00:E5:DE:AD:77:ZZ";
  const auto dev = sensor_device(device, "hub-0001");
  ASSERT_EQ(dev["identifier"].size(), 1u) << dev["identifier"].dump();
  EXPECT_EQ(dev["identifier"][0]["system"], "urn:carehub:device");
  EXPECT_FALSE(phd_device(device)) << "no usable identity, no PhdDevice";
  EXPECT_EQ(hub_device("hub-0001", "not-hex-at-all!")["identifier"].size(), 1u);
  EXPECT_TRUE(valid_system_id("FE-ED-AB-EE-DE-AD-77-C3"));
  EXPECT_TRUE(valid_address("00e5dead77c3"));
  EXPECT_FALSE(valid_address(""));
}

TEST(DashedHex, WritesEui48AndEui64AsThePhdIgDoes) {
  EXPECT_EQ(dashed_hex("00:e5:de:ad:77:c3"), "00-E5-DE-AD-77-C3");
  EXPECT_EQ(dashed_hex("FEEDABEEDEAD77C3"), "FE-ED-AB-EE-DE-AD-77-C3");
  EXPECT_EQ(dashed_hex(""), "");
}

}  // namespace
}  // namespace carehub::fhir
