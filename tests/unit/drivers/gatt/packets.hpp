#pragma once
// Test helpers: packets written as hex, so each test reads like the bytes a device sends.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/gatt/parse.hpp"

namespace carehub::gatt::testing {

inline std::vector<std::uint8_t> bytes(std::string_view hex) {
  auto parsed = parse_hex(hex);
  if (!parsed) {
    throw std::invalid_argument("bad test packet: " + parsed.error().detail);
  }
  return std::move(*parsed);
}

// Date Time 2024-03-15T10:30:45 as it appears inside a packet.
inline constexpr std::string_view kTimestampHex = "E8 07 03 0F 0A 1E 2D";

}  // namespace carehub::gatt::testing
