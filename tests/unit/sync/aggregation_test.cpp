#include "sync/aggregation.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace carehub::sync {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const TimePoint kMinute = from_epoch_ms(1795255200000);  // 2026-11-21T10:00:00Z

StoredReading hr(double bpm, std::chrono::milliseconds offset, std::string device = "wearable-1") {
  StoredReading s;
  s.reading.kind = Kind::heart_rate;
  s.reading.device = std::move(device);
  s.reading.patient = "Patient/p1";
  s.reading.time = kMinute + offset;
  s.reading.values = {{"value", bpm}};
  s.uid = reading_uid(s.reading);
  return s;
}

TEST(Aggregation, AggregatesOnlySingleValuedStreams) {
  EXPECT_TRUE(aggregatable(Kind::heart_rate));
  EXPECT_TRUE(aggregatable(Kind::room_temperature));
  EXPECT_TRUE(aggregatable(Kind::room_humidity));
  EXPECT_TRUE(aggregatable(Kind::illuminance));
  EXPECT_FALSE(aggregatable(Kind::blood_pressure));
  EXPECT_FALSE(aggregatable(Kind::body_temperature));
  EXPECT_FALSE(aggregatable(Kind::body_weight));
  EXPECT_FALSE(aggregatable(Kind::glucose));
  EXPECT_FALSE(aggregatable(Kind::spo2));
  EXPECT_FALSE(aggregatable(Kind::steps));
  EXPECT_FALSE(aggregatable(Kind::motion));
}

TEST(Aggregation, MatchesByKindAndDeviceAndNeverManualReadings) {
  const std::vector<AggregationRule> rules = {{Kind::heart_rate, 60s, {"wearable-1"}}, {Kind::illuminance, 300s, {}}};
  EXPECT_EQ(matching_rule(rules, hr(70, 0ms).reading), &rules[0]);
  EXPECT_EQ(matching_rule(rules, hr(70, 0ms, "bp-monitor").reading), nullptr) << "a heart rate from a BP cuff is a spot reading";
  EXPECT_EQ(matching_rule(rules, hr(70, 0ms, std::string(kManualDevice)).reading), nullptr);
  Reading lux;
  lux.kind = Kind::illuminance;
  lux.device = "openhab-Hall_Lux";
  EXPECT_EQ(matching_rule(rules, lux), &rules[1]);
}

TEST(Aggregation, CutsEpochAlignedWindows) {
  const auto w = window_of(kMinute + 59'999ms, 60s);
  EXPECT_EQ(w.start, kMinute);
  EXPECT_EQ(w.end, kMinute + 60s);
  EXPECT_EQ(window_of(kMinute + 60s, 60s).start, kMinute + 60s);
  const auto before_epoch = window_of(from_epoch_ms(-1), 60s);
  EXPECT_EQ(before_epoch.start, from_epoch_ms(-60000));
}

TEST(Aggregation, ClosesAWindowAPeriodAfterItEnds) {
  const auto w = window_of(kMinute, 60s);
  EXPECT_FALSE(window_closed(w, 60s, kMinute + 119s));
  EXPECT_TRUE(window_closed(w, 60s, kMinute + 120s));
}

TEST(Aggregation, IdentifiesAnAggregateByItsMembersInAnyOrder) {
  const std::vector<StoredReading> ab = {hr(70, 0ms), hr(72, 1s)};
  const std::vector<StoredReading> ba = {hr(72, 1s), hr(70, 0ms)};
  const std::vector<StoredReading> abc = {hr(70, 0ms), hr(72, 1s), hr(75, 2s)};
  EXPECT_EQ(aggregate_uid(ab), aggregate_uid(ba));
  EXPECT_NE(aggregate_uid(ab), aggregate_uid(abc)) << "late readings make a further aggregate, not a duplicate";
  EXPECT_EQ(aggregate_uid(ab).size(), 36u);
}

TEST(Aggregation, SendsTheMeanWithMinimumAndMaximumAndSaysHowManyReadings) {
  const std::vector<StoredReading> members = {hr(60, 0ms), hr(90, 20s), hr(75, 40s)};
  const auto obs = aggregate_observation(members, window_of(kMinute, 60s), {"Device/5", "Device/1"});
  EXPECT_EQ(obs["resourceType"], "Observation");
  EXPECT_EQ(obs["code"]["coding"][0]["code"], "8867-4");
  EXPECT_EQ(obs["identifier"][0]["value"], "urn:uuid:" + aggregate_uid(members));
  EXPECT_FALSE(obs.contains("effectiveDateTime"));
  EXPECT_EQ(obs["effectivePeriod"], json({{"start", "2026-11-21T10:00:00Z"}, {"end", "2026-11-21T10:01:00Z"}}));
  EXPECT_DOUBLE_EQ(obs["valueQuantity"]["value"].get<double>(), 75.0);
  EXPECT_EQ(obs["valueQuantity"]["code"], "/min");
  ASSERT_EQ(obs["component"].size(), 2u) << "no count component: ucum-vitals-common has no unit for it";
  EXPECT_EQ(obs["component"][0]["code"]["coding"][0]["code"], "minimum");
  EXPECT_DOUBLE_EQ(obs["component"][0]["valueQuantity"]["value"].get<double>(), 60.0);
  EXPECT_EQ(obs["component"][1]["code"]["coding"][0]["code"], "maximum");
  EXPECT_DOUBLE_EQ(obs["component"][1]["valueQuantity"]["value"].get<double>(), 90.0);
  EXPECT_EQ(obs["note"][0]["text"], "Mean of 3 readings in this period");
  EXPECT_EQ(obs["device"]["reference"], "Device/5");
  EXPECT_EQ(obs["subject"]["reference"], "Patient/p1");
}

// Issue 13: the components repeated Observation.code (8867-4) beside the statistic, so R4's obs-7
// ("value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()")
// failed and the HL7 validator refused every aggregate. $stats codes each component with the statistic only.
TEST(Aggregation, CodesComponentsWithTheStatisticOnlySoObs7Holds) {
  const std::vector<StoredReading> members = {hr(60, 0ms), hr(90, 20s), hr(75, 40s)};
  const auto obs = aggregate_observation(members, window_of(kMinute, 60s), {"Device/5", "Device/1"});
  ASSERT_TRUE(obs.contains("valueQuantity"));
  for (const auto& component : obs["component"]) {
    for (const auto& c : component["code"]["coding"]) {
      EXPECT_EQ(c["system"], "http://terminology.hl7.org/CodeSystem/observation-statistics") << component.dump();
      for (const auto& own : obs["code"]["coding"]) EXPECT_NE(c, own) << "obs-7: a component repeats Observation.code";
    }
  }
}

// An aggregate is computed by the hub, not measured by a PHD: it claims no PHD profile, cites no
// coincident timestamp and carries no flags, whatever the uploader passes for the device.
TEST(Aggregation, IsNotAPhdMeasurement) {
  Device wearable;
  wearable.id = "ble-aa-bb-cc-dd-ee-ff";
  wearable.address = "AA:BB:CC:DD:EE:FF";
  wearable.manufacturer = "Acme";
  wearable.model = "Band 2";
  wearable.firmware_revision = "1.0";
  auto members = std::vector<StoredReading>{hr(60, 0ms), hr(90, 20s)};
  members[0].reading.device_time = members[0].reading.time;
  fhir::References refs{"Device/5", "Device/1"};
  refs.device = &wearable;
  refs.flags = {{"value", fhir::Flag::high}};
  const auto obs = aggregate_observation(members, window_of(kMinute, 60s), refs);
  EXPECT_EQ(obs["meta"]["profile"], json::array({"http://hl7.org/fhir/StructureDefinition/heartrate"}));
  EXPECT_EQ(obs["extension"].size(), 1u) << "only the gateway";
  EXPECT_FALSE(obs.contains("interpretation"));
  EXPECT_EQ(obs["identifier"].size(), 1u);
}

}  // namespace
}  // namespace carehub::sync
