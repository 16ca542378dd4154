#include "drivers/openhab/items.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace carehub::openhab {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Shaped like openHAB's GET /rest/items (the demo setup: a plain Number with a unit in its pattern, a UoM
// Number, a Switch, a Contact with a transform pattern, a Group with a groupType, a Location).
constexpr std::string_view kItems = R"([
  {"link":"http://localhost:8080/rest/items/Temperature_GF_Kitchen","state":"19.9",
   "stateDescription":{"pattern":"%.1f °C","readOnly":false,"options":[]},"editable":false,"type":"Number",
   "name":"Temperature_GF_Kitchen","label":"Kitchen","category":"temperature",
   "tags":["Measurement","Temperature","CurrentTemperature"],"groupNames":["Temperature","GF_Kitchen","Thermostat"]},
  {"link":"http://localhost:8080/rest/items/LivingRoom_Temperature","state":"21.5 °C",
   "stateDescription":{"pattern":"%.1f %unit%","readOnly":true,"options":[]},"editable":true,
   "type":"Number:Temperature","name":"LivingRoom_Temperature","label":"Living room","tags":["Measurement","Temperature"],
   "groupNames":["gLivingRoom"]},
  {"link":"http://localhost:8080/rest/items/Hall_Motion","state":"OFF","editable":true,"type":"Switch",
   "name":"Hall_Motion","label":"Hall motion","tags":["Motion"],"groupNames":[]},
  {"link":"http://localhost:8080/rest/items/Window_FF_Bed","state":"CLOSED","transformedState":"closed",
   "stateDescription":{"pattern":"MAP(en.map):%s","readOnly":false,"options":[]},"editable":false,
   "type":"Contact","name":"Window_FF_Bed","label":"Bedroom","tags":["Window"],"groupNames":["FF_Bed","Windows"]},
  {"members":[],"groupType":"Number:Temperature","function":{"name":"AVG"},
   "link":"http://localhost:8080/rest/items/gTemperatures","state":"20.7 °C","editable":true,"type":"Group",
   "name":"gTemperatures","tags":[],"groupNames":[]},
  {"link":"http://localhost:8080/rest/items/DemoLocation","state":"52.5200066,13.4049540","editable":false,
   "type":"Location","name":"DemoLocation","label":"Brandenburg Gate Berlin","tags":[],"groupNames":[]},
  {"link":"http://localhost:8080/rest/items/Bathroom_Humidity","state":"NULL","editable":true,
   "type":"Number:Dimensionless","name":"Bathroom_Humidity"}
])";

TEST(ParsingTheItemList, ReadsEveryItemWithItsTagsGroupsAndPattern) {
  auto list = parse_items(kItems);
  ASSERT_TRUE(list.has_value()) << list.error().message;
  EXPECT_THAT(list->errors, IsEmpty());
  ASSERT_THAT(list->items, SizeIs(7));
  const ItemInfo& kitchen = list->items[0];
  EXPECT_EQ(kitchen.name, "Temperature_GF_Kitchen");
  EXPECT_EQ(kitchen.type, "Number");
  EXPECT_EQ(kitchen.state, "19.9");
  EXPECT_THAT(kitchen.tags, ElementsAre("Measurement", "Temperature", "CurrentTemperature"));
  EXPECT_THAT(kitchen.groups, ElementsAre("Temperature", "GF_Kitchen", "Thermostat"));
  EXPECT_EQ(kitchen.pattern, "%.1f °C");
  EXPECT_EQ(list->items[4].group_type, "Number:Temperature");
  EXPECT_FALSE(list->items[2].pattern.has_value());
  EXPECT_THAT(list->items[6].tags, IsEmpty());  // absent lists are empty, not errors
}

TEST(ParsingTheItemList, ParsesEachStateWithItsItemType) {
  auto list = parse_items(kItems);
  ASSERT_TRUE(list.has_value());
  const auto& items = list->items;
  EXPECT_EQ(*parse_item_state(items[0]), State(Decimal{19.9}));
  EXPECT_EQ(*parse_item_state(items[1]), State(Quantity{21.5, "°C"}));
  EXPECT_EQ(*parse_item_state(items[2]), State(OnOff{false}));
  EXPECT_EQ(*parse_item_state(items[3]), State(OpenClosed{false}));
  EXPECT_EQ(*parse_item_state(items[4]), State(Quantity{20.7, "°C"}));  // by the group's groupType
  EXPECT_EQ(*parse_item_state(items[5]), State(Text{"Point", "52.5200066,13.4049540"}));
  EXPECT_EQ(*parse_item_state(items[6]), State(NoValue{false}));
}

TEST(ParsingTheItemList, SkipsAMalformedItemAndKeepsTheRest) {
  auto list = parse_items(R"([{"name":"A","type":"Switch","state":"ON"},
                              {"type":"Switch","state":"ON"},
                              {"name":"C","type":"Switch","state":"OFF","tags":["x",3]},
                              {"name":"D","type":5,"state":"OFF"},
                              "not an item",
                              {"name":"F","type":"Switch","state":"OFF"}])");
  ASSERT_TRUE(list.has_value());
  ASSERT_THAT(list->items, SizeIs(2));
  EXPECT_EQ(list->items[0].name, "A");
  EXPECT_EQ(list->items[1].name, "F");
  ASSERT_THAT(list->errors, SizeIs(4));
  EXPECT_EQ(list->errors[0].message, "/1/name: missing");
  EXPECT_EQ(list->errors[1].message, "/2/tags/1: expected a string, found number 3");
  EXPECT_EQ(list->errors[2].message, "/3/type: expected a string, found number 5");
  EXPECT_EQ(list->errors[3].message, "/4: expected an object, found string \"not an item\"");
}

TEST(ParsingTheItemList, FailsWholeOnlyWhenTheBodyIsNotAnArray) {
  EXPECT_EQ(parse_items(R"({"error":{"message":"Authentication required","http-code":401}})").error().message,
            "items: expected a JSON array, found an object");
  EXPECT_THAT(parse_items("[{").error().message, HasSubstr("items is not valid JSON (at byte"));
  auto empty = parse_items("[]");
  ASSERT_TRUE(empty.has_value());
  EXPECT_THAT(empty->items, IsEmpty());
}

// Issue 12: `[1e999]` as GET /rest/items threw out_of_range past the parse_error handler: SIGABRT on
// every reconnect.
TEST(ParsingTheItemList, RejectsANumberBeyondADoubleInsteadOfAborting) {
  auto list = parse_items("[1e999]");
  ASSERT_FALSE(list.has_value());
  EXPECT_EQ(list.error().message, "items: a number beyond the range of a double");
  EXPECT_FALSE(parse_items(R"([{"name":"A","type":"Number","state":"1","stateDescription":{"minimum":-1e999}}])"));
}

TEST(ParsingTheItemList, RejectsDeepNesting) {
  auto list = parse_items("[" + std::string(100'000, '{') + "}]");
  ASSERT_FALSE(list.has_value());
  EXPECT_EQ(list.error().message, "items: nesting deeper than 64");
}

TEST(ReadingAPatternUnit, TakesTheTextAfterTheNumber) {
  EXPECT_EQ(pattern_unit("%.1f °C"), "°C");
  EXPECT_EQ(pattern_unit("%.1f °F"), "°F");
  EXPECT_EQ(pattern_unit("%d %%"), "%");
  EXPECT_EQ(pattern_unit("%.0f lx"), "lx");
  EXPECT_EQ(pattern_unit("Temp %.1f°C"), "°C");
  EXPECT_EQ(pattern_unit("%1$.1f hPa"), "hPa");
  EXPECT_EQ(pattern_unit("%.1f µg/m³"), "µg/m³");
}

TEST(ReadingAPatternUnit, FindsNoneWhereThePatternGivesNoPlainUnit) {
  EXPECT_EQ(pattern_unit("%.1f %unit%"), std::nullopt);
  EXPECT_EQ(pattern_unit("MAP(en.map):%s"), std::nullopt);
  EXPECT_EQ(pattern_unit("%.1f"), std::nullopt);
  EXPECT_EQ(pattern_unit("(%d)"), std::nullopt);
  EXPECT_EQ(pattern_unit("%1$ta %1$tR"), std::nullopt);
  EXPECT_EQ(pattern_unit("no number"), std::nullopt);
  EXPECT_EQ(pattern_unit("%.1f °C and more"), std::nullopt);
  EXPECT_EQ(pattern_unit(""), std::nullopt);
}

}  // namespace
}  // namespace carehub::openhab
