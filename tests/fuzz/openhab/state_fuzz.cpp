// Fuzzes the state parsers (typed, item-typed, untyped), unit conversion, display-pattern units and the
// mapping of whatever state comes out. Input: "<type>\n<value>"; without a newline the whole input is the
// value and every parser sees it.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "drivers/openhab/items.hpp"
#include "drivers/openhab/mapping.hpp"
#include "drivers/openhab/state.hpp"
#include "drivers/openhab/units.hpp"

namespace oh = carehub::openhab;

namespace {

const oh::ItemMapping& mapping() {
  static const oh::ItemMapping m = [] {
    auto parsed = oh::parse_mapping(nlohmann::json::parse(R"({
      "tags": [{"tag": "t", "kind": "room-temperature"}, {"tag": "h", "kind": "room-humidity"},
               {"tag": "l", "kind": "illuminance"}, {"tag": "m", "kind": "motion"}]})"));
    return parsed ? *parsed : oh::ItemMapping{};
  }();
  return m;
}

void check(const oh::Result<oh::State>& state, std::string_view pattern) {
  if (!state) {
    if (state.error().message.empty()) __builtin_trap();
    return;
  }
  (void)oh::describe(*state);
  if (const auto* q = std::get_if<oh::Quantity>(&*state)) {
    if (!std::isfinite(q->value) || q->unit.empty()) __builtin_trap();
    if (const auto* unit = oh::find_unit(q->unit)) {
      auto c = oh::convert(q->value, q->unit, unit->canonical);
      if (c && !std::isfinite(*c)) __builtin_trap();
    }
  }
  if (const auto* d = std::get_if<oh::Decimal>(&*state); d && !std::isfinite(d->value)) __builtin_trap();
  for (const char* tag : {"t", "h", "l", "m"}) {
    oh::ItemContext item{"I", {tag}, {}, oh::pattern_unit(pattern)};
    auto outcome = oh::map_state(mapping(), item, *state);
    if (outcome) {
      if (const auto* r = std::get_if<oh::Reading>(&*outcome); r && !std::isfinite(r->value)) __builtin_trap();
    } else if (outcome.error().message.empty()) {
      __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = input.find('\n');
  if (nl == std::string_view::npos) {
    for (const char* type : {"Quantity", "Decimal", "Percent", "OnOff", "OpenClosed", "DateTime", "UnDef"}) {
      check(oh::parse_state(type, input), input);
    }
    check(oh::parse_untyped_state(input), input);
    check(oh::parse_item_state("Number:Temperature", input), input);
    (void)oh::pattern_unit(input);
    return 0;
  }
  const std::string_view type = input.substr(0, nl);
  const std::string_view value = input.substr(nl + 1);
  check(oh::parse_state(type, value), type);
  check(oh::parse_item_state(type, value), type);
  return 0;
}
