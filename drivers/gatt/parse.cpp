#include "drivers/gatt/parse.hpp"

#include <cctype>
#include <cstdio>
#include <string>

namespace carehub::gatt {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool is_separator(char c) { return c == ' ' || c == ':' || c == '-' || c == '\t'; }

std::string shown(char c) {
  if (std::isprint(static_cast<unsigned char>(c)) != 0) {
    return std::string("'") + c + "'";
  }
  char text[16];
  std::snprintf(text, sizeof text, "byte 0x%02X", static_cast<unsigned>(static_cast<unsigned char>(c)));
  return text;
}

bool starts_with_0x(std::string_view text) {
  return text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
}

// Base UUID 0000xxxx-0000-1000-8000-00805F9B34FB (Bluetooth Core Specification, Vol 3, Part B, 2.5.1).
constexpr std::string_view kBaseSuffix = "-0000-1000-8000-00805f9b34fb";

}  // namespace

Result<std::vector<std::uint8_t>, ParseError> parse_hex(std::string_view text) {
  const std::size_t start = starts_with_0x(text) ? 2 : 0;
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 2);
  int high = -1;  // the first digit of a byte in progress
  for (std::size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (is_separator(c)) {
      if (high >= 0) {
        return ParseError{"hex: separator " + shown(c) + " at position " + std::to_string(i) +
                          " splits a byte; write two digits per byte"};
      }
      continue;
    }
    const int v = hex_value(c);
    if (v < 0) {
      return ParseError{"hex: " + shown(c) + " at position " + std::to_string(i) + " is not a hex digit"};
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high * 16 + v));
      high = -1;
    }
  }
  if (high >= 0) {
    return ParseError{"hex: odd number of digits; the last byte has only one digit"};
  }
  return out;
}

Result<std::uint16_t, ParseError> parse_uuid(std::string_view text) {
  const std::string original(text);
  std::string_view digits = text;
  if (text.size() == 36) {
    std::string tail(text.substr(8));
    for (char& c : tail) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (tail != kBaseSuffix) {
      return ParseError{"uuid: \"" + original +
                        "\" is not a Bluetooth SIG UUID (base 0000xxxx-0000-1000-8000-00805f9b34fb); "
                        "vendor-specific characteristics are not decoded"};
    }
    digits = text.substr(0, 8);
  } else if (starts_with_0x(text)) {
    digits = text.substr(2);
  }
  if (digits.size() != 4 && digits.size() != 8) {
    return ParseError{"uuid: \"" + original +
                      "\" is not a UUID; expected 4 hex digits (2A35), 0x2A35, or "
                      "00002a35-0000-1000-8000-00805f9b34fb"};
  }
  std::uint32_t value = 0;
  for (const char c : digits) {
    const int v = hex_value(c);
    if (v < 0) {
      return ParseError{"uuid: \"" + original + "\" has " + shown(c) + ", not a hex digit"};
    }
    value = value * 16 + static_cast<std::uint32_t>(v);
  }
  if (value > 0xFFFF) {
    return ParseError{"uuid: \"" + original + "\" is a 32-bit UUID outside the 16-bit range; not a characteristic "
                                              "this library decodes"};
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace carehub::gatt
