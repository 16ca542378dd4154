// Fuzzes SSE framing and event decoding together, the way the live client uses them, and checks the
// framing's central promise: however the bytes are cut into reads, the events and errors are the same.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "drivers/openhab/event.hpp"
#include "drivers/openhab/items.hpp"
#include "drivers/openhab/mapping.hpp"
#include "drivers/openhab/sse_parser.hpp"

namespace oh = carehub::openhab;

namespace {

const oh::ItemMapping& mapping() {
  static const oh::ItemMapping m = [] {
    auto parsed = oh::parse_mapping(nlohmann::json::parse(R"({
      "items": [{"name": "LivingRoom_Temperature", "kind": "room-temperature"},
                {"name": "HouseTemperature", "kind": "room-temperature", "unit": "°F"},
                {"name": "Bathroom_Humidity", "kind": "room-humidity"}],
      "tags": [{"tag": "Motion", "kind": "motion"}],
      "groups": [{"group": "gLux", "kind": "illuminance"}]})"));
    return parsed ? *parsed : oh::ItemMapping{};
  }();
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the read size for the chunked pass; small limits make the overflow paths reachable.
  const std::size_t step = 1 + data[0] % 17;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  const oh::SseLimits limits{256, 512};

  oh::SseParser whole(limits);
  oh::SseOutput expected;
  whole.feed(stream, expected);

  oh::SseParser chunked(limits);
  oh::SseOutput actual;
  for (std::size_t pos = 0; pos < stream.size(); pos += step) chunked.feed(stream.substr(pos, step), actual);
  if (actual.events != expected.events || actual.errors != expected.errors) __builtin_trap();
  chunked.end_of_stream();

  const oh::ItemContext motion{"Hall_Motion", {"Motion"}, {}, std::nullopt};
  for (const auto& event : expected.events) {
    if (event.data.size() > limits.max_event_bytes) __builtin_trap();
    auto decoded = oh::decode_event(event);
    if (!decoded) {
      if (decoded.error().message.empty()) __builtin_trap();
      continue;
    }
    if (const auto* state = std::get_if<oh::StateEvent>(&*decoded)) {
      auto outcome = oh::map_event(mapping(), *state, state->item == "Hall_Motion" ? &motion : nullptr);
      if (!outcome && outcome.error().message.empty()) __builtin_trap();
    }
  }

  // The same bytes as a GET /rest/items body.
  if (!stream.empty() && stream.front() == '[') {
    auto items = oh::parse_items(stream);
    if (items) {
      for (const auto& item : items->items) {
        (void)oh::parse_item_state(item);
        (void)oh::map_state(mapping(), oh::context_of(item), oh::NoValue{});
      }
    }
  }
  return 0;
}
