// The codec's vocabulary: packet and return-code names, a packet's type, the remaining-length encoding.
// Encoding is in packet_encode.cpp, decoding one packet in packet_decode.cpp, the stream in packet_decoder.cpp.
#include "drivers/mqtt/packet.hpp"

#include <array>

namespace carehub::mqtt::packet {

std::string_view to_string(Type type) {
  switch (type) {
    case Type::connect: return "CONNECT";
    case Type::connack: return "CONNACK";
    case Type::publish: return "PUBLISH";
    case Type::puback: return "PUBACK";
    case Type::pubrec: return "PUBREC";
    case Type::pubrel: return "PUBREL";
    case Type::pubcomp: return "PUBCOMP";
    case Type::subscribe: return "SUBSCRIBE";
    case Type::suback: return "SUBACK";
    case Type::unsubscribe: return "UNSUBSCRIBE";
    case Type::unsuback: return "UNSUBACK";
    case Type::pingreq: return "PINGREQ";
    case Type::pingresp: return "PINGRESP";
    case Type::disconnect: return "DISCONNECT";
  }
  return "reserved packet type";
}

std::string_view to_string(ConnackCode code) {
  switch (code) {
    case ConnackCode::accepted: return "accepted";
    case ConnackCode::bad_protocol_version: return "unacceptable protocol version";
    case ConnackCode::identifier_rejected: return "client identifier rejected";
    case ConnackCode::server_unavailable: return "server unavailable";
    case ConnackCode::bad_username_or_password: return "bad user name or password";
    case ConnackCode::not_authorized: return "not authorized";
  }
  return "reserved return code";
}

Type type_of(const Packet& p) {
  static constexpr std::array<Type, 12> kTypes{Type::connect,   Type::connack,   Type::publish,  Type::puback,
                                               Type::pubrec,    Type::pubrel,    Type::pubcomp,  Type::subscribe,
                                               Type::suback,    Type::pingreq,   Type::pingresp, Type::disconnect};
  return kTypes[p.index()];
}

void append_remaining_length(std::string& out, std::size_t n) {
  do {
    auto byte = static_cast<std::uint8_t>(n % 128);
    n /= 128;
    if (n > 0) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (n > 0);
}

}  // namespace carehub::mqtt::packet
