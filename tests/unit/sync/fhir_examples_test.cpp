// docs/fhir-mapping.md shows one example resource per kind, the Observations derived from readings, a
// coincident timestamp, flagged evidence, the Devices, one aggregate and one alert. This test builds each
// from the mapping code and compares it with the document, so the document cannot drift from what carehub
// sends; and every ```json block of the document must be one of them (no hand-written example). To regenerate after a deliberate mapping change:
//   CAREHUB_PRINT_FHIR_EXAMPLES=1 build/tests/unit/sync/sync_test --gtest_filter='FhirMappingDoc.*'
// and paste the printed blocks.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "sync/aggregation.hpp"
#include "sync/alert_mapping.hpp"
#include "sync/fhir_mapping.hpp"

namespace carehub::fhir {
namespace {

using nlohmann::json;

const fhir::References kRefs{"Device/sensor-1", "Device/hub-1"};

// A paired BLE device whose Device Information Service was read: a PHD.
Device phd(std::string_view category) {
  Device d;
  d.id = "ble-00-e5-de-ad-77-c3";
  d.address = "00:E5:DE:AD:77:C3";
  d.name = "UA-651BLE";
  d.category = std::string(category);
  d.manufacturer = "A&D Medical";
  d.model = "UA-651BLE";
  d.serial = "5120334";
  d.firmware_revision = "1.04";
  d.hardware_revision = "B";
  return d;
}

std::string_view ble_category(Kind k) {
  switch (k) {
    case Kind::blood_pressure: return "blood-pressure";
    case Kind::body_temperature: return "thermometer";
    case Kind::body_weight: return "scale";
    case Kind::spo2: return "pulse-oximeter";
    case Kind::glucose: return "glucose-meter";
    default: return "heart-rate";
  }
}

std::map<std::string, double> example_values(Kind k) {
  switch (k) {
    case Kind::blood_pressure: return {{"systolic", 128}, {"diastolic", 82}, {"mean", 97}, {"pulse", 64}};
    case Kind::heart_rate: return {{"value", 72}};
    case Kind::body_temperature: return {{"value", 36.9}};
    case Kind::body_weight: return {{"value", 81.4}, {"bmi", 26.6}, {"height", 1.75}};
    case Kind::spo2: return {{"value", 97}, {"pulse", 68}};
    case Kind::glucose: return {{"value", 104}};
    case Kind::steps: return {{"value", 5400}};
    case Kind::room_temperature: return {{"value", 21.5}};
    case Kind::room_humidity: return {{"value", 45}};
    case Kind::illuminance: return {{"value", 320}};
    case Kind::motion: return {{"value", 1}};
  }
  return {};
}

StoredReading example(Kind k, TimePoint t, std::string device = "ble-00-e5-de-ad-77-c3") {
  StoredReading s;
  s.reading.kind = k;
  s.reading.device = std::move(device);
  s.reading.patient = "Patient/p1";
  s.reading.time = t;
  s.reading.received = t + std::chrono::seconds(2);
  s.reading.values = example_values(k);
  s.uid = reading_uid(s.reading);
  return s;
}

// Every "```json" block that follows a "### <title>" heading, by title.
std::map<std::string, json> documented_examples() {
  std::ifstream in(CAREHUB_DOCS_DIR "/fhir-mapping.md");
  std::map<std::string, json> out;
  std::string line, title, block;
  bool in_block = false;
  while (std::getline(in, line)) {
    if (line.rfind("### ", 0) == 0) title = line.substr(4);
    else if (line == "```json") {
      in_block = true;
      block.clear();
    } else if (in_block && line == "```") {
      in_block = false;
      out[title] = json::parse(block, nullptr, false);
    } else if (in_block) {
      block += line + "\n";
    }
  }
  return out;
}

std::map<std::string, json> built_examples() {
  const auto t = *parse_rfc3339("2026-11-21T08:30:00Z");
  std::map<std::string, json> out;
  for (const auto& k : all_kinds()) {
    const std::string name(k.name);
    if (k.environmental) {
      Device room;
      room.id = "openhab-Living_" + name;
      References refs = kRefs;
      refs.device = &room;
      out[name] = observations(example(k.kind, t, room.id), refs).front().resource;
      continue;
    }
    // A PHD reading with the device's own time (2 s before the hub received it; the hub kept it).
    const Device device = phd(ble_category(k.kind));
    References refs = kRefs;
    refs.device = &device;
    auto s = example(k.kind, t);
    s.reading.device_time = t;
    const auto entries = observations(s, refs);
    out[name] = entries.front().resource;
    for (std::size_t i = 1; i < entries.size(); ++i) {
      const auto& code = entries[i].resource["code"]["coding"][0];
      if (code["code"] == "67975") {
        if (k.kind == Kind::blood_pressure) out[name + ": coincident timestamp"] = entries[i].resource;
      } else {
        out[name + ": " + code["display"].get<std::string>()] = entries[i].resource;
      }
    }
  }
  // Typed in by hand: no device, no PHD; the vital-signs profile still applies.
  auto manual = example(Kind::blood_pressure, t, std::string(kManualDevice));
  manual.reading.values.erase("pulse");
  manual.uid = reading_uid(manual.reading);
  out["blood-pressure typed in by hand"] = observation(manual, {"", "Device/hub-1"});

  // The evidence of an alert: the rules judged the systolic extreme and the diastolic high.
  {
    const Device device = phd("blood-pressure");
    References refs = kRefs;
    refs.device = &device;
    refs.flags = {{"systolic", Flag::critical_high}, {"diastolic", Flag::high}};
    auto s = example(Kind::blood_pressure, t + std::chrono::minutes(12));
    s.reading.values = {{"systolic", 204}, {"diastolic", 118}};
    s.reading.device_time = s.reading.time;
    s.uid = reading_uid(s.reading);
    out["blood-pressure, evidence of an alert"] = observation(s, refs);
  }

  // Devices.
  auto cuff = phd("blood-pressure");
  cuff.system_id = "00E5DEFFFEAD77C3";
  cuff.software_revision = "2.1";
  out["PhdDevice (a paired BLE blood-pressure monitor)"] = sensor_device(cuff, "hub-0001");
  Device item;
  item.id = "openhab-Living_Temp";
  item.name = "Living room temperature";
  out["Device (an openHAB item)"] = sensor_device(item, "hub-0001");
  out["PhgDevice (the hub)"] = hub_device("hub-0001", "FEEDABEEDEAD77C3", 532228);

  std::vector<StoredReading> minute;
  for (int s = 0; s < 60; s += 15) {
    auto r = example(Kind::heart_rate, t + std::chrono::seconds(s), "ble-f1-02-03-04-05-06");
    r.reading.values["value"] = 70 + s / 5;
    r.uid = reading_uid(r.reading);
    minute.push_back(r);
  }
  out["aggregate (heart-rate, 60 s)"] =
      sync::aggregate_observation(minute, sync::window_of(t, std::chrono::seconds(60)), kRefs);

  Alert a;
  a.id = "6f1d0c2e-7b51-8a9f-b3c4-5d6e7f809102";
  a.rule = "hf5-systolic-high";
  a.patient = "Patient/p1";
  a.event = "alert";
  a.severity = Severity::red;
  a.category = "CVD";
  a.raised = t + std::chrono::minutes(12);
  a.text = "Systolic 186 mm[Hg] confirmed by a repeat measurement: contact the patient today";
  a.requires_ack = true;
  a.state = AlertState::acknowledged;
  a.acknowledged = t + std::chrono::minutes(20);
  a.acknowledged_by = "patient (display)";
  out["alert (DetectedIssue)"] = detected_issue(a, {"Device/hub-1", {"Observation/101", "Observation/102"}});
  return out;
}

TEST(FhirMappingDoc, ShowsWhatTheMappingBuildsForEveryResourceItSends) {
  const auto built = built_examples();
  if (std::getenv("CAREHUB_PRINT_FHIR_EXAMPLES") != nullptr) {
    for (const auto& [title, resource] : built) std::cout << "### " << title << "\n\n```json\n" << resource.dump(2) << "\n```\n\n";
  }
  const auto documented = documented_examples();
  for (const auto& [title, resource] : built) {
    auto it = documented.find(title);
    if (it == documented.end()) {
      ADD_FAILURE() << "docs/fhir-mapping.md has no example under \"### " << title << "\"";
      continue;
    }
    EXPECT_EQ(it->second, resource) << "docs/fhir-mapping.md, \"### " << title << "\" differs from the mapping; it builds:\n"
                                    << resource.dump(2);
  }
  for (const auto& [title, resource] : documented) {
    EXPECT_TRUE(built.contains(title)) << "docs/fhir-mapping.md, \"### " << title << "\": an example the mapping does not build";
  }
}

}  // namespace
}  // namespace carehub::fhir
