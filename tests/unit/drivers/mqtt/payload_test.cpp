// MQTT payloads to readings, topic matching and the status payload, without a broker.
#include "drivers/mqtt/payload.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "drivers/mqtt/config.hpp"
#include "drivers/mqtt/source.hpp"

namespace carehub::mqtt {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

const TimePoint kT0 = from_epoch_ms(1795000000000);

SourceConfig config() {
  auto c = parse_source_config(json::parse(R"({
    "broker": "mqtts://broker.local:8883",
    "username": "hub", "password_file": "/nonexistent/password",
    "subscriptions": [
      {"topic": "home/+/temperature", "format": "number", "kind": "room-temperature", "unit": "[degF]"},
      {"topic": "home/bedroom/lux", "format": "number", "kind": "illuminance", "device": "bedroom-lux", "qos": 0},
      {"topic": "openhab/out/+/state", "format": "openhab-state",
       "items": [{"name": "Kitchen_Temp", "kind": "room-temperature"}, {"name": "Door", "kind": "motion"}]},
      {"topic": "carehub/in/#", "format": "reading-json"}
    ]})"),
                               "/sources/mqtt", "hub-1");
  EXPECT_TRUE(c.has_value()) << c.error().message;
  return c ? *c : SourceConfig{};
}

Message msg(std::string topic, std::string payload) { return Message{std::move(topic), std::move(payload), 1, false, false}; }

TEST(TopicMatching, FollowsMqttWildcards) {
  EXPECT_TRUE(topic_matches("home/+/temperature", "home/bedroom/temperature"));
  EXPECT_FALSE(topic_matches("home/+/temperature", "home/bedroom/x/temperature"));
  EXPECT_TRUE(topic_matches("carehub/in/#", "carehub/in/a/b"));
  EXPECT_TRUE(topic_matches("carehub/in/#", "carehub/in"));
  EXPECT_FALSE(topic_matches("a/b", "a/b/c"));
  EXPECT_FALSE(topic_matches("a/b/c", "a/b"));
  EXPECT_EQ(openhab_item("openhab/out/Kitchen_Temp/state"), "Kitchen_Temp");
}

TEST(DecodingANumber, ConvertsFromTheConfiguredUnitAndNamesTheDeviceAfterTheTopic) {
  const auto c = config();
  auto r = to_reading(c.subscriptions[0], msg("home/bedroom/temperature", " 71.6\n"), kT0);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->kind, Kind::room_temperature);
  EXPECT_NEAR((*r)->values.at("value"), 22.0, 1e-9);
  EXPECT_EQ((*r)->device, "mqtt-home/bedroom/temperature");
  EXPECT_EQ((*r)->source, "mqtt");
  EXPECT_EQ((*r)->time, kT0);
  auto lux = to_reading(c.subscriptions[1], msg("home/bedroom/lux", "312"), kT0);
  ASSERT_TRUE(lux.has_value() && lux->has_value());
  EXPECT_EQ((*lux)->device, "bedroom-lux");
}

TEST(DecodingANumber, RefusesTextCommasAndImplausibleValues) {
  const auto c = config();
  for (const char* bad : {"warm", "21,5", "NaN", "", "1e400", "900"}) {
    auto r = to_reading(c.subscriptions[0], msg("home/x/temperature", bad), kT0);
    EXPECT_FALSE(r.has_value()) << bad;
  }
}

TEST(DecodingAnOpenhabState, MapsItemsByNameAndSkipsNullUndefAndUnmappedItems) {
  const auto c = config();
  auto r = to_reading(c.subscriptions[2], msg("openhab/out/Kitchen_Temp/state", "70.7 °F"), kT0);
  ASSERT_TRUE(r.has_value() && r->has_value()) << (r ? "" : r.error().message);
  EXPECT_NEAR((*r)->values.at("value"), 21.5, 1e-9);
  EXPECT_EQ((*r)->device, "openhab-Kitchen_Temp") << "the same device as over the event stream";
  auto door = to_reading(c.subscriptions[2], msg("openhab/out/Door/state", "OPEN"), kT0);
  ASSERT_TRUE(door.has_value() && door->has_value());
  EXPECT_EQ((*door)->values.at("value"), 1.0);
  for (const char* none : {"NULL", "UNDEF"}) {
    auto n = to_reading(c.subscriptions[2], msg("openhab/out/Kitchen_Temp/state", none), kT0);
    ASSERT_TRUE(n.has_value());
    EXPECT_FALSE(n->has_value()) << none << " is no value, never a zero";
  }
  auto other = to_reading(c.subscriptions[2], msg("openhab/out/Other/state", "garbage"), kT0);
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(other->has_value());
  auto wrong = to_reading(c.subscriptions[2], msg("openhab/out/Kitchen_Temp/state", "5 MB/s"), kT0);
  EXPECT_FALSE(wrong.has_value());
}

TEST(DecodingReadingJson, TakesTheSharedLineFormatWithUnits) {
  const auto c = config();
  auto r = to_reading(c.subscriptions[3],
                  msg("carehub/in/bp", R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","device":"cuff-1",
                      "values":{"systolic":26.66,"diastolic":17.33},"units":{"systolic":"kPa","diastolic":"kPa"}})"),
                  kT0);
  ASSERT_TRUE(r.has_value() && r->has_value()) << (r ? "" : r.error().message);
  EXPECT_EQ((*r)->device, "cuff-1");
  EXPECT_NEAR((*r)->values.at("systolic"), 200.0, 0.1);
  EXPECT_EQ((*r)->source, "mqtt");
  auto bad = to_reading(c.subscriptions[3], msg("carehub/in/x", R"({"kind":"spo2"})"), kT0);
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message, HasSubstr("/"));
}

// The source logs these at warning level and shows them in status: they name the field and what was wrong,
// never the value (docs/technician-guide.md: measurement values only at debug level).
TEST(ADecodingError, NamesTheFieldAndWhatWasWrongButNeverTheValue) {
  auto c = parse_source_config(json::parse(R"({
    "broker": "tcp://127.0.0.1:1883",
    "subscriptions": [
      {"topic": "home/glucose", "format": "number", "kind": "glucose"},
      {"topic": "openhab/out/+/state", "format": "openhab-state", "items": [{"name": "Kitchen_Humidity", "kind": "room-humidity"}]},
      {"topic": "carehub/in/#", "format": "reading-json"}
    ]})"),
                               "/sources/mqtt", "hub-1");
  ASSERT_TRUE(c) << c.error().message;
  struct Case {
    std::size_t sub;
    std::string topic, payload, value, names;
  };
  const std::vector<Case> cases{
      {0, "home/glucose", "3125", "3125", "plausible range"},
      {0, "home/glucose", "187x", "187", "not a number"},
      {1, "openhab/out/Kitchen_Humidity/state", "5 MB/s", "5 MB", "Kitchen_Humidity"},
      {1, "openhab/out/Kitchen_Humidity/state", "187 %", "187", "Kitchen_Humidity"},
      {2, "carehub/in/w", R"({"kind":"body-weight","time":"2026-11-21T10:00:00Z","values":{"value":812.4}})", "812.4",
       "/values/value: outside the plausible range"},
      {2, "carehub/in/h", R"({"kind":"heart-rate","time":"2026-11-21T10:00:00Z","values":{"value":"187"}})", "187",
       "/values/value: expected a number"},
      {2, "carehub/in/g", R"({"kind":"glucose","time":"2026-11-21T10:00:00Z","values":{"value":3125},"units":{"value":"mmol/L"}})",
       "3125", "/values/value"},
      {2, "carehub/in/t", R"({"kind":"glucose","time":"21.11.2026 10:00","values":{"value":95}})", "21.11.2026",
       "/time: expected an RFC 3339 time"},
      {2, "carehub/in/t", R"({"kind":"glucose","time":"1970-01-01T00:00:00Z","values":{"value":95}})", "1970",
       "/time: before 2000"},
      {2, "carehub/in/k", R"({"kind":"glucose","time":"2026-11-21T10:00:00Z","values":{"value":95,"sugar":187}})", "187",
       "/values/sugar: unknown component"},
      {2, "carehub/in/m", R"({"kind":"glucose","device":"m-187","values":{"value":95}})", "m-187", "/time: missing"},
      {2, "carehub/in/x", "[187]", "187", "expected an object"},
      {2, "carehub/in/x", "{187", "187", "not valid JSON"},
  };
  for (const auto& k : cases) {
    auto r = to_reading(c->subscriptions[k.sub], msg(k.topic, k.payload), kT0);
    ASSERT_FALSE(r.has_value()) << k.payload;
    EXPECT_THAT(r.error().message, HasSubstr(k.names)) << k.payload;
    EXPECT_THAT(r.error().message, ::testing::Not(HasSubstr(k.value))) << k.payload << " -> " << r.error().message;
  }
}

TEST(TheStatusPayload, SaysOnlineOrOfflineWithTheHub) {
  auto j = json::parse(status_payload("offline", "hub-1", kT0));
  EXPECT_EQ(j["state"], "offline");
  EXPECT_EQ(j["hub"], "hub-1");
  EXPECT_TRUE(j["time"].is_string());
}

}  // namespace
}  // namespace carehub::mqtt
