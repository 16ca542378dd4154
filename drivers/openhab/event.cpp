#include "drivers/openhab/event.hpp"

#include <array>
#include <nlohmann/json.hpp>

#include "core/json_check.hpp"
#include "drivers/openhab/text.hpp"

namespace carehub::openhab {
namespace {

using nlohmann::json;

struct TypeInfo {
  std::string_view name;
  StateEventType type;
  std::string_view suffix;  // the topic's last segment
  bool group;               // the topic names <group>/<member>
  bool has_old_state;
};

constexpr std::array kStateEventTypes{
    TypeInfo{"ItemStateEvent", StateEventType::item_state, "state", false, false},
    TypeInfo{"ItemStateUpdatedEvent", StateEventType::item_state_updated, "stateupdated", false, false},
    TypeInfo{"ItemStateChangedEvent", StateEventType::item_state_changed, "statechanged", false, true},
    TypeInfo{"GroupItemStateChangedEvent", StateEventType::group_item_state_changed, "statechanged", true, true},
    TypeInfo{"GroupStateUpdatedEvent", StateEventType::group_state_updated, "stateupdated", true, false},
};

const TypeInfo* find_type(std::string_view name) {
  for (const auto& t : kStateEventTypes) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// Untrusted JSON text from openHAB, through the one safe parse (depth and numbers bounded, never throws);
// the error names `what` and the problem.
Result<json> parse_json(std::string_view text, std::string_view what) {
  auto parsed = parse_peer_json(text, what);
  if (!parsed) return make_error(parsed.error().message);
  return std::move(*parsed);
}

// The member `key` of `obj` as a string: nullopt plus an error message when absent or not a string.
const std::string* string_member(const json& obj, std::string_view key, std::string_view path, std::string& error) {
  const auto it = obj.find(key);
  if (it == obj.end()) {
    error = std::string(path) + ": missing";
    return nullptr;
  }
  if (!it->is_string()) {
    error = std::string(path) + ": expected a string, found " + describe_json(*it);
    return nullptr;
  }
  return &it->get_ref<const std::string&>();
}

Result<Event> keep_alive(const json& obj) {
  KeepAlive alive;
  const auto it = obj.find("interval");
  if (it != obj.end()) {
    // openHAB sends a whole number of seconds; a day is far beyond any real setting.
    if (!it->is_number_integer() || it->get<std::int64_t>() <= 0 || it->get<std::int64_t>() > 86400) {
      return make_error("interval: expected a whole number of seconds in 1..86400, found " + describe_json(*it));
    }
    alive.interval = std::chrono::seconds(it->get<std::int64_t>());
  }
  return Event{alive};
}

Result<Event> decode_alive(std::string_view data) {
  auto parsed = parse_json(data, "alive");
  if (!parsed) return parsed.error();
  if (!parsed->is_object()) return make_error("alive: expected a JSON object, found " + describe_json(*parsed));
  return keep_alive(*parsed);
}

// Splits "openhab/items/A/B/statechanged" into at most 6 segments; more means the topic is not ours.
struct Topic {
  std::array<std::string_view, 6> segments{};
  std::size_t count = 0;
};

Topic split_topic(std::string_view topic) {
  Topic t;
  while (t.count < t.segments.size()) {
    const std::size_t slash = topic.find('/');
    t.segments[t.count++] = topic.substr(0, slash);
    if (slash == std::string_view::npos) return t;
    topic.remove_prefix(slash + 1);
  }
  t.count = t.segments.size() + 1;  // too many
  return t;
}

Result<Event> decode_state_event(const json& obj, const TypeInfo& info) {
  std::string error;
  const std::string* topic = string_member(obj, "topic", "topic", error);
  if (!topic) return make_error(error);
  const Topic t = split_topic(*topic);
  const std::size_t expected = info.group ? 5 : 4;
  bool ok = t.count == expected && (t.segments[0] == "openhab" || t.segments[0] == "smarthome") &&
            t.segments[1] == "items" && t.segments[expected - 1] == info.suffix;
  for (std::size_t k = 2; ok && k + 1 < expected; ++k) ok = !t.segments[k].empty();
  if (!ok) {
    return make_error("topic: expected openhab/items/" + std::string(info.group ? "<group>/<member>/" : "<item>/") +
                      std::string(info.suffix) + " for " + std::string(info.name) + ", found " + in_quotes(*topic));
  }

  const auto payload_it = obj.find("payload");
  if (payload_it == obj.end()) return make_error("payload: missing");
  if (!payload_it->is_string()) {
    return make_error("payload: expected a JSON string containing an object, found " + describe_json(*payload_it));
  }
  auto payload = parse_json(payload_it->get_ref<const std::string&>(), "payload");
  if (!payload) return payload.error();
  if (!payload->is_object()) {
    return make_error("payload: expected a JSON string containing an object, found " + describe_json(*payload));
  }

  StateEvent event;
  event.type = info.type;
  event.item = std::string(t.segments[2]);
  if (info.group) event.member = std::string(t.segments[3]);
  const std::string* type = string_member(*payload, "type", "payload.type", error);
  if (!type) return make_error(error);
  const std::string* value = string_member(*payload, "value", "payload.value", error);
  if (!value) return make_error(error);
  event.state = RawState{*type, *value};

  if (info.has_old_state && (payload->contains("oldType") || payload->contains("oldValue"))) {
    const std::string* old_type = string_member(*payload, "oldType", "payload.oldType", error);
    if (!old_type) return make_error(error);
    const std::string* old_value = string_member(*payload, "oldValue", "payload.oldValue", error);
    if (!old_value) return make_error(error);
    event.old_state = RawState{*old_type, *old_value};
  }
  return Event{std::move(event)};
}

}  // namespace

std::string_view to_string(StateEventType type) {
  for (const auto& t : kStateEventTypes) {
    if (t.type == type) return t.name;
  }
  return "unknown";
}

Result<Event> decode_envelope(std::string_view text) {
  auto parsed = parse_json(text, "data");
  if (!parsed) return parsed.error();
  const json& obj = *parsed;
  if (!obj.is_object()) return make_error("data: expected a JSON object, found " + describe_json(obj));
  std::string error;
  const std::string* type = string_member(obj, "type", "type", error);
  if (!type) return make_error(error);
  if (*type == "ALIVE") return keep_alive(obj);  // openHAB 3.3 sent it as a plain message
  const TypeInfo* info = find_type(*type);
  if (!info) return Event{Ignored{*type}};
  return decode_state_event(obj, *info);
}

Result<Event> decode_event(const SseEvent& event) {
  if (event.type == "message") return decode_envelope(event.data);
  if (event.type == "alive") return decode_alive(event.data);
  return Event{Ignored{"SSE event " + in_quotes(event.type)}};
}

}  // namespace carehub::openhab
