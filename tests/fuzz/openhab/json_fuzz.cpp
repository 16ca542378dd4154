// openHAB's JSON entry points without SSE framing in front (which caps events at a few hundred bytes in
// sse_fuzz): any bytes as a GET /rest/items body, as an event's data and as an ALIVE event. Errors, never
// a crash; 1e999 or a deep document must come back as an error, not an exception.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "drivers/openhab/event.hpp"
#include "drivers/openhab/items.hpp"
#include "drivers/openhab/mapping.hpp"

namespace oh = carehub::openhab;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto items = oh::parse_items(text)) {
    for (const auto& item : items->items) {
      (void)oh::parse_item_state(item);
      (void)oh::context_of(item);
    }
  } else if (items.error().message.empty()) {
    __builtin_trap();
  }
  for (const char* type : {"message", "alive"}) {
    auto event = oh::decode_event(oh::SseEvent{type, std::string(text), ""});
    if (!event && event.error().message.empty()) __builtin_trap();
  }
  return 0;
}
