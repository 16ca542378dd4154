// Encoding packets: each packet's body and flag nibble, checked (QoS, packet identifiers, lengths) before a
// byte is written.
#include "drivers/mqtt/packet.hpp"
#include "drivers/mqtt/packet_detail.hpp"

namespace carehub::mqtt::packet {
namespace {

using detail::malformed;
using detail::required_flags;

// Appends a two-byte length and the bytes.
Result<void> put_bytes(std::string& out, Type t, std::string_view field, std::string_view s) {
  if (s.size() > 0xFFFF) {
    return malformed(t, field, std::to_string(s.size()) + " bytes is over the 65535 a length prefix can express");
  }
  out.push_back(static_cast<char>((s.size() >> 8) & 0xFF));
  out.push_back(static_cast<char>(s.size() & 0xFF));
  out.append(s);
  return {};
}

void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}

Result<void> check_qos(Type t, std::string_view field, int qos) {
  if (qos < 0 || qos > 2) return malformed(t, field, std::to_string(qos) + " is not 0, 1 or 2");
  return {};
}

Result<void> check_id(Type t, std::uint16_t id) {
  if (id == 0) return malformed(t, "packet identifier", "must not be 0");
  return {};
}

// Body and flag nibble of each packet.
struct Encoded {
  std::uint8_t flags = 0;
  std::string body;
};

Result<Encoded> body_of(const Connect& c) {
  Encoded e;
  auto& b = e.body;
  (void)put_bytes(b, Type::connect, "protocol name", "MQTT");
  b.push_back(4);
  std::uint8_t flags = c.clean_session ? 0x02 : 0x00;
  if (c.will) {
    if (auto r = check_qos(Type::connect, "will QoS", c.will->qos); !r) return r.error();
    flags = static_cast<std::uint8_t>(flags | 0x04 | (c.will->qos << 3) | (c.will->retain ? 0x20 : 0));
  }
  if (c.password && !c.username) return malformed(Type::connect, "password", "MQTT 3.1.1 needs a user name with it");
  if (c.username) flags |= 0x80;
  if (c.password) flags |= 0x40;
  b.push_back(static_cast<char>(flags));
  put_u16(b, c.keepalive_s);
  if (auto r = put_bytes(b, Type::connect, "client identifier", c.client_id); !r) return r.error();
  if (c.will) {
    if (auto r = put_bytes(b, Type::connect, "will topic", c.will->topic); !r) return r.error();
    if (auto r = put_bytes(b, Type::connect, "will message", c.will->payload); !r) return r.error();
  }
  if (c.username) {
    if (auto r = put_bytes(b, Type::connect, "user name", *c.username); !r) return r.error();
  }
  if (c.password) {
    if (auto r = put_bytes(b, Type::connect, "password", *c.password); !r) return r.error();
  }
  return e;
}

Result<Encoded> body_of(const Connack& c) {
  return Encoded{0, {static_cast<char>(c.session_present ? 1 : 0), static_cast<char>(c.code)}};
}

Result<Encoded> body_of(const Publish& p) {
  if (auto r = check_qos(Type::publish, "QoS", p.qos); !r) return r.error();
  if (p.qos == 0 && p.dup) return malformed(Type::publish, "DUP", "must not be set on a QoS 0 message");
  Encoded e;
  e.flags = static_cast<std::uint8_t>((p.dup ? 0x8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0));
  if (auto r = put_bytes(e.body, Type::publish, "topic name", p.topic); !r) return r.error();
  if (p.qos > 0) {
    if (auto r = check_id(Type::publish, p.packet_id); !r) return r.error();
    put_u16(e.body, p.packet_id);
  }
  e.body += p.payload;
  return e;
}

template <class P>
Result<Encoded> id_only(Type t, const P& p) {
  if (auto r = check_id(t, p.packet_id); !r) return r.error();
  Encoded e{required_flags(t), {}};
  put_u16(e.body, p.packet_id);
  return e;
}
Result<Encoded> body_of(const Puback& p) { return id_only(Type::puback, p); }
Result<Encoded> body_of(const Pubrec& p) { return id_only(Type::pubrec, p); }
Result<Encoded> body_of(const Pubrel& p) { return id_only(Type::pubrel, p); }
Result<Encoded> body_of(const Pubcomp& p) { return id_only(Type::pubcomp, p); }

Result<Encoded> body_of(const Subscribe& s) {
  if (auto r = check_id(Type::subscribe, s.packet_id); !r) return r.error();
  if (s.topics.empty()) return malformed(Type::subscribe, "payload", "needs at least one topic filter");
  Encoded e{0x2, {}};
  put_u16(e.body, s.packet_id);
  for (const auto& t : s.topics) {
    if (auto r = check_qos(Type::subscribe, "requested QoS", t.qos); !r) return r.error();
    if (t.filter.empty()) return malformed(Type::subscribe, "topic filter", "empty");
    if (auto r = put_bytes(e.body, Type::subscribe, "topic filter", t.filter); !r) return r.error();
    e.body.push_back(static_cast<char>(t.qos));
  }
  return e;
}

Result<Encoded> body_of(const Suback& s) {
  if (auto r = check_id(Type::suback, s.packet_id); !r) return r.error();
  Encoded e;
  put_u16(e.body, s.packet_id);
  for (const auto c : s.codes) e.body.push_back(static_cast<char>(c));
  return e;
}

Result<Encoded> body_of(const Pingreq&) { return Encoded{}; }
Result<Encoded> body_of(const Pingresp&) { return Encoded{}; }
Result<Encoded> body_of(const Disconnect&) { return Encoded{}; }

}  // namespace

Result<std::string> encode(const Packet& p) {
  auto encoded = std::visit([](const auto& v) { return body_of(v); }, p);
  if (!encoded) return encoded.error();
  const auto type = type_of(p);
  if (encoded->body.size() > kMaxRemainingLength) {
    return malformed(type, "remaining length", std::to_string(encoded->body.size()) + " bytes is over the maximum of " +
                                                   std::to_string(kMaxRemainingLength));
  }
  std::string out;
  out.reserve(encoded->body.size() + 5);
  out.push_back(static_cast<char>((static_cast<std::uint8_t>(type) << 4) | encoded->flags));
  append_remaining_length(out, encoded->body.size());
  out += encoded->body;
  return out;
}

}  // namespace carehub::mqtt::packet
