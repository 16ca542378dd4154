#pragma once
// openHAB wire data used across the openHAB parser tests.
//
// The envelopes marked "verbatim" are openHAB's own output as published: the ItemStateEvent from the
// openHAB WebSocket API documentation (openhab.org/docs/configuration/websocket), and envelopes captured
// from openHAB servers in the gopenhab client's test suite (creativeprojects/gopenhab, event/event_test.go).
// The others follow openhab-core's ItemEventFactory (topics, payload beans) and SseUtil (every event is
// sent as `event: message` with the envelope as one data line).
#include <string>
#include <string_view>

namespace carehub::openhab::testdata {

// verbatim: openHAB docs, WebSocket API
inline constexpr std::string_view kDocsItemStateEvent =
    R"({"type":"ItemStateEvent","topic":"openhab/items/DTR/state","payload":"{\"type\":\"Quantity\",\"value\":\"5 MB/s\"}"})";

// verbatim: gopenhab
inline constexpr std::string_view kStateUpdated =
    R"({"topic":"openhab/items/TestTemperature/stateupdated","payload":"{\"type\":\"Quantity\",\"value\":\"20.0 °C\"}","type":"ItemStateUpdatedEvent"})";
inline constexpr std::string_view kGroupStateChanged =
    R"({"topic":"smarthome/items/HouseTemperature/UpstairsTemperature/statechanged","payload":"{\"type\":\"Decimal\",\"value\":\"18.43\",\"oldType\":\"Decimal\",\"oldValue\":\"18.32\"}","type":"GroupItemStateChangedEvent"})";
inline constexpr std::string_view kGroupStateUpdated =
    R"({"topic":"openhab/items/ChristmasLightsGroup/Back_Garden_Lighting_Switch/stateupdated","payload":"{\"type\":\"OnOff\",\"value\":\"OFF\"}","type":"GroupStateUpdatedEvent"})";
inline constexpr std::string_view kCommand =
    R"({"topic":"smarthome/items/TestSwitch/command","payload":"{\"type\":\"OnOff\",\"value\":\"ON\"}","type":"ItemCommandEvent"})";
inline constexpr std::string_view kThingStatusChanged =
    R"({"topic":"openhab/things/mqtt:homie300:6a75cc6119:test/statuschanged","payload":"[{\"status\":\"ONLINE\",\"statusDetail\":\"CONFIGURATION_PENDING\"},{\"status\":\"OFFLINE\",\"statusDetail\":\"COMMUNICATION_ERROR\",\"description\":\"Did not receive all required topics\"}]","type":"ThingStatusInfoChangedEvent"})";

// ItemEventFactory shapes (openHAB 4.x adds lastStateUpdate/lastStateChange, which carehub ignores).
inline constexpr std::string_view kTemperatureChanged =
    R"({"topic":"openhab/items/LivingRoom_Temperature/statechanged","payload":"{\"type\":\"Quantity\",\"value\":\"21.5 °C\",\"oldType\":\"Quantity\",\"oldValue\":\"21.4 °C\",\"lastStateUpdate\":\"2024-11-11T20:39:00.000+0100\",\"lastStateChange\":\"2024-11-11T20:39:00.000+0100\"}","type":"ItemStateChangedEvent"})";
inline constexpr std::string_view kHumidityUpdated =
    R"({"topic":"openhab/items/Bathroom_Humidity/stateupdated","payload":"{\"type\":\"Quantity\",\"value\":\"64 %\"}","type":"ItemStateUpdatedEvent"})";
inline constexpr std::string_view kMotionChanged =
    R"({"topic":"openhab/items/Hall_Motion/statechanged","payload":"{\"type\":\"OnOff\",\"value\":\"ON\",\"oldType\":\"OnOff\",\"oldValue\":\"OFF\"}","type":"ItemStateChangedEvent"})";
inline constexpr std::string_view kLuxUndef =
    R"({"topic":"openhab/items/Kitchen_Lux/statechanged","payload":"{\"type\":\"UnDef\",\"value\":\"UNDEF\",\"oldType\":\"Quantity\",\"oldValue\":\"312 lx\"}","type":"ItemStateChangedEvent"})";
inline constexpr std::string_view kAlive = R"({"type":"ALIVE","interval":10})";

// One SSE frame per envelope, as SseResource writes them.
inline std::string frame(std::string_view data, std::string_view event = "message") {
  return "event: " + std::string(event) + "\ndata: " + std::string(data) + "\n\n";
}

// A realistic stretch of GET /rest/events: events of several kinds, a keep-alive, a comment, a retry.
inline std::string realistic_stream() {
  return "retry: 5000\n" + frame(kTemperatureChanged) + frame(kCommand) + ": keep the proxy awake\n\n" +
         frame(kHumidityUpdated) + frame(kAlive, "alive") + frame(kGroupStateChanged) + frame(kMotionChanged) +
         frame(kThingStatusChanged) + "id: 42\n" + frame(kLuxUndef);
}

}  // namespace carehub::openhab::testdata
