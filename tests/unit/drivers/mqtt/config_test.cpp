// /sources/mqtt options that decide what a publisher may do (issue 12, defect 7).
#include "drivers/mqtt/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace carehub::mqtt
