#include "core/json_check.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <new>
#include <sstream>

namespace carehub {

std::string describe_json(const nlohmann::json& v) {
  auto shorten = [](std::string s) {
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return s;
  };
  switch (v.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return std::string("boolean ") + (v.get<bool>() ? "true" : "false");
    case nlohmann::json::value_t::string: return "string " + shorten(v.dump());
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return "number " + shorten(v.dump());
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    default: return "an unsupported value";
  }
}

namespace {

// nlohmann reports a byte offset; people need line and column.
std::string line_col(std::string_view text, std::size_t byte) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

// "[json.exception.parse_error.101] parse error at line 3, column 5: ..." -> its readable tail.
std::string without_exception_id(const std::exception& e) {
  std::string what = e.what();
  if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
  return what;
}

}  // namespace

Result<nlohmann::json> parse_json_document(std::string_view text, const std::string& source) {
  try {
    // Only the exception carries the position, so it is caught here, at the boundary.
    return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::parse_error& e) {
    return make_error(Errc::invalid_argument, source + ":" + line_col(text, e.byte == 0 ? 0 : e.byte - 1) +
                                                  ": not valid JSON: " + without_exception_id(e));
  } catch (const nlohmann::json::exception& e) {
    // Not a syntax error but still unreadable, e.g. a number too large for a double (found by fuzzing).
    return make_error(Errc::invalid_argument, source + ": not valid JSON: " + without_exception_id(e));
  }
}

std::size_t json_nesting_depth(std::string_view text, std::size_t stop_after) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // the escaped character cannot end the string
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > deepest) deepest = depth;
        if (deepest > stop_after) return deepest;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;  // unbalanced: the parser reports it
        break;
      default: break;
    }
  }
  return deepest;
}

Result<nlohmann::json> parse_peer_json(std::string_view text, std::string_view source, JsonLimits limits) {
  const std::string who(source);
  if (limits.max_bytes > 0 && text.size() > limits.max_bytes) {
    return make_error(Errc::invalid_argument, who + ": " + std::to_string(text.size()) + " bytes, more than the limit of " +
                                                  std::to_string(limits.max_bytes));
  }
  // Before the DOM exists: nothing recursive may ever see a deep document.
  if (json_nesting_depth(text, limits.max_depth) > limits.max_depth) {
    return make_error(Errc::invalid_argument, who + ": nesting deeper than " + std::to_string(limits.max_depth));
  }
  try {
    // Exceptions on, because only the exception carries the byte offset; all of them end here.
    return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const nlohmann::json::parse_error& e) {
    return make_error(Errc::invalid_argument, who + " is not valid JSON (at byte " + std::to_string(e.byte) + ")");
  } catch (const nlohmann::json::out_of_range&) {
    return make_error(Errc::invalid_argument, who + ": a number beyond the range of a double");
  } catch (const nlohmann::json::exception&) {
    return make_error(Errc::invalid_argument, who + " is not valid JSON");
  } catch (const std::bad_alloc&) {
    return make_error(Errc::invalid_argument, who + ": too large to hold in memory");
  }
}

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::not_found, path + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(Errc::io, path + ": cannot read");
  return text.str();
}

std::string json_path(std::string_view parent, std::string_view key) {
  std::string out(parent);
  out += '/';
  for (char c : key) {  // RFC 6901 escaping
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string json_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "/" + std::to_string(index);
}

void JsonReader::fail(std::string_view path, std::string message) {
  errors_.push_back((path.empty() ? std::string("/") : std::string(path)) + ": " + message);
}

const nlohmann::json* JsonReader::member(const nlohmann::json& obj, std::string_view path, std::string_view key,
                                         bool required) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) fail(json_path(path, key), "required, but missing");
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> JsonReader::string(const nlohmann::json& obj, std::string_view path,
                                              std::string_view key, bool required) {
  const auto* v = member(obj, path, key, required);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    fail(json_path(path, key), "expected a string, found " + describe_json(*v));
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<double> JsonReader::number(const nlohmann::json& obj, std::string_view path, std::string_view key,
                                         bool required, double min, double max) {
  const auto* v = member(obj, path, key, required);
  if (!v) return std::nullopt;
  if (!v->is_number()) {
    fail(json_path(path, key), "expected a number, found " + describe_json(*v));
    return std::nullopt;
  }
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < min || d > max) {
    fail(json_path(path, key), "expected a number from " + nlohmann::json(min).dump() + " to " +
                                   nlohmann::json(max).dump() + ", found " + v->dump());
    return std::nullopt;
  }
  return d;
}

std::optional<std::int64_t> JsonReader::integer(const nlohmann::json& obj, std::string_view path,
                                                std::string_view key, bool required, std::int64_t min,
                                                std::int64_t max) {
  const auto* v = member(obj, path, key, required);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {
    fail(json_path(path, key), "expected a whole number, found " + describe_json(*v));
    return std::nullopt;
  }
  // Unsigned values beyond int64 would wrap; nlohmann keeps them as number_unsigned.
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    fail(json_path(path, key), "expected a whole number from " + std::to_string(min) + " to " +
                                   std::to_string(max) + ", found " + v->dump());
    return std::nullopt;
  }
  const auto i = v->get<std::int64_t>();
  if (i < min || i > max) {
    fail(json_path(path, key), "expected a whole number from " + std::to_string(min) + " to " +
                                   std::to_string(max) + ", found " + v->dump());
    return std::nullopt;
  }
  return i;
}

std::optional<bool> JsonReader::boolean(const nlohmann::json& obj, std::string_view path, std::string_view key,
                                        bool required) {
  const auto* v = member(obj, path, key, required);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    fail(json_path(path, key), "expected true or false, found " + describe_json(*v));
    return std::nullopt;
  }
  return v->get<bool>();
}

const nlohmann::json* JsonReader::object(const nlohmann::json& obj, std::string_view path, std::string_view key,
                                         bool required) {
  const auto* v = member(obj, path, key, required);
  if (!v) return nullptr;
  if (!v->is_object()) {
    fail(json_path(path, key), "expected an object, found " + describe_json(*v));
    return nullptr;
  }
  return v;
}

const nlohmann::json* JsonReader::array(const nlohmann::json& obj, std::string_view path, std::string_view key,
                                        bool required) {
  const auto* v = member(obj, path, key, required);
  if (!v) return nullptr;
  if (!v->is_array()) {
    fail(json_path(path, key), "expected an array, found " + describe_json(*v));
    return nullptr;
  }
  return v;
}

void JsonReader::only_keys(const nlohmann::json& obj, std::string_view path,
                           std::initializer_list<std::string_view> known) {
  if (!obj.is_object()) return;
  for (const auto& [key, value] : obj.items()) {
    bool found = false;
    for (auto k : known) found = found || k == key;
    if (found) continue;
    std::string expected;
    for (auto k : known) expected += (expected.empty() ? "" : ", ") + std::string(k);
    fail(json_path(path, key), "unknown key (expected one of: " + expected + ")");
  }
}

std::string JsonReader::joined(std::string_view prefix) const {
  std::string out;
  for (const auto& e : errors_) {
    if (!out.empty()) out += '\n';
    out += std::string(prefix) + (prefix.empty() ? "" : ": ") + e;
  }
  return out;
}

}  // namespace carehub
