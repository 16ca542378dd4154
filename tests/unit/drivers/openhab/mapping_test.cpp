#include "drivers/openhab/mapping.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/drivers/openhab/frames.hpp"

namespace carehub::openhab {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using nlohmann::json;

const json kConfig = json::parse(R"({
  "url": "http://openhab.local:8080",
  "items": [
    {"name": "LivingRoom_Temperature", "kind": "room-temperature"},
    {"name": "Hall_Temp_Plain", "kind": "room-temperature", "unit": "°F"},
    {"name": "HouseTemperature", "kind": "room-temperature"},
    {"name": "Bathroom_Humidity", "kind": "room-humidity"},
    {"name": "DTR", "kind": "illuminance"}
  ],
  "tags": [
    {"tag": "Motion", "kind": "motion"},
    {"tag": "Window", "kind": "motion"},
    {"tag": "Temperature", "kind": "room-temperature"}
  ],
  "groups": [
    {"group": "gLux", "kind": "illuminance"}
  ]
})");

ItemMapping mapping() {
  auto parsed = parse_mapping(kConfig);
  EXPECT_TRUE(parsed.has_value());
  return parsed ? *parsed : ItemMapping{};
}

std::vector<std::string> errors_of(std::string_view section) {
  auto parsed = parse_mapping(json::parse(section));
  EXPECT_FALSE(parsed.has_value());
  std::vector<std::string> out;
  if (!parsed) {
    for (const auto& e : parsed.error()) out.push_back(e.message);
  }
  return out;
}

ItemContext item(std::string name, std::vector<std::string> tags = {}, std::vector<std::string> groups = {},
                 std::optional<std::string> display_unit = std::nullopt) {
  return ItemContext{std::move(name), std::move(tags), std::move(groups), std::move(display_unit)};
}

Reading reading_of(const Result<MapOutcome>& outcome) {
  EXPECT_TRUE(outcome.has_value()) << outcome.error().message;
  if (!outcome || !std::holds_alternative<Reading>(*outcome)) {
    ADD_FAILURE() << "no reading";
    return {};
  }
  return std::get<Reading>(*outcome);
}

std::string error_of(const Result<MapOutcome>& outcome) {
  EXPECT_FALSE(outcome.has_value());
  return outcome ? std::string() : outcome.error().message;
}

TEST(ParsingTheItemMapping, ReadsRulesByNameTagAndGroup) {
  const ItemMapping m = mapping();
  EXPECT_EQ(m.items.size(), 5u);
  ASSERT_EQ(m.tags.size(), 3u);
  EXPECT_EQ(m.tags[0], (KeyedRule{"Motion", MappingRule{"motion", std::nullopt, "/openhab/tags/0"}}));
  ASSERT_EQ(m.groups.size(), 1u);
  EXPECT_EQ(m.items.at("Hall_Temp_Plain").unit, "°F");
  EXPECT_FALSE(m.empty());
}

TEST(ParsingTheItemMapping, NamesTheJsonPathOfAnUnknownKind) {
  EXPECT_THAT(errors_of(R"({"items":[{"name":"A","kind":"room-temperature"},{"name":"B","kind":"motion"},
                                     {"name":"C","kind":"foo"}]})"),
              ElementsAre("/openhab/items/2/kind: expected one of room-temperature, room-humidity, illuminance, "
                          "motion, found \"foo\""));
}

TEST(ParsingTheItemMapping, ReportsEveryProblemAtOnce) {
  EXPECT_THAT(
      errors_of(R"({"items":[{"kind":"motion"},
                             {"name":"A","kind":5,"colour":"red"},
                             {"name":"B","kind":"room-temperature"},
                             {"name":"B2","kind":"room-temperature","unit":"lx"},
                             {"name":"C","kind":"room-temperature","unit":"furlong"},
                             {"name":"D","kind":"motion","unit":"%"},
                             {"name":"B","kind":"illuminance"}],
                    "tags":{"tag":"x"},
                    "groups":[{"group":"","kind":"motion"},"gLux"]})"),
      ElementsAre("/openhab/items/0/name: missing",
                  "/openhab/items/1/colour: unknown key (expected name, kind, unit)",
                  "/openhab/items/1/kind: expected one of room-temperature, room-humidity, illuminance, motion, "
                  "found number 5",
                  "/openhab/items/3/unit: \"lx\" measures illuminance, but room-temperature needs temperature",
                  "/openhab/items/4/unit: unknown unit \"furlong\"",
                  "/openhab/items/5/unit: motion readings have no unit",
                  "/openhab/items/6/name: \"B\" is already mapped at /openhab/items/2",
                  "/openhab/tags: expected an array, found an object",
                  "/openhab/groups/0/group: expected a non-empty string, found string \"\"",
                  "/openhab/groups/1: expected an object, found string \"gLux\""));
}

TEST(ParsingTheItemMapping, RejectsASectionThatIsNotAnObject) {
  auto parsed = parse_mapping(json::array(), "/config/openhab");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().at(0).message, "/config/openhab: expected an object, found an array");
}

TEST(ParsingTheItemMapping, AcceptsAnEmptySection) {
  auto parsed = parse_mapping(json::object());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_TRUE(parsed->empty());
}

TEST(FindingARule, PrefersNameThenTagThenGroup) {
  const ItemMapping m = mapping();
  const std::vector<std::string> tags{"Temperature", "Motion"};
  const std::vector<std::string> groups{"gLux"};
  EXPECT_EQ(m.find("LivingRoom_Temperature", tags, groups)->where, "/openhab/items/0");
  EXPECT_EQ(m.find("Other", tags, groups)->where, "/openhab/tags/0");  // first tag rule in the configuration
  EXPECT_EQ(m.find("Other", {}, groups)->where, "/openhab/groups/0");
  EXPECT_EQ(m.find("Other", {}, {}), nullptr);
}

TEST(MappingAState, ConvertsAQuantityToTheCanonicalUnit) {
  const ItemMapping m = mapping();
  const Reading r = reading_of(map_state(m, item("LivingRoom_Temperature"), Quantity{70.7, "°F"}));
  EXPECT_EQ(r.item, "LivingRoom_Temperature");
  EXPECT_EQ(r.kind, "room-temperature");
  EXPECT_THAT(r.value, DoubleNear(21.5, 1e-9));
  EXPECT_EQ(r.unit, "Cel");
}

TEST(MappingAState, ReadsPlainNumbersInTheConfiguredUnitThenThePatternUnitThenTheCanonicalUnit) {
  const ItemMapping m = mapping();
  EXPECT_THAT(reading_of(map_state(m, item("Hall_Temp_Plain", {}, {}, "°C"), Decimal{70.7})).value,
              DoubleNear(21.5, 1e-9));  // the configured unit wins over the pattern
  EXPECT_THAT(reading_of(map_state(m, item("Kitchen", {"Temperature"}, {}, "°F"), Decimal{70.7})).value,
              DoubleNear(21.5, 1e-9));
  EXPECT_EQ(reading_of(map_state(m, item("Kitchen", {"Temperature"}), Decimal{19.9})).value, 19.9);
}

TEST(MappingAState, ReadsHumidityFromAPercentQuantityOrAPlainPercent) {
  const ItemMapping m = mapping();
  EXPECT_EQ(reading_of(map_state(m, item("Bathroom_Humidity"), Quantity{64, "%"})),
            (Reading{"Bathroom_Humidity", "room-humidity", 64, "%"}));
  EXPECT_EQ(reading_of(map_state(m, item("Bathroom_Humidity"), Percent{55})).value, 55);
}

TEST(MappingAState, TurnsMotionAndContactsIntoOneOrZero) {
  const ItemMapping m = mapping();
  const auto motion = item("Hall_Motion", {"Motion"});
  EXPECT_EQ(reading_of(map_state(m, motion, OnOff{true})), (Reading{"Hall_Motion", "motion", 1, "{bool}"}));
  EXPECT_EQ(reading_of(map_state(m, motion, OnOff{false})).value, 0);
  EXPECT_EQ(reading_of(map_state(m, item("Window_FF_Bed", {"Window"}), OpenClosed{true})).value, 1);
  EXPECT_EQ(reading_of(map_state(m, item("Window_FF_Bed", {"Window"}), OpenClosed{false})).value, 0);
  EXPECT_EQ(reading_of(map_state(m, motion, Decimal{1})).value, 1);
  EXPECT_EQ(error_of(map_state(m, motion, Decimal{0.5})),
            "item \"Hall_Motion\" as motion: expected ON/OFF, OPEN/CLOSED or 0/1, found Decimal 0.5");
}

TEST(MappingAState, GivesNoValueForNullAndUndefNeverZero) {
  const ItemMapping m = mapping();
  auto outcome = map_state(m, item("LivingRoom_Temperature"), NoValue{true});
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, MapOutcome{NoValue{true}});
  EXPECT_EQ(*map_state(m, item("Hall_Motion", {"Motion"}), NoValue{false}), MapOutcome{NoValue{false}});
}

TEST(MappingAState, LeavesUnmappedItemsAlone) {
  auto outcome = map_state(mapping(), item("Garage_Door", {"GarageDoor"}), OpenClosed{true});
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, MapOutcome{Unmapped{}});
}

TEST(MappingAState, NamesTheItemAndKindWhenTheStateDoesNotFit) {
  const ItemMapping m = mapping();
  EXPECT_EQ(error_of(map_state(m, item("LivingRoom_Temperature"), Quantity{312, "lx"})),
            "item \"LivingRoom_Temperature\" as room-temperature: cannot convert lx (illuminance) to Cel (temperature)");
  EXPECT_EQ(error_of(map_state(m, item("DTR"), Quantity{5, "MB/s"})),
            "item \"DTR\" as illuminance: unknown unit \"MB/s\"");
  EXPECT_EQ(error_of(map_state(m, item("LivingRoom_Temperature"), Text{"String", "warm"})),
            "item \"LivingRoom_Temperature\" as room-temperature: expected a number, found String \"warm\"");
  EXPECT_THAT(error_of(map_state(m, item("LivingRoom_Temperature"), Percent{40})), HasSubstr("found Percent 40"));
  EXPECT_THAT(error_of(map_state(m, item("Hall_Motion", {"Motion"}), Quantity{1, "lx"})), HasSubstr("as motion"));
  EXPECT_THAT(error_of(map_state(m, item("Kitchen", {"Temperature"}, {}, "%"), Decimal{40})),
              HasSubstr("cannot convert % (percentage) to Cel (temperature)"));
}

StateEvent event_of(std::string_view envelope) {
  auto decoded = decode_envelope(envelope);
  EXPECT_TRUE(decoded.has_value());
  return decoded && std::holds_alternative<StateEvent>(*decoded) ? std::get<StateEvent>(*decoded) : StateEvent{};
}

TEST(MappingAnEvent, RecordsAGroupStateAgainstTheGroup) {
  // HouseTemperature is the group: its recomputed state belongs to it, never to UpstairsTemperature.
  const ItemMapping m = mapping();
  const Reading r = reading_of(map_event(m, event_of(testdata::kGroupStateChanged), nullptr));
  EXPECT_EQ(r, (Reading{"HouseTemperature", "room-temperature", 18.43, "Cel"}));
}

TEST(MappingAnEvent, UsesTheItemsTagsAndGroupsFromTheItemList) {
  const ItemMapping m = mapping();
  const ItemContext hall = item("Hall_Motion", {"Motion"});
  EXPECT_EQ(reading_of(map_event(m, event_of(testdata::kMotionChanged), &hall)).value, 1);
  EXPECT_EQ(*map_event(m, event_of(testdata::kMotionChanged), nullptr), MapOutcome{Unmapped{}});
}

TEST(MappingAnEvent, NeverParsesTheStateOfAnUnmappedItem) {
  const StateEvent odd = event_of(
      R"({"topic":"openhab/items/Whatever/state","payload":"{\"type\":\"Quantity\",\"value\":\"not a number\"}","type":"ItemStateEvent"})");
  auto outcome = map_event(mapping(), odd, nullptr);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, MapOutcome{Unmapped{}});
}

TEST(MappingAnEvent, NamesTheItemWhenAMappedStateIsMalformed) {
  const StateEvent bad = event_of(
      R"({"topic":"openhab/items/LivingRoom_Temperature/state","payload":"{\"type\":\"Quantity\",\"value\":\"NaN °C\"}","type":"ItemStateEvent"})");
  EXPECT_EQ(error_of(map_event(mapping(), bad, nullptr)),
            "item \"LivingRoom_Temperature\" as room-temperature: Quantity state \"NaN °C\": expected a number, "
            "found \"NaN °C\"");
}

TEST(MappingAnEvent, WorksFromRawStreamToReadings) {
  auto list = parse_items(R"([{"name":"Hall_Motion","type":"Switch","state":"OFF","tags":["Motion"]},
                              {"name":"Kitchen_Lux","type":"Number:Illuminance","state":"300 lx","groupNames":["gLux"]}])");
  ASSERT_TRUE(list.has_value());
  std::map<std::string, ItemContext, std::less<>> registry;
  for (const auto& info : list->items) registry.emplace(info.name, context_of(info));
  const ItemMapping m = mapping();

  SseParser parser;
  SseOutput out;
  parser.feed(testdata::realistic_stream(), out);
  std::vector<Reading> readings;
  int no_value = 0;
  for (const auto& sse : out.events) {
    auto decoded = decode_event(sse);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
    const auto* state = std::get_if<StateEvent>(&*decoded);
    if (!state) continue;
    const auto known = registry.find(state->item);
    auto outcome = map_event(m, *state, known == registry.end() ? nullptr : &known->second);
    ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
    if (const auto* r = std::get_if<Reading>(&*outcome)) readings.push_back(*r);
    no_value += std::holds_alternative<NoValue>(*outcome);
  }
  EXPECT_THAT(readings, ElementsAre(Reading{"LivingRoom_Temperature", "room-temperature", 21.5, "Cel"},
                                    Reading{"Bathroom_Humidity", "room-humidity", 64, "%"},
                                    Reading{"HouseTemperature", "room-temperature", 18.43, "Cel"},
                                    Reading{"Hall_Motion", "motion", 1, "{bool}"}));
  EXPECT_EQ(no_value, 1);  // Kitchen_Lux went UNDEF: skipped, not stored as 0 lx
}

TEST(ListingMappedKinds, GivesEachKindItsCanonicalUnit) {
  EXPECT_EQ(find_mapped_kind("room-temperature")->unit, "Cel");
  EXPECT_EQ(find_mapped_kind("room-humidity")->unit, "%");
  EXPECT_EQ(find_mapped_kind("illuminance")->unit, "lx");
  EXPECT_EQ(find_mapped_kind("motion")->unit, "{bool}");
  EXPECT_EQ(find_mapped_kind("blood-pressure"), nullptr);
  EXPECT_EQ(mapped_kinds().size(), 4u);
}

}  // namespace
}  // namespace carehub::openhab
