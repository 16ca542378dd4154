#include "drivers/openhab/session.hpp"

#include <algorithm>
#include <variant>

#include "drivers/openhab/items.hpp"
#include "drivers/openhab/text.hpp"

namespace carehub::openhab {
namespace {

constexpr std::string_view kLog = "openhab";
// Beyond this many names the filter stops naming items: a URL of a few KiB is what every proxy accepts.
constexpr std::size_t kMaxNamedItems = 64;

}  // namespace

std::string topic_filter(const ItemMapping& mapping) {
  // Only statechanged: with stateupdated (4.x) as well, every change would arrive twice with two receive
  // times, i.e. as two readings. Unchanged periodic updates are not recorded; the item list read after
  // every (re)connect fills in the current state.
  if (!mapping.tags.empty() || !mapping.groups.empty() || mapping.items.size() > kMaxNamedItems) {
    return "openhab/items/*/statechanged";
  }
  std::string out;
  for (const auto& [name, rule] : mapping.items) {
    if (!out.empty()) out += ',';
    // The second filter catches group events (openhab/items/<group>/<member>/statechanged) for names
    // that are groups; `*` spans `/` since openHAB 3.3.
    out += "openhab/items/" + name + "/statechanged,openhab/items/" + name + "/*/statechanged";
  }
  return out;
}

std::string device_id(std::string_view item) { return "openhab-" + std::string(item); }

Session::Session(const ItemMapping& mapping, Logger& log, Counters& counters, SseLimits limits,
                 std::size_t max_held_events)
    : mapping_(mapping), log_(log), counters_(counters), parser_(limits), max_held_(max_held_events) {}

void Session::begin() {
  parser_.end_of_stream();
  held_.clear();
  items_.clear();
  items_loaded_ = false;
  keepalive_.reset();
}

void Session::bad(std::string_view counter, std::string_view key, const std::string& message) {
  counters_.add(counter);
  // The counter name is the stable reason; the message says which item or event and why.
  log_.rate_limited(LogLevel::warning, kLog, "openhab:" + std::string(key), "event-dropped", {{"reason", counter}, {"error", message}});
}

void Session::feed(std::string_view bytes, TimePoint received, std::vector<carehub::Reading>& out) {
  parsed_.clear();
  parser_.feed(bytes, parsed_);
  for (const auto& e : parsed_.errors) bad("openhab_oversize", "oversize", "stream: " + e.message + " (skipped)");
  for (const auto& sse : parsed_.events) {
    counters_.add("openhab_events");
    auto decoded = decode_event(sse);
    if (!decoded) {
      bad("openhab_bad_events", "bad-event", "event skipped: " + decoded.error().message);
      continue;
    }
    if (const auto* alive = std::get_if<KeepAlive>(&*decoded)) {
      if (alive->interval) keepalive_ = alive->interval;
      continue;
    }
    const auto* state = std::get_if<StateEvent>(&*decoded);
    if (!state) continue;  // commands, thing events, unknown types: not ours
    if (!items_loaded_) {
      if (held_.size() >= max_held_) {
        bad("openhab_dropped_events", "held", "too many events before the item list arrived; dropping the oldest");
        held_.erase(held_.begin());
      }
      held_.emplace_back(*state, received);
      continue;
    }
    handle(*state, received, out);
  }
}

carehub::Result<void> Session::load_items(std::string_view body, TimePoint received,
                                          std::vector<carehub::Reading>& out) {
  auto list = parse_items(body);
  if (!list) {
    counters_.add("openhab_bad_items");
    return carehub::make_error(Errc::invalid_argument, "GET /rest/items: " + list.error().message);
  }
  for (const auto& e : list->errors) bad("openhab_bad_items", "bad-item", "GET /rest/items: item skipped: " + e.message);
  items_.clear();
  for (const auto& item : list->items) items_[item.name] = context_of(item);
  items_loaded_ = true;
  for (const auto& item : list->items) {
    const auto& context = items_[item.name];
    if (!mapping_.find(item.name, context.tags, context.groups)) continue;  // never parse what we ignore
    if (auto last = last_state_.find(item.name); last != last_state_.end() && last->second == item.state) continue;
    auto state = parse_item_state(item);
    if (!state) {
      bad("openhab_bad_states", "state:" + item.name, "item " + in_quotes(item.name) + ": " + state.error().message);
      continue;
    }
    auto mapped = map_state(mapping_, context, *state);
    if (!mapped) {
      bad("openhab_unmappable", "map:" + item.name, mapped.error().message);
      continue;
    }
    emit(*mapped, item.name, item.state, received, out);
  }
  auto held = std::move(held_);
  held_.clear();
  for (const auto& held_event : held) {
    const auto& [event, when] = held_event;
    const std::string& item = event.item;  // a plain reference: clang 14 cannot capture a structured binding
    // A change held while the list was on its way, to the very state the list shows, is the change the
    // list already stored (statechanged never fires for the same value twice): storing it again would
    // make one change two readings. A held change to another state is its own reading.
    const auto listed = std::find_if(list->items.begin(), list->items.end(),
                                     [&item](const ItemInfo& i) { return i.name == item; });
    if (listed != list->items.end() && listed->state == event.state.value) continue;
    handle(event, when, out);
  }
  return {};
}

void Session::handle(const StateEvent& event, TimePoint received, std::vector<carehub::Reading>& out) {
  const auto known = items_.find(event.item);
  auto mapped = map_event(mapping_, event, known == items_.end() ? nullptr : &known->second);
  if (!mapped) {
    bad("openhab_unmappable", "map:" + event.item, mapped.error().message);
    return;
  }
  emit(*mapped, event.item, event.state.value, received, out);
}

void Session::emit(const MapOutcome& outcome, std::string_view item, std::string_view state_text, TimePoint received,
                   std::vector<carehub::Reading>& out) {
  if (std::holds_alternative<Unmapped>(outcome)) return;
  // Remembered for NULL/UNDEF too: a value that comes back after UNDEF is a change worth recording.
  last_state_[std::string(item)] = std::string(state_text);
  const auto* r = std::get_if<openhab::Reading>(&outcome);
  if (!r) {
    counters_.add("openhab_no_value");
    return;
  }
  const auto kind = kind_from_string(r->kind);
  if (!kind) {  // the mapping only admits kinds carehub has; a mismatch is a build error, not input
    bad("openhab_unmappable", "kind", "kind " + r->kind + " is not a carehub kind");
    return;
  }
  carehub::Reading reading;
  reading.kind = *kind;
  reading.device = device_id(item);
  reading.time = received;
  reading.received = received;
  reading.source = "openhab";
  reading.values["value"] = r->value;
  if (auto valid = validate(reading); !valid) {
    // The validation error quotes the value (patient data): the reason only at debug level.
    bad("openhab_rejected", "range:" + std::string(item), "item " + in_quotes(item) + ": refused by validation (not stored)");
    log_.debug(kLog, "reading-rejected-detail", {{"item", item}, {"error", valid.error().message}});
    return;
  }
  counters_.add("openhab_readings");
  out.push_back(std::move(reading));
}

}  // namespace carehub::openhab
