// The MQTT 3.1.1 codec: byte-exact vectors worked out from the OASIS standard, round trips, streams split
// at every byte, the size bound, and malformed input named by packet and field.
#include "drivers/mqtt/packet.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace carehub::mqtt::packet {
namespace {

using ::testing::HasSubstr;
using namespace std::string_literals;

std::string bytes(std::initializer_list<int> b) {
  std::string out;
  for (const int v : b) out.push_back(static_cast<char>(v));
  return out;
}

std::string encoded(const Packet& p) {
  auto r = encode(p);
  EXPECT_TRUE(r.has_value()) << r.error().message;
  return r ? *r : std::string();
}

Packet decoded(std::string_view wire) {
  Decoder d(1024);
  d.feed(wire);
  auto r = d.next();
  EXPECT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r && r->has_value());
  EXPECT_EQ(d.buffered(), 0u);
  return r && *r ? **r : Packet{Disconnect{}};
}

std::string error_of(std::string_view wire, std::size_t max_payload = 1024) {
  Decoder d(max_payload);
  d.feed(wire);
  auto r = d.next();
  EXPECT_FALSE(r.has_value()) << "accepted: " << (r && *r ? std::string(to_string(type_of(**r))) : "nothing");
  return r ? std::string() : r.error().message;
}

TEST(RemainingLength, UsesTheSpecsBoundaryValues) {
  const std::pair<std::size_t, std::string> cases[] = {
      {0, bytes({0x00})},
      {127, bytes({0x7F})},
      {128, bytes({0x80, 0x01})},
      {16'383, bytes({0xFF, 0x7F})},
      {16'384, bytes({0x80, 0x80, 0x01})},
      {2'097'151, bytes({0xFF, 0xFF, 0x7F})},
      {2'097'152, bytes({0x80, 0x80, 0x80, 0x01})},
      {kMaxRemainingLength, bytes({0xFF, 0xFF, 0xFF, 0x7F})},
  };
  for (const auto& [n, wire] : cases) {
    std::string out;
    append_remaining_length(out, n);
    EXPECT_EQ(out, wire) << n;
  }
}

TEST(AConnectPacket, EncodesEveryFieldByteForByte) {
  Connect c;
  c.client_id = "hub";
  c.clean_session = false;
  c.keepalive_s = 30;
  c.will = Will{"s/h", "off", 1, true};
  c.username = "u";
  c.password = "pw";
  // flags: user name 0x80 | password 0x40 | will retain 0x20 | will QoS 1 0x08 | will 0x04 = 0xEC;
  // remaining length: 6 (protocol name) + 1 + 1 + 2 + 5 (id) + 5 + 5 (will) + 3 (user) + 4 (password) = 32
  const auto expected = bytes({0x10, 32, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xEC, 0, 30, 0, 3, 'h', 'u', 'b', 0, 3, 's',
                               '/', 'h', 0, 3, 'o', 'f', 'f', 0, 1, 'u', 0, 2, 'p', 'w'});
  EXPECT_EQ(encoded(c), expected);
  EXPECT_EQ(decoded(expected), Packet{c});
}

TEST(AConnectPacket, WithOnlyAClientIdAndCleanSessionHasFlags0x02) {
  Connect c{"a", true, 0, std::nullopt, std::nullopt, std::nullopt};
  EXPECT_EQ(encoded(c), bytes({0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 0, 0, 1, 'a'}));
}

TEST(AConnectPacket, RefusesAPasswordWithoutAUserNameAndOverlongStrings) {
  Connect c{"a", true, 0, std::nullopt, std::nullopt, "secret"};
  auto r = encode(c);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("CONNECT: password"));
  Connect big{std::string(70'000, 'x'), true, 0, std::nullopt, std::nullopt, std::nullopt};
  auto b = encode(big);
  ASSERT_FALSE(b);
  EXPECT_THAT(b.error().message, HasSubstr("CONNECT: client identifier: 70000 bytes"));
}

TEST(AConnackPacket, DecodesSessionPresentAndRefusals) {
  EXPECT_EQ(decoded(bytes({0x20, 2, 1, 0})), (Packet{Connack{true, ConnackCode::accepted}}));
  EXPECT_EQ(decoded(bytes({0x20, 2, 0, 4})), (Packet{Connack{false, ConnackCode::bad_username_or_password}}));
  EXPECT_EQ(encoded(Connack{true, ConnackCode::accepted}), bytes({0x20, 2, 1, 0}));
  EXPECT_THAT(error_of(bytes({0x20, 2, 0, 6})), HasSubstr("CONNACK: return code: 6 is reserved"));
  EXPECT_THAT(error_of(bytes({0x20, 2, 2, 0})), HasSubstr("CONNACK: acknowledge flags: reserved bits"));
  EXPECT_THAT(error_of(bytes({0x20, 3, 0, 0, 0})), HasSubstr("CONNACK: end: 1 unexpected trailing bytes"));
  EXPECT_THAT(error_of(bytes({0x20, 1, 0})), HasSubstr("CONNACK: return code: missing"));
}

TEST(APublishPacket, EncodesQos0WithoutAPacketIdAndQos1WithOne) {
  Publish q0;
  q0.topic = "a/b";
  q0.payload = "hi";
  EXPECT_EQ(encoded(q0), bytes({0x30, 7, 0, 3, 'a', '/', 'b', 'h', 'i'}));
  Publish q1 = q0;
  q1.qos = 1;
  q1.packet_id = 10;
  q1.retain = true;
  q1.dup = true;
  EXPECT_EQ(encoded(q1), bytes({0x3B, 9, 0, 3, 'a', '/', 'b', 0, 10, 'h', 'i'}));
  EXPECT_EQ(decoded(encoded(q1)), Packet{q1});
  Publish q2 = q0;
  q2.qos = 2;
  q2.packet_id = 0x1234;
  EXPECT_EQ(encoded(q2), bytes({0x34, 9, 0, 3, 'a', '/', 'b', 0x12, 0x34, 'h', 'i'}));
  EXPECT_EQ(decoded(encoded(q2)), Packet{q2});
}

TEST(APublishPacket, CarriesBinaryPayloadsAndAnEmptyOne) {
  Publish p;
  p.topic = "t";
  p.qos = 1;
  p.packet_id = 1;
  p.payload = "\0\xff\x01"s;
  EXPECT_EQ(decoded(encoded(p)), Packet{p});
  p.payload.clear();
  EXPECT_EQ(encoded(p), bytes({0x32, 5, 0, 1, 't', 0, 1}));
  EXPECT_EQ(decoded(encoded(p)), Packet{p});
}

TEST(APublishPacket, MalformedOnesAreNamedByField) {
  EXPECT_THAT(error_of(bytes({0x36, 5, 0, 1, 't', 0, 1})), HasSubstr("PUBLISH: QoS: 3 is not a QoS"));
  EXPECT_THAT(error_of(bytes({0x38, 3, 0, 1, 't'})), HasSubstr("PUBLISH: DUP: set on a QoS 0 message"));
  EXPECT_THAT(error_of(bytes({0x32, 5, 0, 1, 't', 0, 0})), HasSubstr("PUBLISH: packet identifier: must not be 0"));
  EXPECT_THAT(error_of(bytes({0x32, 4, 0, 1, 't', 0})), HasSubstr("PUBLISH: packet identifier: missing"));
  EXPECT_THAT(error_of(bytes({0x30, 4, 0, 9, 't', 'x'})), HasSubstr("PUBLISH: topic name: length 9 runs past"));
  EXPECT_THAT(error_of(bytes({0x30, 3, 0, 1, '+'})), HasSubstr("PUBLISH: topic name: holds a wildcard"));
  EXPECT_THAT(error_of(bytes({0x30, 2, 0, 0})), HasSubstr("PUBLISH: topic name: empty"));
  EXPECT_THAT(error_of(bytes({0x30, 4, 0, 2, 0xC0, 0x80})), HasSubstr("PUBLISH: topic name: not valid UTF-8"));
  EXPECT_THAT(error_of(bytes({0x30, 4, 0, 2, 'a', 0x00})), HasSubstr("not valid UTF-8 (or holds U+0000) at byte 1"));
  EXPECT_THAT(error_of(bytes({0x30, 5, 0, 3, 0xED, 0xA0, 0x80})), HasSubstr("not valid UTF-8"));  // a surrogate
  EXPECT_EQ(std::get<Publish>(decoded(bytes({0x30, 5, 0, 3, 0xE2, 0x82, 0xAC}))).topic, "\xE2\x82\xAC");  // €
}

TEST(TheAcknowledgements, AreTwoBytesOfPacketIdAndPubrelCarriesFlags0010) {
  EXPECT_EQ(encoded(Puback{7}), bytes({0x40, 2, 0, 7}));
  EXPECT_EQ(encoded(Pubrec{0x0102}), bytes({0x50, 2, 1, 2}));
  EXPECT_EQ(encoded(Pubrel{7}), bytes({0x62, 2, 0, 7}));
  EXPECT_EQ(encoded(Pubcomp{7}), bytes({0x70, 2, 0, 7}));
  for (const Packet& p : {Packet{Puback{7}}, Packet{Pubrec{8}}, Packet{Pubrel{9}}, Packet{Pubcomp{65535}}}) {
    EXPECT_EQ(decoded(encoded(p)), p);
  }
  EXPECT_THAT(error_of(bytes({0x60, 2, 0, 7})), HasSubstr("PUBREL: fixed header flags: expected 2, found 0"));
  EXPECT_THAT(error_of(bytes({0x41, 2, 0, 7})), HasSubstr("PUBACK: fixed header flags: expected 0, found 1"));
  EXPECT_THAT(error_of(bytes({0x40, 2, 0, 0})), HasSubstr("PUBACK: packet identifier: must not be 0"));
  EXPECT_THAT(error_of(bytes({0x70, 3, 0, 1, 0})), HasSubstr("PUBCOMP: end"));
  EXPECT_FALSE(encode(Puback{0}));
}

TEST(ASubscribePacket, ListsEachFilterWithItsQos) {
  Subscribe s{5, {{"a/+", 1}, {"b/#", 2}}};
  EXPECT_EQ(encoded(s), bytes({0x82, 14, 0, 5, 0, 3, 'a', '/', '+', 1, 0, 3, 'b', '/', '#', 2}));
  EXPECT_EQ(decoded(encoded(s)), Packet{s});
  EXPECT_THAT(error_of(bytes({0x82, 2, 0, 5})), HasSubstr("SUBSCRIBE: payload: no topic filter"));
  EXPECT_THAT(error_of(bytes({0x82, 6, 0, 5, 0, 1, 'a', 4})), HasSubstr("SUBSCRIBE: requested QoS 1: byte 4"));
  EXPECT_FALSE(encode(Subscribe{5, {}}));
  EXPECT_FALSE(encode(Subscribe{5, {{"a", 3}}}));
}

TEST(ASubackPacket, GrantsOrRefusesEachFilter) {
  EXPECT_EQ(decoded(bytes({0x90, 4, 0, 5, 1, 0x80})), (Packet{Suback{5, {1, kSubackFailure}}}));
  EXPECT_EQ(encoded(Suback{5, {1, kSubackFailure}}), bytes({0x90, 4, 0, 5, 1, 0x80}));
  EXPECT_THAT(error_of(bytes({0x90, 3, 0, 5, 3})), HasSubstr("SUBACK: return code 1: 3 is not 0, 1, 2 or 128"));
  EXPECT_THAT(error_of(bytes({0x90, 2, 0, 5})), HasSubstr("SUBACK: payload: no return code"));
}

TEST(TheEmptyPackets, AreTwoBytes) {
  EXPECT_EQ(encoded(Pingreq{}), bytes({0xC0, 0}));
  EXPECT_EQ(encoded(Pingresp{}), bytes({0xD0, 0}));
  EXPECT_EQ(encoded(Disconnect{}), bytes({0xE0, 0}));
  EXPECT_EQ(decoded(bytes({0xD0, 0})), Packet{Pingresp{}});
  EXPECT_THAT(error_of(bytes({0xD0, 1, 0})), HasSubstr("PINGRESP: remaining length: must be 0, found 1"));
}

TEST(TheDecoder, RefusesReservedTypesUnusedTypesAndAFiveByteLength) {
  EXPECT_THAT(error_of(bytes({0x00, 0})), HasSubstr("packet type 0 is reserved"));
  EXPECT_THAT(error_of(bytes({0xF0, 0})), HasSubstr("packet type 15 is reserved"));
  EXPECT_THAT(error_of(bytes({0xB0, 2, 0, 1})), HasSubstr("UNSUBACK: type: not used by carehub"));
  EXPECT_THAT(error_of(bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01})), HasSubstr("PUBLISH: remaining length: longer than 4"));
}

TEST(TheDecoder, RefusesMalformedConnectFlags) {
  auto connect_with_flags = [](int flags) {
    return bytes({0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, flags, 0, 0, 0, 1, 'a'});
  };
  EXPECT_THAT(error_of(connect_with_flags(0x01)), HasSubstr("CONNECT: connect flags: reserved bit 0"));
  EXPECT_THAT(error_of(connect_with_flags(0x40)), HasSubstr("password flag without user name flag"));
  EXPECT_THAT(error_of(connect_with_flags(0x20)), HasSubstr("will QoS or will retain set without the will flag"));
  EXPECT_THAT(error_of(connect_with_flags(0x1C)), HasSubstr("CONNECT: will QoS: 3 is not a QoS"));
  EXPECT_THAT(error_of(bytes({0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 3, 0, 0, 0, 0, 1, 'a'})),
              HasSubstr("CONNECT: protocol: expected \"MQTT\" level 4"));
}

// The same stream of several packets, cut into two pieces at every byte, gives the same packets.
TEST(TheDecoder, GivesTheSamePacketsWhereverTheStreamIsSplit) {
  Publish p;
  p.topic = "home/readings";
  p.payload = std::string(300, 'x');  // a two-byte remaining length
  p.qos = 1;
  p.packet_id = 300;
  const std::vector<Packet> packets{Connack{true, ConnackCode::accepted}, Suback{1, {1}}, p, Pingresp{},
                                    Pubrel{9}};
  std::string wire;
  for (const auto& q : packets) wire += encoded(q);
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    Decoder d(1024);
    std::vector<Packet> out;
    for (const auto& piece : {wire.substr(0, cut), wire.substr(cut)}) {
      d.feed(piece);
      for (;;) {
        auto r = d.next();
        ASSERT_TRUE(r) << cut << ": " << r.error().message;
        if (!*r) break;
        out.push_back(std::move(**r));
      }
    }
    EXPECT_EQ(out, packets) << "split at " << cut;
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(TheDecoder, TakesAStreamOneByteAtATime) {
  const auto wire = encoded(Publish{"a", "payload", 2, false, false, 4, 0}) + encoded(Pubrel{4});
  Decoder d(64);
  std::vector<Packet> out;
  for (const char c : wire) {
    d.feed(std::string_view(&c, 1));
    auto r = d.next();
    ASSERT_TRUE(r) << r.error().message;
    if (*r) out.push_back(**r);
  }
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(std::get<Publish>(out[0]).payload, "payload");
  EXPECT_EQ(out[1], Packet{Pubrel{4}});
}

// An oversize payload is skipped as it streams past: the header survives so the message can be
// acknowledged (and counted), the bytes are never buffered, and the next packet decodes normally.
TEST(TheDecoder, SkipsAnOversizePayloadWithoutBufferingItAndKeepsTheNextPacket) {
  constexpr std::size_t kMax = 16;
  Decoder d(kMax);
  Publish big{"big", std::string(d.max_control_bytes() + 1000, 'z'), 1, false, false, 77, 0};
  const auto wire = encoded(big) + encoded(Pingresp{});
  std::vector<Packet> out;
  std::size_t most_buffered = 0;
  for (std::size_t at = 0; at < wire.size(); at += 4096) {
    d.feed(std::string_view(wire).substr(at, 4096));
    most_buffered = std::max(most_buffered, d.buffered());
    for (;;) {
      auto r = d.next();
      ASSERT_TRUE(r) << r.error().message;
      if (!*r) break;
      out.push_back(**r);
    }
  }
  ASSERT_EQ(out.size(), 2u);
  const auto& p = std::get<Publish>(out[0]);
  EXPECT_EQ(p.topic, "big");
  EXPECT_EQ(p.packet_id, 77);
  EXPECT_EQ(p.payload, "");
  EXPECT_EQ(p.dropped_payload_bytes, big.payload.size());
  EXPECT_EQ(out[1], Packet{Pingresp{}});
  EXPECT_LE(most_buffered, 4096u + 16);
}

TEST(TheDecoder, DropsAPayloadOverTheLimitThatStillFitsTheBuffer) {
  Decoder d(4);
  d.feed(encoded(Publish{"t", "12345", 1, false, false, 1, 0}));
  auto r = d.next();
  ASSERT_TRUE(r && *r);
  const auto& p = std::get<Publish>(**r);
  EXPECT_EQ(p.payload, "");
  EXPECT_EQ(p.dropped_payload_bytes, 5u);
}

TEST(TheDecoder, RefusesAnOversizeControlPacketAndStaysFailed) {
  Decoder d(16);
  std::string wire = bytes({0x90});
  append_remaining_length(wire, d.max_control_bytes() + 1);
  d.feed(wire);
  auto r = d.next();
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("SUBACK: remaining length: " + std::to_string(d.max_control_bytes() + 1)));
  d.feed(encoded(Pingresp{}));
  EXPECT_FALSE(d.next()) << "a failed stream stays failed";
}

}  // namespace
}  // namespace carehub::mqtt::packet
