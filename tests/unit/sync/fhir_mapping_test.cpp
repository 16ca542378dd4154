#include "sync/fhir_mapping.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace carehub::fhir {
namespace {

using nlohmann::json;

constexpr const char* kLoinc = "http://loinc.org";
constexpr const char* kUcum = "http://unitsofmeasure.org";
constexpr const char* kUid = "3f2b9c4e-1a2b-8c3d-9e4f-0123456789ab";
const References kRefs{"Device/sensor-7", "Device/hub-1"};

StoredReading stored(Kind kind, std::map<std::string, double> values) {
  StoredReading s;
  s.seq = 12;
  s.uid = kUid;
  s.reading.kind = kind;
  s.reading.device = "ble-aa-bb-cc-dd-ee-ff";
  s.reading.patient = "Patient/p1";
  s.reading.time = *parse_rfc3339("2026-11-21T10:00:00.250Z");
  s.reading.received = s.reading.time;
  s.reading.values = std::move(values);
  return s;
}

json coding(const json& obs, std::size_t i = 0) { return obs["code"]["coding"][i]; }

bool is_vital_sign(const json& obs) {
  if (!obs.contains("category")) return false;
  for (const auto& cat : obs["category"]) {
    for (const auto& c : cat["coding"]) {
      if (c["system"] == "http://terminology.hl7.org/CodeSystem/observation-category" && c["code"] == "vital-signs") {
        return true;
      }
    }
  }
  return false;
}

// The component whose first coding has `code`, or null.
json component(const json& obs, const std::string& code) {
  if (!obs.contains("component")) return nullptr;
  for (const auto& c : obs["component"]) {
    if (c["code"]["coding"][0]["code"] == code) return c;
  }
  return nullptr;
}

void expect_quantity(const json& q, double value, const std::string& ucum) {
  EXPECT_EQ(q["value"], value);
  EXPECT_EQ(q["system"], kUcum);
  EXPECT_EQ(q["code"], ucum);
  EXPECT_TRUE(q.contains("unit"));
}

void expect_code(const json& obs, const std::string& system, const std::string& code) {
  EXPECT_EQ(coding(obs)["system"], system);
  EXPECT_EQ(coding(obs)["code"], code);
  EXPECT_TRUE(coding(obs)["display"].is_string());
}

TEST(Observation, CarriesTheCommonElementsEveryObservationNeeds) {
  const auto obs = observation(stored(Kind::heart_rate, {{"value", 72}}), kRefs);
  EXPECT_EQ(obs["resourceType"], "Observation");
  EXPECT_EQ(obs["status"], "final");
  EXPECT_EQ(obs["subject"], json({{"reference", "Patient/p1"}}));
  EXPECT_EQ(obs["effectiveDateTime"], "2026-11-21T10:00:00.250Z");
  EXPECT_EQ(obs["device"], json({{"reference", "Device/sensor-7"}}));
  ASSERT_EQ(obs["identifier"].size(), 1u);
  EXPECT_EQ(obs["identifier"][0], json({{"system", "urn:ietf:rfc:3986"}, {"value", std::string("urn:uuid:") + kUid}}));
}

TEST(Observation, NamesTheHubAsGatewayDevice) {
  const auto obs = observation(stored(Kind::heart_rate, {{"value", 72}}), kRefs);
  ASSERT_EQ(obs["extension"].size(), 1u);
  EXPECT_EQ(obs["extension"][0]["url"], "http://hl7.org/fhir/StructureDefinition/observation-gatewayDevice");
  EXPECT_EQ(obs["extension"][0]["valueReference"], json({{"reference", "Device/hub-1"}}));
}

TEST(Observation, LeavesOutTheDeviceForAManualReading) {
  const auto obs = observation(stored(Kind::heart_rate, {{"value", 72}}), References{"", "Device/hub-1"});
  EXPECT_FALSE(obs.contains("device"));
  EXPECT_EQ(obs["extension"][0]["valueReference"]["reference"], "Device/hub-1");
}

TEST(Observation, UsesTheEffectiveTimeNotTheReceiveTime) {
  auto s = stored(Kind::heart_rate, {{"value", 72}});
  s.reading.received = *parse_rfc3339("2026-11-22T08:00:00Z");
  s.reading.time = *parse_rfc3339("2026-11-21T10:00:00Z");
  EXPECT_EQ(observation(s, kRefs)["effectiveDateTime"], "2026-11-21T10:00:00Z");
}

TEST(ObservationIdentifier, IsTheUidAsAUrnUuid) {
  EXPECT_EQ(observation_identifier(kUid), std::string("urn:uuid:") + kUid);
}

TEST(ObservationIfNoneExist, SearchesByTheSystemAndTheIdentifier) {
  EXPECT_EQ(observation_if_none_exist(kUid), std::string("identifier=urn:ietf:rfc:3986|urn:uuid:") + kUid);
}

TEST(Observation, MapsBloodPressureToThePanelWithComponents) {
  const auto obs =
      observation(stored(Kind::blood_pressure, {{"systolic", 200}, {"diastolic", 130}, {"mean", 153}, {"pulse", 88}}), kRefs);
  expect_code(obs, kLoinc, "85354-9");
  EXPECT_TRUE(is_vital_sign(obs));
  EXPECT_FALSE(obs.contains("valueQuantity")) << "a panel's values live in its components";
  ASSERT_EQ(obs["component"].size(), 3u) << "the pulse is an Observation of its own (observations())";
  expect_quantity(component(obs, "8480-6")["valueQuantity"], 200, "mm[Hg]");
  expect_quantity(component(obs, "8462-4")["valueQuantity"], 130, "mm[Hg]");
  expect_quantity(component(obs, "8478-0")["valueQuantity"], 153, "mm[Hg]");
  EXPECT_TRUE(component(obs, "8867-4").is_null());
  EXPECT_EQ(obs["component"][0]["code"]["coding"][0]["system"], kLoinc);
  EXPECT_EQ(obs["component"][0]["code"]["coding"][0]["code"], "8480-6") << "systolic first, as the bp profile lists";
}

TEST(Observation, MapsBloodPressureWithoutOptionalComponents) {
  const auto obs = observation(stored(Kind::blood_pressure, {{"systolic", 120}, {"diastolic", 80}}), kRefs);
  ASSERT_EQ(obs["component"].size(), 2u);
  EXPECT_TRUE(component(obs, "8478-0").is_null());
  EXPECT_TRUE(component(obs, "8867-4").is_null());
}

TEST(Observation, MapsHeartRate) {
  const auto obs = observation(stored(Kind::heart_rate, {{"value", 72}}), kRefs);
  expect_code(obs, kLoinc, "8867-4");
  EXPECT_TRUE(is_vital_sign(obs));
  expect_quantity(obs["valueQuantity"], 72, "/min");
  EXPECT_FALSE(obs.contains("component"));
}

TEST(Observation, MapsBodyTemperature) {
  const auto obs = observation(stored(Kind::body_temperature, {{"value", 38.2}}), kRefs);
  expect_code(obs, kLoinc, "8310-5");
  EXPECT_TRUE(is_vital_sign(obs));
  expect_quantity(obs["valueQuantity"], 38.2, "Cel");
}

TEST(Observation, MapsBodyWeightAloneItsHeightAndBmiGoApart) {
  const auto obs = observation(stored(Kind::body_weight, {{"value", 81.4}, {"bmi", 26.6}, {"height", 1.75}}), kRefs);
  expect_code(obs, kLoinc, "29463-7");
  EXPECT_TRUE(is_vital_sign(obs));
  expect_quantity(obs["valueQuantity"], 81.4, "kg");
  EXPECT_FALSE(obs.contains("component")) << "bodyweight profile: height in m was outside ucum-vitals-common";
}

TEST(Observation, MapsSpo2WithBothOxygenSaturationCodesAndPulse) {
  const auto obs = observation(stored(Kind::spo2, {{"value", 96}, {"pulse", 64}}), kRefs);
  EXPECT_TRUE(is_vital_sign(obs));
  std::set<std::string> codes;
  for (const auto& c : obs["code"]["coding"]) {
    EXPECT_EQ(c["system"], kLoinc);
    codes.insert(c["code"].get<std::string>());
  }
  EXPECT_EQ(codes, (std::set<std::string>{"2708-6", "59408-5"}));
  expect_quantity(obs["valueQuantity"], 96, "%");
  EXPECT_FALSE(obs.contains("component")) << "the oximeter's pulse is an Observation of its own";
}

// Issue 13: 2339-0 ("Glucose in Blood", any method) said less than a home meter measures.
TEST(Observation, CodesGlucoseAsCapillaryBloodByGlucometerNotAVitalSign) {
  const auto obs = observation(stored(Kind::glucose, {{"value", 99}}), kRefs);
  expect_code(obs, kLoinc, "41653-7");
  EXPECT_FALSE(is_vital_sign(obs));
  expect_quantity(obs["valueQuantity"], 99, "mg/dL");
}

TEST(Observation, MapsSteps) {
  const auto obs = observation(stored(Kind::steps, {{"value", 8042}}), kRefs);
  EXPECT_EQ(coding(obs)["system"], kLoinc);
  EXPECT_THAT(coding(obs)["code"].get<std::string>(), ::testing::AnyOf("55423-8", "41950-7"));
  EXPECT_FALSE(is_vital_sign(obs));
  expect_quantity(obs["valueQuantity"], 8042, "{steps}");
}

TEST(Observation, MapsRoomTemperatureToTheLocalCodeSystem) {
  const auto obs = observation(stored(Kind::room_temperature, {{"value", 21.5}}), kRefs);
  expect_code(obs, std::string(kLocalCodeSystem), "room-temperature");
  EXPECT_FALSE(is_vital_sign(obs));
  expect_quantity(obs["valueQuantity"], 21.5, "Cel");
}

TEST(Observation, MapsRoomHumidityToTheLocalCodeSystem) {
  const auto obs = observation(stored(Kind::room_humidity, {{"value", 45}}), kRefs);
  expect_code(obs, std::string(kLocalCodeSystem), "room-humidity");
  EXPECT_FALSE(is_vital_sign(obs));
  expect_quantity(obs["valueQuantity"], 45, "%");
}

TEST(Observation, MapsIlluminanceToTheLocalCodeSystem) {
  const auto obs = observation(stored(Kind::illuminance, {{"value", 350}}), kRefs);
  expect_code(obs, std::string(kLocalCodeSystem), "illuminance");
  EXPECT_FALSE(is_vital_sign(obs));
  expect_quantity(obs["valueQuantity"], 350, "lx");
}

TEST(Observation, MapsMotionToAValueBoolean) {
  const auto moved = observation(stored(Kind::motion, {{"value", 1}}), kRefs);
  expect_code(moved, std::string(kLocalCodeSystem), "motion");
  EXPECT_FALSE(is_vital_sign(moved));
  EXPECT_EQ(moved["valueBoolean"], true);
  EXPECT_FALSE(moved.contains("valueQuantity"));
  EXPECT_EQ(observation(stored(Kind::motion, {{"value", 0}}), kRefs)["valueBoolean"], false);
}

TEST(Observation, GivesEveryKindInTheCatalogueACode) {
  for (const auto& k : all_kinds()) {
    std::map<std::string, double> values;
    for (const auto& c : k.components) {
      if (c.required) values[std::string(c.name)] = c.max;
    }
    const auto obs = observation(stored(k.kind, values), kRefs);
    EXPECT_FALSE(coding(obs)["code"].get<std::string>().empty()) << k.name;
    EXPECT_FALSE(coding(obs)["system"].get<std::string>().empty()) << k.name;
    EXPECT_EQ(is_vital_sign(obs), coding(obs)["system"] == kLoinc && k.kind != Kind::glucose && k.kind != Kind::steps)
        << k.name;
  }
}

TEST(SensorDevice, IdentifiesABluetoothDeviceByItsMacAndCarehubId) {
  const Device d{"ble-aa-bb-cc-dd-ee-ff", "AA:BB:CC:DD:EE:FF", "UA-651BLE", "A&D UA-651", "5120334", "blood-pressure", "", std::nullopt};
  const auto dev = sensor_device(d, "hub-0001");
  EXPECT_EQ(dev["resourceType"], "Device");
  EXPECT_EQ(dev["status"], "active");
  // The PHD IG's BTMAC identifier: typed, and the address in its dashed form.
  EXPECT_THAT(dev["identifier"],
              ::testing::Contains(json::parse(R"({"system":"http://hl7.org/fhir/sid/eui-48/bluetooth","value":"AA-BB-CC-DD-EE-FF",
                 "type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/ContinuaDeviceIdentifiers",
                                    "code":"BTMAC","display":"Bluetooth MAC address"}]}})")));
  EXPECT_THAT(dev["identifier"], ::testing::Contains(json({{"system", "urn:carehub:device"}, {"value", d.id}})));
  EXPECT_EQ(dev["serialNumber"], "5120334");
  EXPECT_EQ(dev["modelNumber"], "A&D UA-651");
  EXPECT_EQ(dev["deviceName"][0]["name"], "UA-651BLE");
}

TEST(SensorDevice, LeavesOutWhatIsNotKnown) {
  const auto dev = sensor_device(Device{"openhab-Kitchen_Temp", "", "", "", "", "", "", std::nullopt}, "hub-0001");
  ASSERT_EQ(dev["identifier"].size(), 1u) << "no Bluetooth identifier without a MAC";
  EXPECT_EQ(dev["identifier"][0]["value"], "hub-0001/openhab-Kitchen_Temp");
  EXPECT_FALSE(dev.contains("serialNumber"));
  EXPECT_FALSE(dev.contains("modelNumber"));
  EXPECT_FALSE(dev.contains("deviceName"));
}

TEST(SensorDevice, IsCreatedConditionallyOnItsCarehubIdentifier) {
  EXPECT_EQ(device_if_none_exist(Device{"ble-aa-bb-cc-dd-ee-ff", "", "", "", "", "", "", std::nullopt}, "hub-0001"),
            "identifier=urn:carehub:device|ble-aa-bb-cc-dd-ee-ff");
}

// Issue 12 (defect 11): identifiers were pasted into conditional-create queries as they were. A device id
// from an MQTT publisher such as "x&identifier=urn:carehub:hub|hub-0001" then searched for another
// resource, so a conditional create could match (and the reading cite) the wrong Device.
TEST(SearchValue, EscapesFhirSearchSeparatorsThenPercentEncodes) {
  EXPECT_EQ(search_value("a|b"), "a%5C%7Cb");
  EXPECT_EQ(search_value("a,b"), "a%5C%2Cb");
  EXPECT_EQ(search_value("a$b"), "a%5C%24b");
  EXPECT_EQ(search_value("a\\b"), "a%5C%5Cb");
  EXPECT_EQ(search_value("x&identifier=y#z w+v%"), "x%26identifier%3Dy%23z%20w%2Bv%25");
  EXPECT_EQ(search_value("caf\xC3\xA9"), "caf%C3%A9");
  EXPECT_EQ(search_value(std::string("a\0b", 3)), "a%00b");
}

TEST(SearchValue, LeavesOrdinaryIdentifiersAsTheyAre) {
  EXPECT_EQ(search_value("urn:uuid:6f1c2a8e-0b7d-5c3e-9a41-2f5d8e7c1b90"), "urn:uuid:6f1c2a8e-0b7d-5c3e-9a41-2f5d8e7c1b90");
  EXPECT_EQ(search_value("http://hl7.org/fhir/sid/eui-48/bluetooth"), "http://hl7.org/fhir/sid/eui-48/bluetooth");
  EXPECT_EQ(search_value("openhab-Kitchen_Temp.1~"), "openhab-Kitchen_Temp.1~");
  EXPECT_EQ(search_value(""), "");
}

TEST(IdentifierQuery, EscapesSystemAndValueButNotTheSeparatorBetweenThem) {
  EXPECT_EQ(identifier_query("urn:carehub:device", "a|b"), "identifier=urn:carehub:device|a%5C%7Cb");
  EXPECT_EQ(identifier_query("urn:x|y", "v"), "identifier=urn:x%5C%7Cy|v");
}

TEST(SensorDevice, EscapesAHostileDeviceIdInItsConditionalCreate) {
  Device d{"x&identifier=urn:carehub:hub|hub-0001", "", "", "", "", "", "", std::nullopt};
  EXPECT_EQ(device_if_none_exist(d, ""), "identifier=urn:carehub:device|x%26identifier%3Durn:carehub:hub%5C%7Chub-0001");
  EXPECT_EQ(device_if_none_exist(d, "hub-0001"),
            "identifier=urn:carehub:device|hub-0001/x%26identifier%3Durn:carehub:hub%5C%7Chub-0001");
  EXPECT_EQ(hub_if_none_exist("hub 1,2"), "identifier=urn:carehub:hub|hub%201%5C%2C2");
  EXPECT_EQ(observation_if_none_exist("u#1"), "identifier=urn:ietf:rfc:3986|urn:uuid:u%231");
}

TEST(HubDevice, IdentifiesTheHub) {
  const auto dev = hub_device("hub-0001");
  EXPECT_EQ(dev["resourceType"], "Device");
  EXPECT_EQ(dev["identifier"], json::array({{{"system", "urn:carehub:hub"}, {"value", "hub-0001"}}}));
  EXPECT_EQ(dev["status"], "active");
  EXPECT_EQ(hub_if_none_exist("hub-0001"), "identifier=urn:carehub:hub|hub-0001");
}

// Issue 13 / design.md invariant 9: "urn:carehub:device|openhab-<Item>" (and manual, mqtt-<topic>) was the
// same on every hub, so the second hub's conditional create matched the first hub's Device and one home's
// readings were attributed to another home's sensor.
TEST(SensorDevice, QualifiesIdentitiesThatAreNotGloballyUniqueByTheHub) {
  for (const std::string id : {"openhab-Kitchen_Temp", "mqtt-home/hall/temp", "manual"}) {
    const Device d{id, "", "", "", "", "", "", std::nullopt};
    EXPECT_NE(sensor_device(d, "hub-A")["identifier"], sensor_device(d, "hub-B")["identifier"]) << id;
    EXPECT_NE(device_if_none_exist(d, "hub-A"), device_if_none_exist(d, "hub-B")) << id;
    EXPECT_EQ(sensor_device(d, "hub-A")["identifier"][0]["value"], "hub-A/" + id);
  }
}

TEST(SensorDevice, KeepsABluetoothDevicesOwnIdentityOnEveryHub) {
  const Device d{"ble-aa-bb-cc-dd-ee-ff", "AA:BB:CC:DD:EE:FF", "", "", "", "", "", std::nullopt};
  EXPECT_EQ(sensor_device(d, "hub-A"), sensor_device(d, "hub-B")) << "one PHD, one Device; gatewayDevice tells hubs apart";
  EXPECT_EQ(device_if_none_exist(d, "hub-A"), "identifier=urn:carehub:device|ble-aa-bb-cc-dd-ee-ff");
  // Only the exact address form counts as hardware: look-alikes are qualified.
  EXPECT_EQ(fleet_device_id("ble-AA-bb-cc-dd-ee-ff", "h"), "h/ble-AA-bb-cc-dd-ee-ff");
  EXPECT_EQ(fleet_device_id("ble-aa-bb-cc-dd-ee", "h"), "h/ble-aa-bb-cc-dd-ee");
  EXPECT_EQ(fleet_device_id("ble-aa-bb-cc-dd-ee-fg", "h"), "h/ble-aa-bb-cc-dd-ee-fg");
}

json find_by_code(const std::vector<ObservationEntry>& entries, const std::string& code) {
  for (const auto& e : entries) {
    for (const auto& c : e.resource["code"]["coding"]) {
      if (c["code"] == code) return e.resource;
    }
  }
  return nullptr;
}

// Issue 13: height rode on the weight as a component in m, outside the bodyweight profile's required
// ucum-vitals-common value set. It is an Observation of its own now, in cm, derived from the weight.
TEST(Observations, SendHeightInCentimetresAndBmiAsObservationsDerivedFromTheWeight) {
  const auto entries = observations(stored(Kind::body_weight, {{"value", 81.4}, {"bmi", 26.6}, {"height", 1.75}}), kRefs);
  ASSERT_EQ(entries.size(), 3u);
  const auto& weight = entries[0].resource;
  expect_code(weight, kLoinc, "29463-7");
  const auto height = find_by_code(entries, "8302-2");
  ASSERT_FALSE(height.is_null());
  expect_quantity(height["valueQuantity"], 175, "cm");
  EXPECT_TRUE(is_vital_sign(height));
  EXPECT_EQ(height["derivedFrom"], json::array({{{"identifier", weight["identifier"][0]}}}));
  const auto bmi = find_by_code(entries, "39156-5");
  ASSERT_FALSE(bmi.is_null());
  expect_quantity(bmi["valueQuantity"], 26.6, "kg/m2");
  EXPECT_EQ(bmi["derivedFrom"], height["derivedFrom"]);
}

TEST(Observations, SendABloodPressureCuffsPulseAsAHeartRateObservation) {
  const auto entries =
      observations(stored(Kind::blood_pressure, {{"systolic", 120}, {"diastolic", 80}, {"pulse", 64}}), kRefs);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(coding(entries[0].resource)["code"], "85354-9") << "the reading's own first";
  const auto& pulse = entries[1].resource;
  expect_code(pulse, kLoinc, "8867-4");
  expect_quantity(pulse["valueQuantity"], 64, "/min");
  EXPECT_EQ(pulse["meta"]["profile"], json::array({"http://hl7.org/fhir/StructureDefinition/heartrate"}));
  EXPECT_EQ(pulse["derivedFrom"][0]["identifier"], entries[0].resource["identifier"][0]);
  EXPECT_EQ(pulse["device"], entries[0].resource["device"]);
  EXPECT_EQ(pulse["effectiveDateTime"], entries[0].resource["effectiveDateTime"]);
}

TEST(Observations, SendAnOximetersPulseAsAHeartRateObservation) {
  const auto entries = observations(stored(Kind::spo2, {{"value", 96}, {"pulse", 64}}), kRefs);
  ASSERT_EQ(entries.size(), 2u);
  expect_code(entries[1].resource, kLoinc, "8867-4");
  expect_quantity(entries[1].resource["valueQuantity"], 64, "/min");
}

TEST(Observations, GiveEachDerivedObservationItsOwnDeterministicIdentifier) {
  const auto s = stored(Kind::body_weight, {{"value", 81.4}, {"bmi", 26.6}, {"height", 1.75}});
  const auto a = observations(s, kRefs);
  const auto b = observations(s, kRefs);
  std::set<std::string> queries;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].if_none_exist, b[i].if_none_exist) << "a retry is the same resource";
    EXPECT_EQ(a[i].resource, b[i].resource);
    queries.insert(a[i].if_none_exist);
  }
  EXPECT_EQ(queries.size(), a.size());
  EXPECT_EQ(a[0].if_none_exist, observation_if_none_exist(kUid));
  EXPECT_EQ(a[1].if_none_exist, observation_if_none_exist(name_uuid(std::string("carehub-derived-v1\n") + kUid + "\nheight")));
}

TEST(Observation, StatesAMissingValueAsAbsentInsteadOfThrowing) {
  const auto obs = observation(stored(Kind::body_temperature, {}), kRefs);
  EXPECT_FALSE(obs.contains("valueQuantity"));
  EXPECT_EQ(obs["dataAbsentReason"]["coding"][0]["code"], "error");
}

TEST(Observations, SendOnlyTheReadingWhenNothingIsDerived) {
  const auto entries = observations(stored(Kind::blood_pressure, {{"systolic", 120}, {"diastolic", 80}}), kRefs);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].resource, observation(stored(Kind::blood_pressure, {{"systolic", 120}, {"diastolic", 80}}), kRefs));
}

}  // namespace
}  // namespace carehub::fhir
