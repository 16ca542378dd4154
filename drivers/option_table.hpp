#pragma once
// Every driver declares its configuration options once, in one table in its config.hpp: where the option
// sits in its section (a JSON pointer, `*` for any array index or object key), its type, its default as a
// person reads it, and what it does. The parser takes the keys it accepts from the table (a key that is not
// there is an error, so a typo never falls back to a default), and the conventions test
// (tests/conventions/) checks that the driver's README documents every option in it.
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_check.hpp"

namespace carehub {

enum class OptionType {
  string,
  integer,
  number,
  boolean,
  object,
  array,
  removed,  // once an option: still recognised, so that the parser refuses it with its own reason
};

struct ConfigOption {
  std::string_view pointer;        // below the section: "/broker", "/subscriptions/*/qos"
  OptionType type;
  std::string_view default_value;  // as shown to people; "required" when there is none
  std::string_view doc;
};

// "integer", "array"... as the docs say it.
[[nodiscard]] std::string_view to_string(OptionType type);

// The last segment of `option.pointer`: the key a person writes ("qos").
[[nodiscard]] std::string_view option_key(const ConfigOption& option);

// The keys the table allows directly under `parent` ("" for the section itself, "/scan",
// "/subscriptions/*"), in table order, each once.
[[nodiscard]] std::vector<std::string_view> keys_under(std::span<const ConfigOption> table, std::string_view parent);

// JsonReader::only_keys with the keys the table allows under `parent`: the same error for an unknown key
// ("<path>/<key>: unknown key (expected one of: …)"), found at `path` in the document.
void only_table_keys(JsonReader& in, const nlohmann::json& object, std::string_view path,
                     std::span<const ConfigOption> table, std::string_view parent);

}  // namespace carehub
