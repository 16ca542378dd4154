// /sources/mqtt: defaults, every problem named by its JSON path, the broker URL, and the options that decide
// what a publisher may do (issue 12, defect 7).
#include "drivers/mqtt/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "drivers/mqtt/transport.hpp"

namespace carehub::mqtt {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

Result<SourceConfig> parse(const json& subscriptions) {
  return parse_source_config(json{{"broker", "tcp://127.0.0.1:1883"}, {"subscriptions", subscriptions}},
                             "/sources/mqtt", "hub");
}

TEST(AnMqttSubscription, TakesNoPatientFromItsPublishersUnlessConfiguredTo) {
  auto c = parse(json::array({{{"topic", "home/readings"}, {"format", "reading-json"}},
                              {{"topic", "clinic/readings"}, {"format", "reading-json"}, {"allow_patient", true}},
                              {{"topic", "other/readings"}, {"format", "reading-json"}, {"allow_patient", false}}}));
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->subscriptions.size(), 3u);
  EXPECT_FALSE(c->subscriptions[0].allow_patient) << "off by default";
  EXPECT_TRUE(c->subscriptions[1].allow_patient);
  EXPECT_FALSE(c->subscriptions[2].allow_patient);
}

TEST(AnMqttSubscription, RefusesAllowPatientWhereNoPatientCanBeSentOrWhenNotTrueOrFalse) {
  auto c = parse(json::array(
      {{{"topic", "a"}, {"format", "number"}, {"kind", "room-temperature"}, {"allow_patient", true}},
       {{"topic", "b"}, {"format", "openhab-state"}, {"items", {{{"name", "X"}, {"kind", "motion"}}}}, {"allow_patient", true}},
       {{"topic", "c"}, {"format", "reading-json"}, {"allow_patient", "yes"}}}));
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message, HasSubstr("/sources/mqtt/subscriptions/0/allow_patient: only for format reading-json"));
  EXPECT_THAT(c.error().message, HasSubstr("/sources/mqtt/subscriptions/1/allow_patient: only for format reading-json"));
  EXPECT_THAT(c.error().message, HasSubstr("/sources/mqtt/subscriptions/2/allow_patient: expected true or false"));
}

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

TEST(AnMqttConfig, NamesEveryKeyItKnowsWhenOneIsUnknown) {
  auto c = parse_source_config(json::parse(R"({"broker": "tcp://127.0.0.1:1883", "brokr": 1,
      "subscriptions": [{"topic": "a", "format": "reading-json", "retain": true}]})"),
                               "/sources/mqtt", "hub");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message,
            "/sources/mqtt/brokr: unknown key (expected one of: broker, client_id, username, password_file, "
            "tls_verify, ca_file, clean_session, persist_dir, keepalive_s, connect_timeout_ms, retry_base_ms, "
            "retry_cap_ms, max_inflight, status_topic, subscriptions)\n"
            "/sources/mqtt/subscriptions/0/retain: unknown key (expected one of: topic, qos, format, kind, unit, "
            "device, items, allow_patient)");
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

}  // namespace
}  // namespace carehub::mqtt
