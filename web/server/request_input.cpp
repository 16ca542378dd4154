#include "web/server/request_input.hpp"

#include <charconv>

#include "core/json_check.hpp"

namespace carehub::web {

Result<nlohmann::json> parse_json_body(std::string_view body, std::string_view content_type) {
  if (body.empty()) return nlohmann::json::object();
  if (body.size() > kMaxBodyBytes) {
    return make_error(Errc::full, "body: " + std::to_string(body.size()) + " bytes, more than the limit of " +
                                      std::to_string(kMaxBodyBytes));
  }
  const auto semi = content_type.find(';');
  auto media = content_type.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (media != "application/json") {
    return make_error(Errc::invalid_argument, "body: expected Content-Type application/json");
  }
  auto doc = parse_peer_json(body, "body", {kMaxBodyDepth, kMaxBodyBytes});
  if (!doc) return make_error(Errc::invalid_argument, doc.error().message);
  if (!doc->is_object()) return make_error(Errc::invalid_argument, "body: expected an object, found " + describe_json(*doc));
  return doc;
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    auto pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (pair.substr(0, eq) != name) continue;
    auto value = pair.substr(eq + 1);
    if (value.size() > 256) return std::nullopt;
    return std::string(value);
  }
  return std::nullopt;
}

Result<long long> query_integer(std::string_view name, std::string_view text, bool present, long long min,
                                long long max, long long fallback) {
  if (!present) return fallback;
  long long v = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || p != end || v < min || v > max) {
    return make_error(Errc::invalid_argument, "query parameter " + std::string(name) + ": expected an integer from " +
                                                  std::to_string(min) + " to " + std::to_string(max));
  }
  return v;
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace carehub::web
