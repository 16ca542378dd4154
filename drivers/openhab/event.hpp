#pragma once
// Decodes openHAB's event bus messages as GET /rest/events delivers them. Each SSE `message` event's data
// is an envelope {"topic":…,"payload":"<JSON as a string>","type":…}; openHAB 3.4+ also sends
// `event: alive` with {"type":"ALIVE","interval":10} (3.3 sent {"type":"ALIVE"} as a `message`).
//
// Topics and payloads follow openhab-core's ItemEventFactory:
//   ItemStateEvent              openhab/items/<item>/state
//   ItemStateUpdatedEvent       openhab/items/<item>/stateupdated                  (4.x)
//   ItemStateChangedEvent       openhab/items/<item>/statechanged                  payload adds oldType/oldValue
//   GroupItemStateChangedEvent  openhab/items/<group>/<member>/statechanged        payload adds oldType/oldValue
//   GroupStateUpdatedEvent      openhab/items/<group>/<member>/stateupdated        (4.x)
// In the two group events the payload is the GROUP's new (aggregated) state; <member> is only the item
// whose change made the group recompute. The member's own state arrives in its own item event.
//
// Every other event type (ItemCommandEvent, ThingStatusInfoChangedEvent, ItemAddedEvent...), every other
// SSE event name, and unknown JSON fields are ignored, not errors: openHAB adds both over time.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "drivers/openhab/result.hpp"
#include "drivers/openhab/sse_parser.hpp"

namespace carehub::openhab {

enum class StateEventType {
  item_state,                // ItemStateEvent
  item_state_updated,        // ItemStateUpdatedEvent
  item_state_changed,        // ItemStateChangedEvent
  group_item_state_changed,  // GroupItemStateChangedEvent
  group_state_updated,       // GroupStateUpdatedEvent
};

// openHAB's name for the type: "ItemStateChangedEvent"...
[[nodiscard]] std::string_view to_string(StateEventType type);

// A state as the payload carries it, not yet parsed (see state.hpp): {"type":"Quantity","value":"21.5 °C"}.
struct RawState {
  std::string type;
  std::string value;

  bool operator==(const RawState&) const = default;
};

struct StateEvent {
  StateEventType type = StateEventType::item_state_changed;
  std::string item;    // the item whose state this is: for group events, the group
  std::string member;  // group events only: the member that triggered the group's update
  RawState state;
  std::optional<RawState> old_state;  // ItemStateChangedEvent and GroupItemStateChangedEvent

  bool operator==(const StateEvent&) const = default;
};

// The server is alive. `interval` is how often it promises to say so; treat the stream as dead after the
// interval plus a margin. Absent on servers that do not announce it.
struct KeepAlive {
  std::optional<std::chrono::seconds> interval;

  bool operator==(const KeepAlive&) const = default;
};

// Understood, and of no interest to carehub.
struct Ignored {
  std::string what;  // "ItemCommandEvent", "SSE event \"ready\""...

  bool operator==(const Ignored&) const = default;
};

using Event = std::variant<StateEvent, KeepAlive, Ignored>;

// Decodes one event from SseParser. Malformed JSON, missing fields and wrong types give an error naming
// the field: "payload: expected a JSON string containing an object, found number 5".
[[nodiscard]] Result<Event> decode_event(const SseEvent& event);

// Decodes one envelope on its own (the data of a `message` event, or a WebSocket message).
[[nodiscard]] Result<Event> decode_envelope(std::string_view json);

}  // namespace carehub::openhab
