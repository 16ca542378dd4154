#include "drivers/openhab/text.hpp"

#include <nlohmann/json.hpp>

namespace carehub::openhab {

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;  // a continuation byte where a lead byte belongs, or 0xC0/0xC1/0xF5+
    }
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0u) != 0x80u) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string in_quotes(std::string_view text, std::size_t max_bytes) {
  const bool cut = text.size() > max_bytes;
  if (cut) {
    // Cut at a character boundary: never leave half a UTF-8 sequence behind.
    std::size_t end = max_bytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0u) == 0x80u) --end;
    text = text.substr(0, end);
  }
  const bool utf8 = is_valid_utf8(text);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 8);
  out += '"';
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7F || (c >= 0x80 && !utf8)) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0x0Fu];
    } else {
      out += ch;
    }
  }
  if (cut) out += "...";
  out += '"';
  return out;
}

std::string describe_json(const nlohmann::json& value) {
  using T = nlohmann::json::value_t;
  switch (value.type()) {
    case T::null:
      return "null";
    case T::object:
      return "an object";
    case T::array:
      return "an array";
    case T::string:
      return "string " + in_quotes(value.get_ref<const std::string&>());
    case T::boolean:
      return value.get<bool>() ? "boolean true" : "boolean false";
    case T::number_integer:
    case T::number_unsigned:
    case T::number_float:
      return "number " + value.dump();
    case T::binary:
      return "binary data";
    case T::discarded:
      break;
  }
  return "nothing";
}

}  // namespace carehub::openhab
