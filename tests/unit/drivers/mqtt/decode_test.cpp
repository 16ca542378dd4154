// MQTT payloads to readings and the mqtt configuration, without a broker.
#include "drivers/mqtt/decode.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "drivers/mqtt/config.hpp"
#include "drivers/mqtt/source.hpp"
#include "drivers/mqtt/transport.hpp"

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

TEST(AnMqttConfig, HasDefaultsForAPersistentSessionAndTheHubsStatusTopic) {
  const auto c = config();
  EXPECT_EQ(c.connection.client_id, "carehub-hub-1");
  EXPECT_FALSE(c.connection.clean_session) << "queued QoS 1 messages must survive a restart";
  EXPECT_EQ(c.status_topic, "carehub/hub-1/status");
  EXPECT_EQ(c.password_file, "/nonexistent/password") << "named, not read, at configuration time";
  ASSERT_EQ(c.subscriptions.size(), 4u);
  EXPECT_EQ(c.subscriptions[1].qos, 0);
  EXPECT_TRUE(c.connection.tls);
  EXPECT_FALSE(c.connection.clean_session);
}

TEST(AnMqttConfig, ReportsEveryProblemWithItsJsonPath) {
  auto c = parse_source_config(json::parse(R"({
    "broker": "http://x", "password_file": "/p", "qos": 2,
    "subscriptions": [
      {"topic": "a/#/b", "format": "number", "kind": "room-temperature"},
      {"topic": "a", "format": "number"},
      {"topic": "b", "format": "number", "kind": "blood-pressure"},
      {"topic": "c", "format": "xml"},
      {"topic": "d", "format": "openhab-state", "items": [{"name": "X", "kind": "foo"}]},
      {"topic": "e", "format": "reading-json", "unit": "Cel"}
    ]})"),
                               "/sources/mqtt", "hub");
  ASSERT_FALSE(c);
  const auto& m = c.error().message;
  EXPECT_THAT(m, HasSubstr("/sources/mqtt/broker: expected tcp://"));
  EXPECT_THAT(m, HasSubstr("/sources/mqtt/password_file: needs a username"));
  EXPECT_THAT(m, HasSubstr("/sources/mqtt/qos: unknown key"));
  EXPECT_THAT(m, HasSubstr("/sources/mqtt/subscriptions/0/topic: not a valid MQTT topic filter"));
  EXPECT_THAT(m, HasSubstr("/sources/mqtt/subscriptions/1/kind"));
  EXPECT_THAT(m, HasSubstr("/sources/mqtt/subscriptions/2/kind: \"blood-pressure\" has several values"));
  EXPECT_THAT(m, HasSubstr("/sources/mqtt/subscriptions/3/format: expected one of"));
  EXPECT_THAT(m, HasSubstr("/sources/mqtt/subscriptions/4/items/0/kind"));
  EXPECT_THAT(m, HasSubstr("/sources/mqtt/subscriptions/5/unit: only for format number"));
}

TEST(AnMqttConfig, RefusesTheRetiredPersistDirWithItsReasonAndAcceptsQos2) {
  auto c = parse_source_config(json::parse(R"({
    "broker": "tcp://127.0.0.1:1883", "persist_dir": "/var/lib/carehub/mqtt",
    "subscriptions": [{"topic": "a", "format": "reading-json", "qos": 2}]})"),
                               "/sources/mqtt", "hub");
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message, HasSubstr("/sources/mqtt/persist_dir: no longer used"));
  EXPECT_THAT(c.error().message, ::testing::Not(HasSubstr("unknown key")));
  auto ok = parse_source_config(json::parse(R"({
    "broker": "tcp://127.0.0.1:1883", "subscriptions": [{"topic": "a", "format": "reading-json", "qos": 2}]})"),
                                "/sources/mqtt", "hub");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->subscriptions.front().qos, 2);
}

TEST(ABrokerUrl, NamesSchemeHostAndPortWithDefaultPorts) {
  EXPECT_EQ(*parse_broker("tcp://10.0.0.5:1884"), (Endpoint{"10.0.0.5", 1884, false}));
  EXPECT_EQ(*parse_broker("mqtt://hub.local"), (Endpoint{"hub.local", 1883, false}));
  EXPECT_EQ(*parse_broker("mqtts://hub.local"), (Endpoint{"hub.local", 8883, true}));
  EXPECT_EQ(*parse_broker("ssl://[::1]:8884/"), (Endpoint{"::1", 8884, true}));
  for (const char* bad : {"http://x", "tcp://", "tcp://h:0", "tcp://h:65536", "tcp://h:x", "tcp://::1:5", "tcp://h/p",
                          "ssl://[::1"}) {
    auto r = parse_broker(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_THAT(r.error().message, HasSubstr(std::string("found \"") + bad + "\""));
    }
  }
}

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
  auto r = decode(c.subscriptions[0], msg("home/bedroom/temperature", " 71.6\n"), kT0);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->kind, Kind::room_temperature);
  EXPECT_NEAR((*r)->values.at("value"), 22.0, 1e-9);
  EXPECT_EQ((*r)->device, "mqtt-home/bedroom/temperature");
  EXPECT_EQ((*r)->source, "mqtt");
  EXPECT_EQ((*r)->time, kT0);
  auto lux = decode(c.subscriptions[1], msg("home/bedroom/lux", "312"), kT0);
  ASSERT_TRUE(lux.has_value() && lux->has_value());
  EXPECT_EQ((*lux)->device, "bedroom-lux");
}

TEST(DecodingANumber, RefusesTextCommasAndImplausibleValues) {
  const auto c = config();
  for (const char* bad : {"warm", "21,5", "NaN", "", "1e400", "900"}) {
    auto r = decode(c.subscriptions[0], msg("home/x/temperature", bad), kT0);
    EXPECT_FALSE(r.has_value()) << bad;
  }
}

TEST(DecodingAnOpenhabState, MapsItemsByNameAndSkipsNullUndefAndUnmappedItems) {
  const auto c = config();
  auto r = decode(c.subscriptions[2], msg("openhab/out/Kitchen_Temp/state", "70.7 °F"), kT0);
  ASSERT_TRUE(r.has_value() && r->has_value()) << (r ? "" : r.error().message);
  EXPECT_NEAR((*r)->values.at("value"), 21.5, 1e-9);
  EXPECT_EQ((*r)->device, "openhab-Kitchen_Temp") << "the same device as over the event stream";
  auto door = decode(c.subscriptions[2], msg("openhab/out/Door/state", "OPEN"), kT0);
  ASSERT_TRUE(door.has_value() && door->has_value());
  EXPECT_EQ((*door)->values.at("value"), 1.0);
  for (const char* none : {"NULL", "UNDEF"}) {
    auto n = decode(c.subscriptions[2], msg("openhab/out/Kitchen_Temp/state", none), kT0);
    ASSERT_TRUE(n.has_value());
    EXPECT_FALSE(n->has_value()) << none << " is no value, never a zero";
  }
  auto other = decode(c.subscriptions[2], msg("openhab/out/Other/state", "garbage"), kT0);
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(other->has_value());
  auto wrong = decode(c.subscriptions[2], msg("openhab/out/Kitchen_Temp/state", "5 MB/s"), kT0);
  EXPECT_FALSE(wrong.has_value());
}

TEST(DecodingReadingJson, TakesTheSharedLineFormatWithUnits) {
  const auto c = config();
  auto r = decode(c.subscriptions[3],
                  msg("carehub/in/bp", R"({"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","device":"cuff-1",
                      "values":{"systolic":26.66,"diastolic":17.33},"units":{"systolic":"kPa","diastolic":"kPa"}})"),
                  kT0);
  ASSERT_TRUE(r.has_value() && r->has_value()) << (r ? "" : r.error().message);
  EXPECT_EQ((*r)->device, "cuff-1");
  EXPECT_NEAR((*r)->values.at("systolic"), 200.0, 0.1);
  EXPECT_EQ((*r)->source, "mqtt");
  auto bad = decode(c.subscriptions[3], msg("carehub/in/x", R"({"kind":"spo2"})"), kT0);
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
    auto r = decode(c->subscriptions[k.sub], msg(k.topic, k.payload), kT0);
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
