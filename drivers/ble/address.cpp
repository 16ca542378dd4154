#include "drivers/ble/address.hpp"

#include <cctype>
#include <cstdio>

namespace carehub::ble {
namespace {
constexpr std::string_view kBaseSuffix = "-0000-1000-8000-00805f9b34fb";
}

std::string normalise_address(std::string_view text) {
  if (text.size() != 17) return {};
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i % 3 == 2) {
      if (c != ':' && c != '-' && c != '_') return {};
      out += ':';
    } else {
      if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

std::string device_id(std::string_view address) {
  std::string out = "ble-";
  for (char c : address) out += c == ':' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string address_of_id(std::string_view id) {
  if (id.substr(0, 4) != "ble-") return {};
  return normalise_address(id.substr(4));
}

std::optional<std::uint16_t> sig_uuid16(std::string_view uuid) {
  if (uuid.size() != 36 || uuid.substr(0, 4) != "0000") return std::nullopt;
  const auto suffix = uuid.substr(8);
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(suffix[i])) != kBaseSuffix[i]) return std::nullopt;
  }
  unsigned value = 0;
  for (char c : uuid.substr(4, 4)) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    value = value * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(c))
                                                   ? c - '0'
                                                   : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
  }
  return static_cast<std::uint16_t>(value);
}

std::string uuid128(std::uint16_t uuid16) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "0000%04x", static_cast<unsigned>(uuid16));
  return std::string(buf) + std::string(kBaseSuffix);
}

}  // namespace carehub::ble
