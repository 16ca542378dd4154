#include "drivers/option_table.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace carehub {

std::string_view to_string(OptionType type) {
  switch (type) {
    case OptionType::string: return "string";
    case OptionType::integer: return "integer";
    case OptionType::number: return "number";
    case OptionType::boolean: return "boolean";
    case OptionType::object: return "object";
    case OptionType::array: return "array";
    case OptionType::removed: return "removed";
  }
  return "unknown";
}

std::string_view option_key(const ConfigOption& option) {
  const auto slash = option.pointer.rfind('/');
  return slash == std::string_view::npos ? option.pointer : option.pointer.substr(slash + 1);
}

std::vector<std::string_view> keys_under(std::span<const ConfigOption> table, std::string_view parent) {
  std::vector<std::string_view> out;
  for (const auto& option : table) {
    const auto& p = option.pointer;
    if (p.size() <= parent.size() + 1 || !p.starts_with(parent) || p[parent.size()] != '/') continue;
    auto rest = p.substr(parent.size() + 1);
    auto key = rest.substr(0, rest.find('/'));
    if (std::find(out.begin(), out.end(), key) == out.end()) out.push_back(key);
  }
  return out;
}

void only_table_keys(JsonReader& in, const nlohmann::json& object, std::string_view path,
                     std::span<const ConfigOption> table, std::string_view parent) {
  if (!object.is_object()) return;
  const auto known = keys_under(table, parent);
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string expected;
    for (auto k : known) expected += (expected.empty() ? "" : ", ") + std::string(k);
    in.fail(json_path(path, key), "unknown key (expected one of: " + expected + ")");
  }
}

}  // namespace carehub
