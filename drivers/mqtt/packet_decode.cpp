// Decoding one MQTT 3.1.1 packet from its fixed header byte and body: every field checked, every failure
// naming the packet and the field.
#include "drivers/mqtt/packet.hpp"

#include <array>

#include "drivers/mqtt/packet_detail.hpp"

namespace carehub::mqtt::packet {
namespace {

using detail::malformed;
using detail::required_flags;

// UTF-8 as MQTT 3.1.1 1.5.3 wants it: well formed (no overlong forms, no surrogates U+D800..U+DFFF, nothing
// above U+10FFFF) and no U+0000. Returns the offset of the first bad byte, or npos.
std::size_t bad_utf8_at(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return i;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1Fu; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0Fu; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07u; }
    else return i;
    if (i + n >= s.size()) return i;  // the sequence is cut short
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    static constexpr std::array<std::uint32_t, 4> kMin{0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

// Reads the fields of one packet body front to back; every failure names the packet and the field.
class Reader {
 public:
  Reader(Type type, std::string_view body) : type_(type), body_(body) {}

  std::size_t left() const { return body_.size() - pos_; }
  std::string_view rest() {
    auto r = body_.substr(pos_);
    pos_ = body_.size();
    return r;
  }

  Result<std::uint8_t> u8(std::string_view field) {
    if (left() < 1) return malformed(type_, field, "missing (the packet ends first)");
    return static_cast<std::uint8_t>(body_[pos_++]);
  }
  Result<std::uint16_t> u16(std::string_view field) {
    if (left() < 2) return malformed(type_, field, "missing (the packet ends first)");
    const auto hi = static_cast<unsigned char>(body_[pos_]);
    const auto lo = static_cast<unsigned char>(body_[pos_ + 1]);
    pos_ += 2;
    return static_cast<std::uint16_t>((hi << 8) | lo);
  }
  // Two-byte length, then the bytes (binary data, 1.5.3 without the UTF-8 rule).
  Result<std::string> bytes(std::string_view field) {
    auto len = u16(field);
    if (!len) return len.error();
    if (left() < *len) {
      return malformed(type_, field,
                       "length " + std::to_string(*len) + " runs past the end of the packet (" +
                           std::to_string(left()) + " bytes left)");
    }
    std::string out(body_.substr(pos_, *len));
    pos_ += *len;
    return out;
  }
  Result<std::string> text(std::string_view field) {
    auto s = bytes(field);
    if (!s) return s;
    if (const auto at = bad_utf8_at(*s); at != std::string_view::npos) {
      return malformed(type_, field, "not valid UTF-8 (or holds U+0000) at byte " + std::to_string(at));
    }
    return s;
  }
  Result<void> end() {
    if (left() != 0) return malformed(type_, "end", std::to_string(left()) + " unexpected trailing bytes");
    return {};
  }
  Result<std::uint16_t> packet_id() {
    auto id = u16("packet identifier");
    if (id && *id == 0) return malformed(type_, "packet identifier", "must not be 0");
    return id;
  }

 private:
  Type type_;
  std::string_view body_;
  std::size_t pos_ = 0;
};

bool has_wildcard(std::string_view topic) { return topic.find_first_of("+#") != std::string_view::npos; }

Result<Packet> decode_connect(std::string_view body) {
  Reader in(Type::connect, body);
  auto name = in.text("protocol name");
  if (!name) return name.error();
  auto level = in.u8("protocol level");
  if (!level) return level.error();
  if (*name != "MQTT" || *level != 4) {
    return malformed(Type::connect, "protocol", "expected \"MQTT\" level 4 (3.1.1), found \"" + *name + "\" level " +
                                                    std::to_string(*level));
  }
  auto flags = in.u8("connect flags");
  if (!flags) return flags.error();
  if (*flags & 0x01) return malformed(Type::connect, "connect flags", "reserved bit 0 is set");
  const bool will = (*flags & 0x04) != 0;
  const int will_qos = (*flags >> 3) & 0x3;
  const bool will_retain = (*flags & 0x20) != 0;
  const bool password = (*flags & 0x40) != 0;
  const bool username = (*flags & 0x80) != 0;
  if (will_qos == 3) return malformed(Type::connect, "will QoS", "3 is not a QoS");
  if (!will && (will_qos != 0 || will_retain)) {
    return malformed(Type::connect, "connect flags", "will QoS or will retain set without the will flag");
  }
  if (password && !username) return malformed(Type::connect, "connect flags", "password flag without user name flag");
  Connect c;
  c.clean_session = (*flags & 0x02) != 0;
  auto keepalive = in.u16("keep alive");
  if (!keepalive) return keepalive.error();
  c.keepalive_s = *keepalive;
  auto id = in.text("client identifier");
  if (!id) return id.error();
  c.client_id = std::move(*id);
  if (will) {
    Will w;
    auto topic = in.text("will topic");
    if (!topic) return topic.error();
    if (topic->empty() || has_wildcard(*topic)) {
      return malformed(Type::connect, "will topic", "must be a topic name without wildcards, found \"" + *topic + "\"");
    }
    auto message = in.bytes("will message");
    if (!message) return message.error();
    w.topic = std::move(*topic);
    w.payload = std::move(*message);
    w.qos = will_qos;
    w.retain = will_retain;
    c.will = std::move(w);
  }
  if (username) {
    auto u = in.text("user name");
    if (!u) return u.error();
    c.username = std::move(*u);
  }
  if (password) {
    auto p = in.bytes("password");
    if (!p) return p.error();
    c.password = std::move(*p);
  }
  if (auto e = in.end(); !e) return e.error();
  return Packet{std::move(c)};
}

Result<Packet> decode_connack(std::string_view body) {
  Reader in(Type::connack, body);
  auto flags = in.u8("acknowledge flags");
  if (!flags) return flags.error();
  if (*flags & 0xFE) return malformed(Type::connack, "acknowledge flags", "reserved bits 7-1 are set");
  auto code = in.u8("return code");
  if (!code) return code.error();
  if (*code > 5) return malformed(Type::connack, "return code", std::to_string(*code) + " is reserved");
  if (auto e = in.end(); !e) return e.error();
  if (*code != 0 && (*flags & 1)) {
    return malformed(Type::connack, "session present", "set with a non-zero return code");
  }
  return Packet{Connack{(*flags & 1) != 0, static_cast<ConnackCode>(*code)}};
}

Result<Packet> decode_publish(std::uint8_t flags, std::string_view body) {
  Publish p;
  p.dup = (flags & 0x8) != 0;
  p.qos = (flags >> 1) & 0x3;
  p.retain = (flags & 0x1) != 0;
  if (p.qos == 3) return malformed(Type::publish, "QoS", "3 is not a QoS (both QoS bits set)");
  if (p.qos == 0 && p.dup) return malformed(Type::publish, "DUP", "set on a QoS 0 message");
  Reader in(Type::publish, body);
  auto topic = in.text("topic name");
  if (!topic) return topic.error();
  if (topic->empty()) return malformed(Type::publish, "topic name", "empty");
  if (has_wildcard(*topic)) return malformed(Type::publish, "topic name", "holds a wildcard: \"" + *topic + "\"");
  p.topic = std::move(*topic);
  if (p.qos > 0) {
    auto id = in.packet_id();
    if (!id) return id.error();
    p.packet_id = *id;
  }
  p.payload = std::string(in.rest());
  return Packet{std::move(p)};
}

template <class P>
Result<Packet> decode_id_only(Type t, std::string_view body) {
  Reader in(t, body);
  auto id = in.packet_id();
  if (!id) return id.error();
  if (auto e = in.end(); !e) return e.error();
  return Packet{P{*id}};
}

Result<Packet> decode_subscribe(std::string_view body) {
  Reader in(Type::subscribe, body);
  Subscribe s;
  auto id = in.packet_id();
  if (!id) return id.error();
  s.packet_id = *id;
  while (in.left() > 0) {
    const auto n = std::to_string(s.topics.size() + 1);
    auto filter = in.text("topic filter " + n);
    if (!filter) return filter.error();
    if (filter->empty()) return malformed(Type::subscribe, "topic filter " + n, "empty");
    auto qos = in.u8("requested QoS " + n);
    if (!qos) return qos.error();
    if (*qos > 2) return malformed(Type::subscribe, "requested QoS " + n, "byte " + std::to_string(*qos) + " is not 0, 1 or 2");
    s.topics.push_back({std::move(*filter), *qos});
  }
  if (s.topics.empty()) return malformed(Type::subscribe, "payload", "no topic filter");
  return Packet{std::move(s)};
}

Result<Packet> decode_suback(std::string_view body) {
  Reader in(Type::suback, body);
  Suback s;
  auto id = in.packet_id();
  if (!id) return id.error();
  s.packet_id = *id;
  for (const char ch : in.rest()) {
    const auto code = static_cast<std::uint8_t>(ch);
    if (code > 2 && code != kSubackFailure) {
      return malformed(Type::suback, "return code " + std::to_string(s.codes.size() + 1),
                       std::to_string(code) + " is not 0, 1, 2 or 128");
    }
    s.codes.push_back(code);
  }
  if (s.codes.empty()) return malformed(Type::suback, "payload", "no return code");
  return Packet{std::move(s)};
}

Result<Packet> decode_empty(Type t, std::string_view body, Packet p) {
  if (!body.empty()) return malformed(t, "remaining length", "must be 0, found " + std::to_string(body.size()));
  return p;
}
}  // namespace

Result<Packet> decode(std::uint8_t first, std::string_view body) {
  const auto raw_type = static_cast<std::uint8_t>(first >> 4);
  const auto flags = static_cast<std::uint8_t>(first & 0x0F);
  if (raw_type == 0 || raw_type == 15) {
    return make_error(Errc::invalid_argument, "packet type " + std::to_string(raw_type) + " is reserved");
  }
  const auto type = static_cast<Type>(raw_type);
  if (type != Type::publish && flags != required_flags(type)) {
    return malformed(type, "fixed header flags",
                     "expected " + std::to_string(required_flags(type)) + ", found " + std::to_string(flags));
  }
  switch (type) {
    case Type::connect: return decode_connect(body);
    case Type::connack: return decode_connack(body);
    case Type::publish: return decode_publish(flags, body);
    case Type::puback: return decode_id_only<Puback>(type, body);
    case Type::pubrec: return decode_id_only<Pubrec>(type, body);
    case Type::pubrel: return decode_id_only<Pubrel>(type, body);
    case Type::pubcomp: return decode_id_only<Pubcomp>(type, body);
    case Type::subscribe: return decode_subscribe(body);
    case Type::suback: return decode_suback(body);
    case Type::unsubscribe:
    case Type::unsuback: return malformed(type, "type", "not used by carehub (it never unsubscribes)");
    case Type::pingreq: return decode_empty(type, body, Pingreq{});
    case Type::pingresp: return decode_empty(type, body, Pingresp{});
    case Type::disconnect: return decode_empty(type, body, Disconnect{});
  }
  return make_error(Errc::internal, "unreachable packet type");
}

}  // namespace carehub::mqtt::packet
