#include "drivers/openhab/items.hpp"

#include <nlohmann/json.hpp>

#include "core/json_check.hpp"
#include "drivers/openhab/text.hpp"

namespace carehub::openhab {
namespace {

using nlohmann::json;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Reads one item; an error names the first problem by JSON path and the item is skipped.
Result<ItemInfo> read_item(const json& j, const std::string& path) {
  if (!j.is_object()) return make_error(path + ": expected an object, found " + describe_json(j));
  ItemInfo item;
  const auto text = [&](std::string_view key, bool required, std::string& out) -> std::optional<Error> {
    const auto it = j.find(key);
    if (it == j.end()) {
      if (required) return make_error(path + "/" + std::string(key) + ": missing");
      return std::nullopt;
    }
    if (!it->is_string()) {
      return make_error(path + "/" + std::string(key) + ": expected a string, found " + describe_json(*it));
    }
    out = it->get<std::string>();
    return std::nullopt;
  };
  const auto list = [&](std::string_view key, std::vector<std::string>& out) -> std::optional<Error> {
    const auto it = j.find(key);
    if (it == j.end()) return std::nullopt;
    const std::string where = path + "/" + std::string(key);
    if (!it->is_array()) return make_error(where + ": expected an array of strings, found " + describe_json(*it));
    for (std::size_t k = 0; k < it->size(); ++k) {
      const json& v = (*it)[k];
      if (!v.is_string()) {
        return make_error(where + "/" + std::to_string(k) + ": expected a string, found " + describe_json(v));
      }
      out.push_back(v.get<std::string>());
    }
    return std::nullopt;
  };
  if (auto e = text("name", true, item.name)) return *e;
  if (item.name.empty()) return make_error(path + "/name: empty");
  if (auto e = text("type", true, item.type)) return *e;
  if (auto e = text("state", true, item.state)) return *e;
  if (auto e = text("groupType", false, item.group_type)) return *e;
  if (auto e = list("tags", item.tags)) return *e;
  if (auto e = list("groupNames", item.groups)) return *e;
  const auto description = j.find("stateDescription");
  if (description != j.end() && description->is_object()) {
    const auto pattern = description->find("pattern");
    if (pattern != description->end() && pattern->is_string()) item.pattern = pattern->get<std::string>();
  }
  return item;
}

}  // namespace

Result<ItemList> parse_items(std::string_view body) {
  // The one safe parse: `[1e999]` or a deep body is an error here, never an exception or a deep DOM.
  auto parsed = parse_peer_json(body, "items");
  if (!parsed) return make_error(parsed.error().message);
  const json root = std::move(*parsed);
  if (!root.is_array()) return make_error("items: expected a JSON array, found " + describe_json(root));
  ItemList list;
  list.items.reserve(root.size());
  for (std::size_t i = 0; i < root.size(); ++i) {
    std::string path = "/";  // built in two steps: g++ 12 -O3 warns falsely on "/" + std::to_string(i)
    path += std::to_string(i);
    auto item = read_item(root[i], path);
    if (item) {
      list.items.push_back(std::move(item).value());
    } else {
      list.errors.push_back(item.error());
    }
  }
  return list;
}

Result<State> parse_item_state(const ItemInfo& item) {
  if (item.type == "Group" && !item.group_type.empty()) return parse_item_state(item.group_type, item.state);
  return parse_item_state(item.type, item.state);
}

std::optional<std::string> pattern_unit(std::string_view pattern) {
  // A transformation ("MAP(en.map):%s", "JS(x.js):%s") replaces the text: no unit to read.
  const std::size_t first_percent = pattern.find('%');
  const std::size_t paren = pattern.find('(');
  if (paren != std::string_view::npos && paren < first_percent && pattern.find("):") != std::string_view::npos) {
    return std::nullopt;
  }
  // Find the first conversion, skipping "%%".
  std::size_t i = 0;
  for (;;) {
    i = pattern.find('%', i);
    if (i == std::string_view::npos) return std::nullopt;
    if (i + 1 < pattern.size() && pattern[i + 1] == '%') {
      i += 2;
      continue;
    }
    break;
  }
  ++i;
  // Java Formatter syntax: %[argument_index$][flags][width][.precision]conversion
  while (i < pattern.size() && (is_digit(pattern[i]) || pattern[i] == '$')) ++i;
  while (i < pattern.size() && std::string_view("-#+ 0,(").find(pattern[i]) != std::string_view::npos) ++i;
  while (i < pattern.size() && is_digit(pattern[i])) ++i;
  if (i < pattern.size() && pattern[i] == '.') {
    ++i;
    while (i < pattern.size() && is_digit(pattern[i])) ++i;
  }
  if (i >= pattern.size() || std::string_view("dfeEgGs").find(pattern[i]) == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view rest = pattern.substr(i + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  if (rest.empty() || rest == "%unit%") return std::nullopt;
  std::string unit;
  for (std::size_t k = 0; k < rest.size(); ++k) {
    if (rest[k] == '%') {
      if (k + 1 < rest.size() && rest[k + 1] == '%') {
        unit += '%';
        ++k;
        continue;
      }
      return std::nullopt;  // another conversion: not a plain unit
    }
    const auto c = static_cast<unsigned char>(rest[k]);
    if (c <= 0x20 || c == 0x7F) return std::nullopt;
    unit += rest[k];
  }
  const auto lead = static_cast<unsigned char>(unit.front());
  if (!(is_ascii_letter(unit.front()) || unit.front() == '%' || lead >= 0x80) || !is_valid_utf8(unit)) {
    return std::nullopt;
  }
  return unit;
}

}  // namespace carehub::openhab
