// /sources/sim: what the simulator accepts, and that every problem is named by its JSON path.
#include "drivers/sim/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace carehub::sim {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

TEST(ASimConfig, ReadsDeviceIntervalAndReadings) {
  auto c = parse_sim_config(json::parse(R"({"device": "demo-bp", "interval_s": 5, "readings": [
      {"kind": "blood-pressure", "values": {"systolic": 128, "diastolic": 84}},
      {"kind": "heart-rate", "values": {"value": 71}}]})"),
                            "/sources/sim");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->device, "demo-bp");
  EXPECT_EQ(c->interval, std::chrono::seconds(5));
  ASSERT_EQ(c->readings.size(), 2u);
  EXPECT_EQ(c->readings[0].kind, Kind::blood_pressure);
  EXPECT_EQ(c->readings[0].values.at("systolic"), 128);
  EXPECT_EQ(c->readings[1].kind, Kind::heart_rate);
  EXPECT_EQ(c->readings[1].values.at("value"), 71);
}

TEST(ASimConfig, DefaultsToDeviceSimEveryMinute) {
  auto c = parse_sim_config(json::parse(R"({"readings": [{"kind": "spo2", "values": {"value": 97}}]})"), "/sources/sim");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->device, "sim");
  EXPECT_EQ(c->interval, std::chrono::seconds(60));
}

TEST(ASimConfig, RefusesUnknownKeysWithTheKeysItKnows) {
  auto c = parse_sim_config(
      json::parse(R"({"intervall_s": 5, "readings": [{"kind": "spo2", "values": {"value": 97}, "unit": "%"}]})"),
      "/sources/sim");
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message,
              HasSubstr("/sources/sim/intervall_s: unknown key (expected one of: device, interval_s, readings)"));
  EXPECT_THAT(c.error().message,
              HasSubstr("/sources/sim/readings/0/unit: unknown key (expected one of: kind, values)"));
}

TEST(ASimConfig, RefusesReadingsThePipelineWouldRefuseNamingEachPath) {
  auto c = parse_sim_config(json::parse(R"({"interval_s": 0, "readings": [
      {"kind": "heart-beat", "values": {"value": 70}},
      {"kind": "blood-pressure", "values": {"systolic": 900}},
      {"kind": "spo2", "values": {"value": "97"}},
      {"kind": "spo2", "values": {"value": 97, "rate": 60}}]})"),
                            "/sources/sim");
  ASSERT_FALSE(c);
  const auto& m = c.error().message;
  EXPECT_THAT(m, HasSubstr("/sources/sim/interval_s: "));
  EXPECT_THAT(m, HasSubstr("/sources/sim/readings/0/kind: unknown kind \"heart-beat\""));
  EXPECT_THAT(m, HasSubstr("/sources/sim/readings/1/values/systolic: systolic = 900"));
  EXPECT_THAT(m, HasSubstr("/sources/sim/readings/1/values/diastolic: component \"diastolic\" is required"));
  EXPECT_THAT(m, HasSubstr("/sources/sim/readings/2/values/value: expected a number, found string"));
  EXPECT_THAT(m, ::testing::Not(HasSubstr("/sources/sim/readings/2/values/value: component")));
  EXPECT_THAT(m, HasSubstr("/sources/sim/readings/3/values/rate: unknown component \"rate\""));
}

TEST(ASimConfig, NeedsAtLeastOneReadingAndAnObject) {
  auto none = parse_sim_config(json::parse(R"({"readings": []})"), "/sources/sim");
  ASSERT_FALSE(none);
  EXPECT_THAT(none.error().message, HasSubstr("/sources/sim/readings: expected at least one reading"));
  auto missing = parse_sim_config(json::object(), "/sources/sim");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("/sources/sim/readings: "));
  auto scalar = parse_sim_config(json(5), "/sources/sim");
  ASSERT_FALSE(scalar);
  EXPECT_THAT(scalar.error().message, HasSubstr("/sources/sim: expected an object"));
}

}  // namespace
}  // namespace carehub::sim
