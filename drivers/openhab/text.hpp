#pragma once
// Small text helpers shared by the openHAB parsers: quoting untrusted input for error messages without
// letting control bytes or broken UTF-8 through, and naming what a JSON value is.
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace carehub::openhab {

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
[[nodiscard]] bool is_valid_utf8(std::string_view text);

// `text` in double quotes, safe to log: control bytes and (in invalid UTF-8) bytes >= 0x80 become \xNN,
// and anything past `max_bytes` is cut with "...".
[[nodiscard]] std::string in_quotes(std::string_view text, std::size_t max_bytes = 80);

// "number 5", "string \"abc\"", "an object", "an array", "boolean true", "null".
[[nodiscard]] std::string describe_json(const nlohmann::json& value);

}  // namespace carehub::openhab
