#include "drivers/openhab/event.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/drivers/openhab/frames.hpp"

namespace carehub::openhab {
namespace {

using ::testing::HasSubstr;

Event decode_ok(std::string_view data, std::string_view sse_type = "message") {
  auto result = decode_event(SseEvent{std::string(sse_type), std::string(data), ""});
  EXPECT_TRUE(result.has_value()) << result.error().message;
  return result ? *result : Event{Ignored{"failed"}};
}

std::string decode_error(std::string_view data, std::string_view sse_type = "message") {
  auto result = decode_event(SseEvent{std::string(sse_type), std::string(data), ""});
  EXPECT_FALSE(result.has_value());
  return result ? std::string() : result.error().message;
}

StateEvent state_event(std::string_view data) {
  const Event event = decode_ok(data);
  EXPECT_TRUE(std::holds_alternative<StateEvent>(event));
  return std::holds_alternative<StateEvent>(event) ? std::get<StateEvent>(event) : StateEvent{};
}

TEST(DecodingAnEvent, ReadsTheItemStateEventFromTheOpenhabDocs) {
  const StateEvent e = state_event(testdata::kDocsItemStateEvent);
  EXPECT_EQ(e.type, StateEventType::item_state);
  EXPECT_EQ(e.item, "DTR");
  EXPECT_EQ(e.member, "");
  EXPECT_EQ(e.state, (RawState{"Quantity", "5 MB/s"}));
  EXPECT_FALSE(e.old_state.has_value());
}

TEST(DecodingAnEvent, ReadsAnItemStateUpdatedEvent) {
  const StateEvent e = state_event(testdata::kStateUpdated);
  EXPECT_EQ(e.type, StateEventType::item_state_updated);
  EXPECT_EQ(e.item, "TestTemperature");
  EXPECT_EQ(e.state, (RawState{"Quantity", "20.0 °C"}));
}

TEST(DecodingAnEvent, ReadsAnItemStateChangedEventWithItsOldState) {
  const StateEvent e = state_event(testdata::kTemperatureChanged);
  EXPECT_EQ(e.type, StateEventType::item_state_changed);
  EXPECT_EQ(e.item, "LivingRoom_Temperature");
  EXPECT_EQ(e.state, (RawState{"Quantity", "21.5 °C"}));
  EXPECT_EQ(e.old_state, (RawState{"Quantity", "21.4 °C"}));
}

TEST(DecodingAnEvent, AttributesAGroupStateChangeToTheGroupNotTheMember) {
  // openHAB's payload here is the group's recomputed state; the member only triggered it.
  const StateEvent e = state_event(testdata::kGroupStateChanged);
  EXPECT_EQ(e.type, StateEventType::group_item_state_changed);
  EXPECT_EQ(e.item, "HouseTemperature");
  EXPECT_EQ(e.member, "UpstairsTemperature");
  EXPECT_EQ(e.state, (RawState{"Decimal", "18.43"}));
  EXPECT_EQ(e.old_state, (RawState{"Decimal", "18.32"}));
}

TEST(DecodingAnEvent, AttributesAGroupStateUpdateToTheGroupNotTheMember) {
  const StateEvent e = state_event(testdata::kGroupStateUpdated);
  EXPECT_EQ(e.type, StateEventType::group_state_updated);
  EXPECT_EQ(e.item, "ChristmasLightsGroup");
  EXPECT_EQ(e.member, "Back_Garden_Lighting_Switch");
  EXPECT_EQ(e.state, (RawState{"OnOff", "OFF"}));
}

TEST(DecodingAnEvent, AcceptsTheOldSmarthomeTopicPrefix) {
  const StateEvent e = state_event(
      R"({"topic":"smarthome/items/TestSwitch/statechanged","payload":"{\"type\":\"OnOff\",\"value\":\"ON\",\"oldType\":\"OnOff\",\"oldValue\":\"OFF\"}","type":"ItemStateChangedEvent"})");
  EXPECT_EQ(e.item, "TestSwitch");
}

TEST(DecodingAnEvent, IgnoresUnknownFieldsInTheEnvelopeAndThePayload) {
  const StateEvent e = state_event(
      R"({"topic":"openhab/items/X/state","payload":"{\"type\":\"Decimal\",\"value\":\"1\",\"future\":[1,2]}","type":"ItemStateEvent","source":"org.openhab.core.automation","extra":{"a":1}})");
  EXPECT_EQ(e.state, (RawState{"Decimal", "1"}));
}

TEST(DecodingAnEvent, IgnoresCommandsThingEventsAndUnknownTypes) {
  EXPECT_EQ(decode_ok(testdata::kCommand), Event{Ignored{"ItemCommandEvent"}});
  EXPECT_EQ(decode_ok(testdata::kThingStatusChanged), Event{Ignored{"ThingStatusInfoChangedEvent"}});
  EXPECT_EQ(decode_ok(R"({"type":"SomethingNewEvent","topic":3})"), Event{Ignored{"SomethingNewEvent"}});
  EXPECT_EQ(decode_ok(R"({"topic":"openhab/items/X/added","payload":"{}","type":"ItemAddedEvent"})"),
            Event{Ignored{"ItemAddedEvent"}});
}

TEST(DecodingAnEvent, IgnoresOtherSseEventNames) {
  EXPECT_EQ(decode_ok("a1b2c3", "ready"), Event{Ignored{"SSE event \"ready\""}});
}

TEST(DecodingAnEvent, TurnsTheAliveEventIntoAKeepAliveWithItsInterval) {
  EXPECT_EQ(decode_ok(testdata::kAlive, "alive"), Event{KeepAlive{std::chrono::seconds(10)}});
}

TEST(DecodingAnEvent, AcceptsTheOlderAliveMessageWithoutInterval) {
  EXPECT_EQ(decode_ok(R"({"type":"ALIVE"})"), Event{KeepAlive{}});
}

TEST(DecodingAnEvent, RejectsAnAliveIntervalThatIsNotPositiveWholeSeconds) {
  EXPECT_THAT(decode_error(R"({"type":"ALIVE","interval":"10"})", "alive"),
              HasSubstr("interval: expected a whole number of seconds in 1..86400, found string \"10\""));
  EXPECT_THAT(decode_error(R"({"type":"ALIVE","interval":0})", "alive"), HasSubstr("found number 0"));
  EXPECT_THAT(decode_error(R"({"type":"ALIVE","interval":2.5})", "alive"), HasSubstr("found number 2.5"));
  EXPECT_THAT(decode_error("not json", "alive"), HasSubstr("alive is not valid JSON (at byte"));
}

TEST(DecodingAnEvent, ReportsMalformedJsonWithItsPosition) {
  EXPECT_EQ(decode_error(R"({"topic":"openhab/items/X/state",)"), "data is not valid JSON (at byte 34)");
  EXPECT_THAT(decode_error(""), HasSubstr("data is not valid JSON"));
}

// Issue 12: a number beyond a double made nlohmann throw out_of_range, which nothing caught: SIGABRT on
// every reconnect, since openHAB sends the same keep-alive again.
TEST(DecodingAnEvent, RejectsANumberBeyondADoubleInsteadOfAborting) {
  EXPECT_EQ(decode_error(R"({"type":"ALIVE","interval":1e999})"), "data: a number beyond the range of a double");
  EXPECT_EQ(decode_error(R"({"type":"ALIVE","interval":1e999})", "alive"), "alive: a number beyond the range of a double");
  EXPECT_EQ(decode_error(R"({"topic":"openhab/items/X/state","payload":"{\"type\":\"Decimal\",\"value\":\"1\",\"x\":-1e400}","type":"ItemStateEvent"})"),
            "payload: a number beyond the range of a double");
  // Whole numbers beyond 64 bits are not a crash either, just a bad interval.
  EXPECT_THAT(decode_error(R"({"type":"ALIVE","interval":18446744073709551615})"), HasSubstr("interval: expected"));
  EXPECT_THAT(decode_error(R"({"type":"ALIVE","interval":-9223372036854775808})"), HasSubstr("interval: expected"));
}

TEST(DecodingAnEvent, RejectsDeepNestingBeforeParsingIt) {
  const std::string deep = R"({"type":"ALIVE","x":)" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  EXPECT_EQ(decode_error(deep), "data: nesting deeper than 64");
  const std::string deep_payload = R"({"topic":"openhab/items/X/state","type":"ItemStateEvent","payload":"{\"a\":)" +
                                   std::string(70, '[') + std::string(70, ']') + R"(}"})";
  EXPECT_EQ(decode_error(deep_payload), "payload: nesting deeper than 64");
}

TEST(DecodingAnEvent, ReportsDataThatIsNotAnObject) {
  EXPECT_EQ(decode_error("[1,2]"), "data: expected a JSON object, found an array");
}

TEST(DecodingAnEvent, ReportsAMissingOrMistypedType) {
  EXPECT_EQ(decode_error(R"({"topic":"openhab/items/X/state"})"), "type: missing");
  EXPECT_EQ(decode_error(R"({"type":7})"), "type: expected a string, found number 7");
}

TEST(DecodingAnEvent, ReportsAPayloadThatIsNotAJsonStringHoldingAnObject) {
  EXPECT_EQ(decode_error(R"({"topic":"openhab/items/X/state","payload":5,"type":"ItemStateEvent"})"),
            "payload: expected a JSON string containing an object, found number 5");
  EXPECT_EQ(
      decode_error(R"({"topic":"openhab/items/X/state","payload":{"type":"OnOff","value":"ON"},"type":"ItemStateEvent"})"),
      "payload: expected a JSON string containing an object, found an object");
  EXPECT_EQ(decode_error(R"({"topic":"openhab/items/X/state","payload":"[1]","type":"ItemStateEvent"})"),
            "payload: expected a JSON string containing an object, found an array");
  EXPECT_EQ(decode_error(R"({"topic":"openhab/items/X/state","payload":"{\"type\":","type":"ItemStateEvent"})"),
            "payload is not valid JSON (at byte 9)");
  EXPECT_EQ(decode_error(R"({"topic":"openhab/items/X/state","type":"ItemStateEvent"})"), "payload: missing");
}

TEST(DecodingAnEvent, ReportsMissingOrMistypedStateFields) {
  EXPECT_EQ(decode_error(R"({"topic":"openhab/items/X/state","payload":"{\"value\":\"ON\"}","type":"ItemStateEvent"})"),
            "payload.type: missing");
  EXPECT_EQ(decode_error(
                R"({"topic":"openhab/items/X/state","payload":"{\"type\":\"OnOff\",\"value\":null}","type":"ItemStateEvent"})"),
            "payload.value: expected a string, found null");
  EXPECT_EQ(
      decode_error(
          R"({"topic":"openhab/items/X/statechanged","payload":"{\"type\":\"OnOff\",\"value\":\"ON\",\"oldType\":1,\"oldValue\":\"OFF\"}","type":"ItemStateChangedEvent"})"),
      "payload.oldType: expected a string, found number 1");
}

TEST(DecodingAnEvent, ReportsATopicThatDoesNotFitTheEventType) {
  EXPECT_EQ(decode_error(R"({"topic":"openhab/items/G/M/statechanged","payload":"{}","type":"ItemStateChangedEvent"})"),
            "topic: expected openhab/items/<item>/statechanged for ItemStateChangedEvent, found "
            "\"openhab/items/G/M/statechanged\"");
  EXPECT_EQ(decode_error(R"({"topic":"openhab/items/G/statechanged","payload":"{}","type":"GroupItemStateChangedEvent"})"),
            "topic: expected openhab/items/<group>/<member>/statechanged for GroupItemStateChangedEvent, found "
            "\"openhab/items/G/statechanged\"");
  EXPECT_THAT(decode_error(R"({"topic":"openhab/items//state","payload":"{}","type":"ItemStateEvent"})"),
              HasSubstr("topic: expected"));
  EXPECT_THAT(decode_error(R"({"topic":"openhab/things/X/state","payload":"{}","type":"ItemStateEvent"})"),
              HasSubstr("topic: expected"));
  EXPECT_EQ(decode_error(R"({"payload":"{}","type":"ItemStateEvent"})"), "topic: missing");
}

TEST(DecodingAnEvent, ToleratesAChangedEventWithoutOldState) {
  const StateEvent e = state_event(
      R"({"topic":"openhab/items/X/statechanged","payload":"{\"type\":\"OnOff\",\"value\":\"ON\"}","type":"ItemStateChangedEvent"})");
  EXPECT_FALSE(e.old_state.has_value());
}

TEST(DecodingAnEvent, QuotesHostileTextSafelyInErrors) {
  const std::string error = decode_error(std::string(R"({"type":9,"x":")") + "\x01\xff" + "\"}");
  EXPECT_THAT(error, HasSubstr("data is not valid JSON"));
  EXPECT_EQ(decode_error(R"({"topic":"a/b","payload":"{}","type":"ItemStateEvent"})"),
            "topic: expected openhab/items/<item>/state for ItemStateEvent, found \"a/b\"");
}

TEST(DecodingAnEvent, NamesEveryStateEventType) {
  EXPECT_EQ(to_string(StateEventType::item_state), "ItemStateEvent");
  EXPECT_EQ(to_string(StateEventType::item_state_updated), "ItemStateUpdatedEvent");
  EXPECT_EQ(to_string(StateEventType::item_state_changed), "ItemStateChangedEvent");
  EXPECT_EQ(to_string(StateEventType::group_item_state_changed), "GroupItemStateChangedEvent");
  EXPECT_EQ(to_string(StateEventType::group_state_updated), "GroupStateUpdatedEvent");
}

TEST(DecodingAnEvent, WorksEndToEndFromARawStream) {
  SseParser parser;
  SseOutput out;
  parser.feed(testdata::realistic_stream(), out);
  int states = 0, alive = 0, ignored = 0;
  for (const auto& sse : out.events) {
    auto decoded = decode_event(sse);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
    states += std::holds_alternative<StateEvent>(*decoded);
    alive += std::holds_alternative<KeepAlive>(*decoded);
    ignored += std::holds_alternative<Ignored>(*decoded);
  }
  EXPECT_EQ(states, 5);
  EXPECT_EQ(alive, 1);
  EXPECT_EQ(ignored, 2);
}

}  // namespace
}  // namespace carehub::openhab
