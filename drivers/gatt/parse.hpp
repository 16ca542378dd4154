#pragma once
// Text input for `carehubctl decode --uuid 2A35 --hex 00780050005d00` and for tests.
#include <cstdint>
#include <string_view>
#include <vector>

#include "drivers/gatt/result.hpp"

namespace carehub::gatt {

// "00780050005d00", "00 78 00 50", "00:78:00:50", optionally prefixed "0x"; either case. Spaces, colons,
// dashes and tabs may separate bytes but never split one. Empty input gives no bytes. Errors name the
// offending character and its position.
Result<std::vector<std::uint8_t>, ParseError> parse_hex(std::string_view text);

// "2A35", "0x2a35", the 32-bit form "00002A35", or the full Bluetooth base UUID
// "00002a35-0000-1000-8000-00805f9b34fb". A 128-bit UUID outside the base (vendor specific) is an error.
Result<std::uint16_t, ParseError> parse_uuid(std::string_view text);

}  // namespace carehub::gatt
