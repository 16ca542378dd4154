#include "drivers/gatt/device_info.hpp"

#include <cstdio>

#include "drivers/gatt/byte_reader.hpp"

namespace carehub::gatt {
namespace {

DecodeError bad(std::string detail) { return DecodeError{ErrorKind::malformed, std::move(detail)}; }

// Length of the UTF-8 sequence starting at `s[i]` (RFC 3629: no overlongs, no surrogates, <= U+10FFFF),
// or 0 when it is not one.
std::size_t utf8_sequence(std::span<const std::uint8_t> s, std::size_t i) {
  const auto b = s[i];
  if (b < 0x80) return 1;
  std::size_t n;
  std::uint8_t min2 = 0x80, max2 = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) n = 2;
  else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) min2 = 0xA0;
    if (b == 0xED) max2 = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) min2 = 0x90;
    if (b == 0xF4) max2 = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (s[i + 1] < min2 || s[i + 1] > max2) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (s[i + k] < 0x80 || s[i + k] > 0xBF) return 0;
  }
  return n;
}

}  // namespace

Result<std::string> decode_info_string(std::span<const std::uint8_t> packet) {
  std::size_t end = packet.size();
  while (end > 0 && (packet[end - 1] == 0x00 || packet[end - 1] == ' ')) --end;
  const auto text = packet.first(end);
  if (text.size() > kMaxInfoString) {
    return bad("device information: " + std::to_string(text.size()) + " bytes, more than " +
               std::to_string(kMaxInfoString));
  }
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] < 0x20 || text[i] == 0x7F) {
      return bad("device information: control character at offset " + std::to_string(i));
    }
    const auto n = utf8_sequence(text, i);
    if (n == 0) return bad("device information: not UTF-8 at offset " + std::to_string(i));
    i += n;
  }
  return std::string(text.begin(), text.end());
}

Result<std::string> decode_system_id(std::span<const std::uint8_t> packet) {
  ByteReader in(packet, "system id");
  const auto bytes = in.take(8, "system id");
  if (!in.ok()) return *in.error();
  std::string out;
  char buf[3];
  for (std::size_t i = 8; i-- > 0;) {
    std::snprintf(buf, sizeof buf, "%02X", static_cast<unsigned>(bytes[i]));
    out += buf;
  }
  return out;
}

Result<int> decode_battery_level(std::span<const std::uint8_t> packet) {
  ByteReader in(packet, "battery level");
  const auto level = in.u8("level");
  if (!in.ok()) return *in.error();
  if (level > 100) return bad("battery level: " + std::to_string(level) + " % is above 100");
  return static_cast<int>(level);
}

}  // namespace carehub::gatt
