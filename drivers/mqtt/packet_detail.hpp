#pragma once
// What the codec's files share and nobody else needs: an error that names the packet and the field, and
// the fixed header's flag rule. Private to drivers/mqtt/packet*.cpp.
#include <cstdint>
#include <string>
#include <string_view>

#include "drivers/mqtt/packet.hpp"

namespace carehub::mqtt::packet::detail {

inline std::string str(Type t) { return std::string(to_string(t)); }

inline Error malformed(Type t, std::string_view field, const std::string& problem) {
  return make_error(Errc::invalid_argument, str(t) + ": " + std::string(field) + ": " + problem);
}

// The flag nibble each type must carry (2.2.2); PUBLISH is the only one with meaningful flags.
inline std::uint8_t required_flags(Type t) {
  return (t == Type::pubrel || t == Type::subscribe || t == Type::unsubscribe) ? 0x2 : 0x0;
}

}  // namespace carehub::mqtt::packet::detail
