#pragma once
// One connection's worth of openHAB stream logic, without sockets or threads: response bytes in, carehub
// readings out. The live source (source.hpp) owns the network; everything decided about the bytes is
// decided here, so unit tests drive it with the exact wire format.
//
// Per connection: begin() → feed() the /rest/events body as it arrives, load_items() once GET /rest/items
// answered. State events that arrive before the item list are held (bounded): tag and group rules need
// to know each item's tags and groups, which only the item list says.
//
// Bad input never stops the stream and never yields half a reading: oversize lines and events, broken
// JSON, unknown units, states of the wrong type and out-of-range values are counted (Counters
// "openhab_*") and logged with rate limiting, and the next event is read normally.
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/counters.hpp"
#include "core/log.hpp"
#include "core/reading.hpp"
#include "drivers/openhab/event.hpp"
#include "drivers/openhab/mapping.hpp"
#include "drivers/openhab/sse_parser.hpp"

namespace carehub::openhab {

// The `topics` filter of GET /rest/events for a mapping. Only item names known in advance can be named;
// tag and group rules match items the client learns about later, so they subscribe to every item. Group
// events (openhab/items/<group>/<member>/statechanged) are covered by a second filter per name.
[[nodiscard]] std::string topic_filter(const ItemMapping& mapping);

// The device id readings from `item` carry: "openhab-<item>".
[[nodiscard]] std::string device_id(std::string_view item);

class Session {
 public:
  Session(const ItemMapping& mapping, Logger& log, Counters& counters, SseLimits limits = {},
          std::size_t max_held_events = 1000);

  // A new connection: the parser starts afresh, held events and the item list of the last one are dropped.
  // Item states seen so far are kept, so an unchanged state after a reconnect is not recorded twice.
  void begin();

  // Bytes of the /rest/events body, received at `received`. Readings are appended to `out`.
  void feed(std::string_view bytes, TimePoint received, std::vector<carehub::Reading>& out);

  // The GET /rest/items body. Appends one reading per mapped item whose state differs from the last one
  // this session saw (all of them after the first connect), then the held events. An unparsable body is
  // an error (counted, the connection should be retried); single bad items are counted and skipped.
  [[nodiscard]] carehub::Result<void> load_items(std::string_view body, TimePoint received, std::vector<carehub::Reading>& out);

  // What the server promised with its last `alive` (3.4+); none before the first one or from older servers.
  [[nodiscard]] std::optional<std::chrono::seconds> keepalive_interval() const { return keepalive_; }
  [[nodiscard]] bool items_loaded() const { return items_loaded_; }
  [[nodiscard]] std::size_t known_items() const { return items_.size(); }

 private:
  void handle(const StateEvent& event, TimePoint received, std::vector<carehub::Reading>& out);
  void emit(const MapOutcome& outcome, std::string_view item, std::string_view state_text, TimePoint received,
            std::vector<carehub::Reading>& out);
  void bad(std::string_view counter, std::string_view key, const std::string& message);

  const ItemMapping& mapping_;
  Logger& log_;
  Counters& counters_;
  SseParser parser_;
  SseOutput parsed_;
  std::size_t max_held_;
  std::vector<std::pair<StateEvent, TimePoint>> held_;
  std::map<std::string, ItemContext, std::less<>> items_;
  std::map<std::string, std::string, std::less<>> last_state_;  // item -> the state text last recorded
  std::optional<std::chrono::seconds> keepalive_;
  bool items_loaded_ = false;
};

}  // namespace carehub::openhab
