#pragma once
// Which openHAB items carehub records, and as what. A technician maps items by name, by tag (every item
// carrying the tag) or by group (every member of the group) to a carehub kind; everything else is ignored.
//
//   "openhab": {
//     "items":  [{"name": "LivingRoom_Temperature", "kind": "room-temperature"},
//                {"name": "Hall_Temp_Plain", "kind": "room-temperature", "unit": "°F"}],
//     "tags":   [{"tag": "Motion", "kind": "motion"}],
//     "groups": [{"group": "gBedroomLux", "kind": "illuminance"}]
//   }
//
// A name rule beats a tag rule, which beats a group rule; among tag (or group) rules the first one in the
// configuration that matches wins. A group rule applies to the group's members, not to the group item
// itself; to record a group's aggregated state, map the group by name.
//
// `unit` says what unit plain numbers (Number items without a dimension) are in. Without it, the unit in
// the item's display pattern ("%.1f °F") is used, and failing that the kind's canonical unit. Quantity
// states always carry their own unit, so `unit` does not apply to them.
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "drivers/openhab/event.hpp"
#include "drivers/openhab/items.hpp"
#include "drivers/openhab/result.hpp"
#include "drivers/openhab/state.hpp"
#include "drivers/openhab/units.hpp"

namespace carehub::openhab {

struct MappedKind {
  std::string_view name;               // carehub's kind: "room-temperature"
  std::string_view unit;               // its canonical unit: "Cel", "%", "lx", "{bool}"
  std::optional<Dimension> dimension;  // what its numbers measure; none for motion (a yes/no)
};

// room-temperature (Cel), room-humidity (%), illuminance (lx), motion ({bool}: 1 = motion/open).
[[nodiscard]] std::span<const MappedKind> mapped_kinds();
[[nodiscard]] const MappedKind* find_mapped_kind(std::string_view name);

struct MappingRule {
  std::string kind;
  std::optional<std::string> unit;  // the unit of plain numbers
  std::string where;                // the JSON path the rule came from, for messages

  bool operator==(const MappingRule&) const = default;
};

struct KeyedRule {
  std::string key;  // a tag or a group name
  MappingRule rule;

  bool operator==(const KeyedRule&) const = default;
};

struct ItemMapping {
  std::map<std::string, MappingRule, std::less<>> items;  // by item name
  std::vector<KeyedRule> tags;                             // in configuration order
  std::vector<KeyedRule> groups;                           // in configuration order

  // The rule for an item, or nullptr when carehub does not record it.
  [[nodiscard]] const MappingRule* find(std::string_view item, std::span<const std::string> item_tags,
                                        std::span<const std::string> item_groups) const;
  [[nodiscard]] bool empty() const { return items.empty() && tags.empty() && groups.empty(); }
};

// Reads the mapping from the "openhab" section of the configuration (`path` is where that section sits,
// for messages). Keys other than items/tags/groups belong to the client and are left alone; inside a rule
// an unknown key is an error. Every problem is reported, each naming its JSON path:
// `/openhab/items/2/kind: expected one of room-temperature, room-humidity, illuminance, motion, found "foo"`.
[[nodiscard]] Result<ItemMapping, std::vector<Error>> parse_mapping(const nlohmann::json& section,
                                                                    std::string_view path = "/openhab");

// What the mapping needs to know about an item besides its state.
struct ItemContext {
  std::string name;
  std::vector<std::string> tags;
  std::vector<std::string> groups;
  std::optional<std::string> display_unit;  // pattern_unit() of the item's display pattern
};

// The context of an item listed by GET /rest/items.
[[nodiscard]] ItemContext context_of(const ItemInfo& item);

// One measurement in the kind's canonical unit.
struct Reading {
  std::string item;
  std::string kind;
  double value = 0;
  std::string unit;

  bool operator==(const Reading&) const = default;
};

// The item is not mapped: carehub does not record it. Not an error.
struct Unmapped {
  bool operator==(const Unmapped&) const = default;
};

// Unmapped, NoValue (a mapped item is NULL/UNDEF: skip it, never store a zero) or a Reading.
using MapOutcome = std::variant<Unmapped, NoValue, Reading>;

// Maps one parsed state. Errors name the item and the kind: a state of the wrong type, a unit of the wrong
// dimension, an unknown unit.
[[nodiscard]] Result<MapOutcome> map_state(const ItemMapping& mapping, const ItemContext& item, const State& state);

// Maps one decoded state event; `item` is what GET /rest/items said about event.item (nullptr when the
// item is not known: only name rules can match then). Unmapped items are not parsed at all, so a strange
// state on an item carehub ignores is never an error.
[[nodiscard]] Result<MapOutcome> map_event(const ItemMapping& mapping, const StateEvent& event,
                                           const ItemContext* item);

}  // namespace carehub::openhab
