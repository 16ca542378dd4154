#include "drivers/gatt/decode.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>

#include "drivers/gatt/json.hpp"
#include "tests/unit/drivers/gatt/maximal_packets.hpp"
#include "tests/unit/drivers/gatt/packets.hpp"

namespace carehub::gatt {
namespace {

using testing::bytes;
using testing::kMaximalPackets;
using testing::MaximalPacket;

TEST(Decode, DispatchesEachUuidToItsCharacteristic) {
  EXPECT_TRUE(std::holds_alternative<BloodPressureMeasurement>(*decode(0x2A35, bytes("00 78 00 50 00 5D 00"))));
  EXPECT_TRUE(std::holds_alternative<IntermediateCuffPressure>(*decode(0x2A36, bytes("00 78 00 FF 07 FF 07"))));
  EXPECT_TRUE(std::holds_alternative<HeartRateMeasurement>(*decode(0x2A37, bytes("00 48"))));
  EXPECT_TRUE(std::holds_alternative<TemperatureMeasurement>(*decode(0x2A1C, bytes("00 6C 01 00 FF"))));
  EXPECT_TRUE(std::holds_alternative<WeightMeasurement>(*decode(0x2A9D, bytes("00 B0 36"))));
  EXPECT_TRUE(std::holds_alternative<PlxSpotCheckMeasurement>(*decode(0x2A5E, bytes("00 61 00 48 00"))));
  EXPECT_TRUE(std::holds_alternative<PlxContinuousMeasurement>(*decode(0x2A5F, bytes("00 61 00 48 00"))));
  EXPECT_TRUE(std::holds_alternative<GlucoseMeasurement>(*decode(0x2A18, bytes("00 01 00 E8 07 03 0F 0A 1E 2D"))));
  EXPECT_TRUE(std::holds_alternative<RacpNumberOfRecords>(*decode(0x2A52, bytes("05 00 0A 00"))));
  EXPECT_TRUE(std::holds_alternative<RacpResponseCode>(*decode(0x2A52, bytes("06 00 01 01"))));
  EXPECT_TRUE(std::holds_alternative<DateTime>(*decode(0x2A08, bytes("E8 07 03 0F 0A 1E 2D"))));
}

TEST(Decode, RejectsAnUnknownUuidAsUnsupported) {
  const auto r = decode(0x2A19, bytes("64"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::unsupported);
  EXPECT_EQ(r.error().detail, "no decoder for characteristic 0x2A19");
}

TEST(Decode, ListsEverySupportedUuidWithANameAndRoundTripsIt) {
  const auto uuids = supported_uuids();
  EXPECT_EQ(uuids.size(), 10u);
  EXPECT_TRUE(std::is_sorted(uuids.begin(), uuids.end()));
  for (const MaximalPacket& p : kMaximalPackets) {
    EXPECT_NE(std::find(uuids.begin(), uuids.end(), p.uuid), uuids.end()) << p.name;
    EXPECT_FALSE(characteristic_name(p.uuid).empty()) << p.name;
    const auto r = decode(p.uuid, bytes(p.hex));
    ASSERT_TRUE(r) << p.name << ": " << r.error().detail;
    EXPECT_EQ(characteristic_uuid(*r), p.uuid) << p.name;
  }
  EXPECT_EQ(characteristic_name(0x2A35), "blood_pressure_measurement");
  EXPECT_TRUE(characteristic_name(0x2A19).empty());
}

std::string test_name(const ::testing::TestParamInfo<MaximalPacket>& p) { return p.param.name; }

class AMaximalPacket : public ::testing::TestWithParam<MaximalPacket> {};

TEST_P(AMaximalPacket, DecodesInFull) {
  const auto r = decode(GetParam().uuid, bytes(GetParam().hex));
  ASSERT_TRUE(r) << r.error().detail;
}

TEST_P(AMaximalPacket, CutShortAtEveryLengthIsTruncatedNeverACrash) {
  const auto full = bytes(GetParam().hex);
  for (std::size_t n = 0; n < full.size(); ++n) {
    // A copy of exactly n bytes, so a sanitizer sees any read past the prefix.
    const std::vector<std::uint8_t> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const auto r = decode(GetParam().uuid, prefix);
    ASSERT_FALSE(r) << "length " << n;
    EXPECT_EQ(r.error().kind, ErrorKind::truncated) << "length " << n << ": " << r.error().detail;
    EXPECT_NE(r.error().detail.find("(packet is " + std::to_string(n) + " byte"), std::string::npos)
        << r.error().detail;
  }
}

INSTANTIATE_TEST_SUITE_P(OfEveryCharacteristic, AMaximalPacket, ::testing::ValuesIn(kMaximalPackets), test_name);

// Packets whose first byte is a flags field with reserved bits.
std::vector<MaximalPacket> flagged_packets() {
  std::vector<MaximalPacket> out;
  std::copy_if(std::begin(kMaximalPackets), std::end(kMaximalPackets), std::back_inserter(out),
               [](const MaximalPacket& p) { return p.reserved_flag_bits != 0; });
  return out;
}

class AFlaggedMaximalPacket : public ::testing::TestWithParam<MaximalPacket> {};

TEST_P(AFlaggedMaximalPacket, DecodesTheSameWithReservedFlagBitsSet) {
  auto packet = bytes(GetParam().hex);
  const auto plain = decode(GetParam().uuid, packet);
  packet[0] = static_cast<std::uint8_t>(packet[0] | GetParam().reserved_flag_bits);
  const auto with_reserved = decode(GetParam().uuid, packet);
  ASSERT_TRUE(plain);
  ASSERT_TRUE(with_reserved);
  EXPECT_EQ(to_json(*plain), to_json(*with_reserved));
}

INSTANTIATE_TEST_SUITE_P(OfEveryCharacteristicWithFlags, AFlaggedMaximalPacket,
                         ::testing::ValuesIn(flagged_packets()), test_name);

// Packets whose layout ends at a fixed point (the heart rate's RR list takes whatever follows).
std::vector<MaximalPacket> fixed_length_packets() {
  std::vector<MaximalPacket> out;
  std::copy_if(std::begin(kMaximalPackets), std::end(kMaximalPackets), std::back_inserter(out),
               [](const MaximalPacket& p) { return p.uuid != uuid::kHeartRateMeasurement; });
  return out;
}

class AFixedLengthMaximalPacket : public ::testing::TestWithParam<MaximalPacket> {};

TEST_P(AFixedLengthMaximalPacket, DecodesTheSameWithExtraTrailingBytes) {
  auto packet = bytes(GetParam().hex);
  const auto plain = decode(GetParam().uuid, packet);
  packet.insert(packet.end(), {0xAA, 0xBB, 0xCC});
  const auto longer = decode(GetParam().uuid, packet);
  ASSERT_TRUE(plain);
  ASSERT_TRUE(longer);
  EXPECT_EQ(to_json(*plain), to_json(*longer));
}

INSTANTIATE_TEST_SUITE_P(OfEveryFixedLengthCharacteristic, AFixedLengthMaximalPacket,
                         ::testing::ValuesIn(fixed_length_packets()), test_name);

TEST(Decode, AnswersEveryShortPacketWithAValueOrAnError) {
  // Every 0-, 1- and 2-byte packet for every UUID: exhaustive, so no small input is left to chance.
  for (const std::uint16_t id : supported_uuids()) {
    EXPECT_FALSE(decode(id, {})) << id;
    for (unsigned a = 0; a < 256; ++a) {
      const std::uint8_t one[] = {static_cast<std::uint8_t>(a)};
      EXPECT_TRUE(to_json(decode(id, one)).is_object());
      for (unsigned b = 0; b < 256; ++b) {
        const std::uint8_t two[] = {static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b)};
        const auto r2 = decode(id, two);
        if (!r2) {
          ASSERT_FALSE(r2.error().detail.empty());
        }
      }
    }
  }
}

TEST(Decode, AnswersRandomPacketsWithAValueOrAnError) {
  std::mt19937 rng(20261121);  // fixed seed: the same packets on every run
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 40);
  for (int i = 0; i < 4000; ++i) {
    std::vector<std::uint8_t> packet(static_cast<std::size_t>(length(rng)));
    for (auto& b : packet) {
      b = static_cast<std::uint8_t>(byte(rng));
    }
    for (const std::uint16_t id : supported_uuids()) {
      const auto r = decode(id, packet);
      const std::string text = to_json(r).dump();
      ASSERT_FALSE(text.empty());
    }
  }
}

}  // namespace
}  // namespace carehub::gatt
