// docs/fhir-mapping.md shows one example resource per kind, one aggregate and one alert. This test builds
// each from the mapping code and compares it with the document, so the document cannot drift from what
// carehub sends. To regenerate after a deliberate mapping change:
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

StoredReading example(Kind k, TimePoint t) {
  StoredReading s;
  s.reading.kind = k;
  s.reading.device = "sensor-1";
  s.reading.patient = "Patient/p1";
  s.reading.time = t;
  s.reading.received = t;
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
  for (const auto& k : all_kinds()) out[std::string(k.name)] = observation(example(k.kind, t), kRefs);

  std::vector<StoredReading> minute;
  for (int s = 0; s < 60; s += 15) {
    auto r = example(Kind::heart_rate, t + std::chrono::seconds(s));
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
  out["alert (DetectedIssue)"] = detected_issue(a, {"Device/hub-1", {"Observation/101", "Observation/102"}});
  return out;
}

TEST(FhirMappingDoc, ShowsWhatTheMappingBuildsForEveryKindAnAggregateAndAnAlert) {
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
}

}  // namespace
}  // namespace carehub::fhir
