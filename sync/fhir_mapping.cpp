// Identifiers and search values shared by every resource carehub sends. Observations: fhir_observation.cpp;
// Devices: fhir_device.cpp; the code table: fhir_codes.cpp.
#include "sync/fhir_mapping.hpp"

#include "core/reading.hpp"

namespace carehub::fhir {

std::string observation_identifier(const std::string& uid) { return "urn:uuid:" + uid; }

std::string search_value(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  const auto percent = [&](unsigned char c) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  };
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\' || c == '|' || c == ',' || c == '$') percent('\\');  // FHIR search escaping, then encoded
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '.' || c == '_' || c == '~' || c == ':' || c == '/';
    if (plain) out += ch;
    else percent(c);
  }
  return out;
}

std::string identifier_query(std::string_view system, std::string_view value) {
  return "identifier=" + search_value(system) + "|" + search_value(value);
}

std::string observation_if_none_exist(const std::string& uid) {
  return identifier_query(kIdentifierSystem, observation_identifier(uid));
}

std::optional<Flag> flag_from_band(std::string_view band) {
  if (band == "extreme_low") return Flag::critical_low;
  if (band == "low") return Flag::low;
  if (band == "high") return Flag::high;
  if (band == "extreme_high") return Flag::critical_high;
  return std::nullopt;
}

// One rule for the whole fleet: the Device's identifier must name what the reading's uid names (core).
std::string fleet_device_id(std::string_view device_id, std::string_view hub_id) {
  return carehub::fleet_device_id(device_id, hub_id);
}

std::string dashed_hex(std::string_view id) {
  std::string out;
  int digits = 0;
  for (const char ch : id) {
    const bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
    if (!hex) continue;  // ':' or '-' separators of the input
    if (digits > 0 && digits % 2 == 0) out += '-';
    out += static_cast<char>(ch >= 'a' && ch <= 'f' ? ch - 'a' + 'A' : ch);
    ++digits;
  }
  return out;
}

}  // namespace carehub::fhir
