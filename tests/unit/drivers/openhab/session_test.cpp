// The live client's logic without a socket: bytes as openHAB sends them in, readings out.
#include "drivers/openhab/session.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "drivers/openhab/config.hpp"

namespace carehub::openhab {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

const TimePoint kT0 = from_epoch_ms(1795000000000);

std::string changed(const std::string& item, const std::string& type, const std::string& value) {
  const json payload{{"type", type}, {"value", value}, {"oldType", type}, {"oldValue", "NULL"}};
  return "event: message\ndata: " +
         json{{"topic", "openhab/items/" + item + "/statechanged"}, {"payload", payload.dump()},
              {"type", "ItemStateChangedEvent"}}
             .dump() +
         "\n\n";
}

const char* kItems = R"([
  {"name":"Living_Temp","type":"Number:Temperature","state":"70.7 °F","tags":[],"groupNames":[]},
  {"name":"Hall_Motion","type":"Switch","state":"ON","tags":["Motion"],"groupNames":[]},
  {"name":"Kitchen_Lux","type":"Number:Illuminance","state":"NULL","tags":[],"groupNames":["gLux"]},
  {"name":"Other","type":"Number","state":"weird","tags":[],"groupNames":[]}
])";

class ASession : public ::testing::Test {
 protected:
  ASession() {
    auto c = parse_client_config(json::parse(R"({"url":"http://oh:8080/",
      "items":[{"name":"Living_Temp","kind":"room-temperature"}],
      "tags":[{"tag":"Motion","kind":"motion"}],
      "groups":[{"group":"gLux","kind":"illuminance"}]})"),
                                 "/sources/openhab");
    EXPECT_TRUE(c.has_value()) << c.error().message;
    config = std::move(*c);
  }
  ClientConfig config;
  Logger log{LogLevel::error, [](LogLevel, std::string_view, std::string_view) {}};
  Counters counters;
};

TEST_F(ASession, TurnsTheItemListIntoReadingsOfMappedItemsWithAValueOnly) {
  Session s(config.mapping, log, counters);
  s.begin();
  std::vector<carehub::Reading> out;
  ASSERT_TRUE(s.load_items(kItems, kT0, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].device, "openhab-Living_Temp");
  EXPECT_EQ(out[0].kind, Kind::room_temperature);
  EXPECT_NEAR(out[0].values.at("value"), 21.5, 1e-9);
  EXPECT_EQ(out[0].source, "openhab");
  EXPECT_EQ(out[0].time, kT0);
  EXPECT_EQ(out[1].kind, Kind::motion);
  EXPECT_EQ(out[1].values.at("value"), 1.0);
  EXPECT_EQ(counters.get("openhab_no_value").load(), 1u) << "NULL is no value, never a zero";
  EXPECT_EQ(counters.get("openhab_bad_states").load(), 0u) << "an unmapped item's state is never parsed";
}

TEST_F(ASession, HoldsEventsUntilTheItemListArrivedBecauseGroupRulesNeedIt) {
  Session s(config.mapping, log, counters);
  s.begin();
  std::vector<carehub::Reading> out;
  s.feed(changed("Kitchen_Lux", "Quantity", "320 lx"), kT0, out);
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(s.load_items(kItems, kT0 + Millis(5), out));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].device, "openhab-Kitchen_Lux");
  EXPECT_EQ(out[2].time, kT0) << "a held event keeps its receive time";
}

// Found by the hostile-peer harness (oh_items_slowloris): a change that arrives while the item list is on
// its way is held, and the list read after it already shows the new state. Replaying the held event then
// stored the one change twice (once from the list, once from the event), with two receive times.
TEST_F(ASession, StoresAChangeOnceWhenTheItemListArrivingAfterItsEventAlreadyShowsIt) {
  Session s(config.mapping, log, counters);
  s.begin();
  std::vector<carehub::Reading> out;
  s.feed(changed("Living_Temp", "Quantity", "70.7 °F"), kT0, out);
  ASSERT_TRUE(s.load_items(kItems, kT0 + Millis(5), out));  // the list shows "70.7 °F" too
  ASSERT_EQ(out.size(), 2u) << "the temperature once, the motion once";
  EXPECT_EQ(out[0].device, "openhab-Living_Temp");
  EXPECT_EQ(out[1].device, "openhab-Hall_Motion");
  // A held change to another value than the list shows is a change of its own, and is kept.
  s.begin();
  out.clear();
  s.feed(changed("Living_Temp", "Quantity", "71.6 °F"), kT0 + Millis(10), out);
  ASSERT_TRUE(s.load_items(kItems, kT0 + Millis(15), out));
  ASSERT_EQ(out.size(), 1u) << "70.7 °F and ON were already stored; 71.6 °F is new";
  EXPECT_NEAR(out[0].values.at("value"), 22.0, 1e-9);
}

TEST_F(ASession, ParsesFramesSplitAnywhereAndTheKeepAliveInterval) {
  Session s(config.mapping, log, counters);
  s.begin();
  std::vector<carehub::Reading> out;
  ASSERT_TRUE(s.load_items(kItems, kT0, out));
  out.clear();
  const std::string bytes = "event: alive\r\ndata: {\"type\":\"ALIVE\",\"interval\":10}\r\n\r\n" +
                            changed("Living_Temp", "Quantity", "22.25 °C") + changed("Hall_Motion", "OnOff", "OFF");
  for (char c : bytes) s.feed(std::string_view(&c, 1), kT0, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NEAR(out[0].values.at("value"), 22.25, 1e-9);
  EXPECT_EQ(out[1].values.at("value"), 0.0);
  ASSERT_TRUE(s.keepalive_interval().has_value());
  EXPECT_EQ(*s.keepalive_interval(), std::chrono::seconds(10));
}

TEST_F(ASession, CountsBadInputAndCarriesOnWithTheNextEvent) {
  Session s(config.mapping, log, counters);
  s.begin();
  std::vector<carehub::Reading> out;
  ASSERT_TRUE(s.load_items(kItems, kT0, out));
  out.clear();
  s.feed("data: {broken\n\n", kT0, out);
  s.feed("data: " + std::string(70000, 'x') + "\n\n", kT0, out);
  s.feed(changed("Living_Temp", "Quantity", "5 MB/s"), kT0, out);
  s.feed(changed("Living_Temp", "Quantity", "1000 °C"), kT0, out);
  s.feed(changed("Living_Temp", "Quantity", "19 °C"), kT0, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].values.at("value"), 19.0, 1e-9);
  EXPECT_EQ(counters.get("openhab_bad_events").load(), 1u);
  EXPECT_EQ(counters.get("openhab_oversize").load(), 1u);
  EXPECT_EQ(counters.get("openhab_unmappable").load(), 1u);
  EXPECT_EQ(counters.get("openhab_rejected").load(), 1u);
}

TEST_F(ASession, AfterAReconnectRecordsOnlyStatesThatChangedMeanwhile) {
  Session s(config.mapping, log, counters);
  s.begin();
  std::vector<carehub::Reading> out;
  ASSERT_TRUE(s.load_items(kItems, kT0, out));
  ASSERT_EQ(out.size(), 2u);
  s.feed("data: partial event cut by the drop", kT0, out);
  s.begin();  // reconnected
  out.clear();
  std::string changed_list = kItems;
  changed_list.replace(changed_list.find("\"ON\""), 4, "\"OFF\"");
  ASSERT_TRUE(s.load_items(changed_list, kT0, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].device, "openhab-Hall_Motion");
  EXPECT_EQ(out[0].values.at("value"), 0.0);
  EXPECT_EQ(counters.get("openhab_bad_events").load(), 0u) << "the half event was dropped with the connection";
}

TEST_F(ASession, RefusesAnItemListThatIsNotAList) {
  Session s(config.mapping, log, counters);
  s.begin();
  std::vector<carehub::Reading> out;
  auto r = s.load_items("{\"error\":1}", kT0, out);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("/rest/items"));
}

TEST(ATopicFilter, NamesMappedItemsAndTheirGroupEventsOrSubscribesToAllForTagAndGroupRules) {
  auto names = parse_mapping(json::parse(R"({"items":[{"name":"A","kind":"motion"},{"name":"B","kind":"motion"}]})"));
  ASSERT_TRUE(names.has_value());
  EXPECT_EQ(topic_filter(*names),
            "openhab/items/A/statechanged,openhab/items/A/*/statechanged,"
            "openhab/items/B/statechanged,openhab/items/B/*/statechanged");
  auto tags = parse_mapping(json::parse(R"({"tags":[{"tag":"Motion","kind":"motion"}]})"));
  ASSERT_TRUE(tags.has_value());
  EXPECT_EQ(topic_filter(*tags), "openhab/items/*/statechanged");
}

}  // namespace
}  // namespace carehub::openhab
