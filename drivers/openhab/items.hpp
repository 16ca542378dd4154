#pragma once
// The GET /rest/items response: a JSON array of items with their current state. openHAB's event stream
// has no replay, so after every (re)connect the client reads this list for the current states, and keeps
// each item's tags and groups, which the events do not carry, for the item mapping.
//
//   [{"link":"…","state":"21.5 °C","stateDescription":{"pattern":"%.1f %unit%",…},"editable":false,
//     "type":"Number:Temperature","name":"LivingRoom_Temperature","label":"Living room",
//     "tags":["Measurement","Temperature"],"groupNames":["gLivingRoom"]}, …]
//
// Group items add "groupType" (the members' type, e.g. "Number:Temperature") and "function". Unknown
// fields are ignored. One malformed item is reported and skipped; the rest of the list still counts.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/openhab/result.hpp"
#include "drivers/openhab/state.hpp"

namespace carehub::openhab {

struct ItemInfo {
  std::string name;
  std::string type;        // "Number:Temperature", "Switch", "Group"...
  std::string group_type;  // Group items only, may be empty
  std::string state;       // the state text, unparsed
  std::vector<std::string> tags;
  std::vector<std::string> groups;  // "groupNames": the groups this item is a member of
  std::optional<std::string> pattern;  // stateDescription.pattern, e.g. "%.1f °C"

  bool operator==(const ItemInfo&) const = default;
};

struct ItemList {
  std::vector<ItemInfo> items;
  std::vector<Error> errors;  // one per skipped item, naming its JSON path: "/3/name: missing"
};

// Fails as a whole only when the body is not a JSON array.
[[nodiscard]] Result<ItemList> parse_items(std::string_view body);

// The item's state parsed with its item type (a Group's groupType when it has one).
[[nodiscard]] Result<State> parse_item_state(const ItemInfo& item);

// The unit a display pattern puts after the number: "%.1f °C" → "°C", "%d %%" → "%". None for patterns
// that show the state's own unit ("%.1f %unit%"), transform patterns ("MAP(en.map):%s") and patterns
// without a number. Plain Number items carry no unit in their state; the pattern is where the person who
// set the item up said what the number means.
[[nodiscard]] std::optional<std::string> pattern_unit(std::string_view pattern);

}  // namespace carehub::openhab
