#pragma once
// Everything a browser sends that carehub-web reads, bounded where it enters (design.md invariant 6):
// JSON bodies (size, nesting, an object at the top), cookies, query integers and path ids. Errors name
// the field and what was wrong, never echo the value (it may be a patient's).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace carehub::web {

inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;
inline constexpr std::size_t kMaxBodyDepth = 16;
inline constexpr std::size_t kMaxHeaders = 64;
inline constexpr std::size_t kMaxHeaderBytes = 32 * 1024;

// A request body: empty means {}; otherwise Content-Type application/json, ≤ kMaxBodyBytes, nesting ≤
// kMaxBodyDepth (checked before any DOM is built, through parse_peer_json), an object.
Result<nlohmann::json> parse_json_body(std::string_view body, std::string_view content_type);

// The value of cookie `name` in a Cookie header ("a=1; b=2"); nullopt when absent. Values longer than
// 256 bytes are ignored (no cookie of ours is that long).
std::optional<std::string> cookie_value(std::string_view header, std::string_view name);

// A query parameter as an integer within [min, max]; `fallback` when absent; an error naming it otherwise.
Result<long long> query_integer(std::string_view name, std::string_view text, bool present, long long min,
                                long long max, long long fallback);

// A path segment naming an alert or display: 1-128 of [A-Za-z0-9._:-].
bool valid_id(std::string_view id);

}  // namespace carehub::web
