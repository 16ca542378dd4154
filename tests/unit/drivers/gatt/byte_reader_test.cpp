#include "drivers/gatt/byte_reader.hpp"

#include <gtest/gtest.h>

#include "tests/unit/drivers/gatt/packets.hpp"

namespace carehub::gatt {
namespace {

using testing::bytes;

TEST(AByteReader, ReadsLittleEndianFieldsInOrder) {
  const auto packet = bytes("01 02 03 04 05 06 07 08 09 0A 0B 0C");
  ByteReader r(packet, "test");
  EXPECT_EQ(r.u8("a"), 0x01);
  EXPECT_EQ(r.u16("b"), 0x0302);
  EXPECT_EQ(r.u24("c"), 0x060504u);
  EXPECT_EQ(r.u32("d"), 0x0A090807u);
  EXPECT_EQ(r.s16("e"), static_cast<std::int16_t>(0x0C0B));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(AByteReader, ReadsSignedValuesAsTwosComplement) {
  const auto packet = bytes("F6 FF");
  ByteReader r(packet, "test");
  EXPECT_EQ(r.s16("offset"), -10);
}

TEST(AByteReader, NamesTheFieldOffsetAndBytesLeftWhenAFieldDoesNotFit) {
  const auto packet = bytes("00 78 00 50 00 5D 00 E8 07 03");
  ByteReader r(packet, "blood pressure");
  r.take(7, "compound value");
  EXPECT_TRUE(r.take(7, "timestamp").empty());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error()->kind, ErrorKind::truncated);
  EXPECT_EQ(r.error()->detail, "blood pressure: timestamp needs 7 bytes at offset 7, only 3 remain (packet is 10 bytes)");
}

TEST(AByteReader, KeepsTheFirstErrorAndReturnsZeroAfterIt) {
  const auto packet = bytes("01");
  ByteReader r(packet, "x");
  EXPECT_EQ(r.u16("first"), 0);
  EXPECT_EQ(r.u8("second"), 0);  // a byte exists, but the reader has already failed
  EXPECT_EQ(r.offset(), 0u);
  EXPECT_EQ(r.error()->detail, "x: first needs 2 bytes at offset 0, only 1 remains (packet is 1 byte)");
}

TEST(AByteReader, OnAnEmptyPacketFailsTheFirstRead) {
  ByteReader r({}, "heart rate");
  EXPECT_EQ(r.u8("flags"), 0);
  EXPECT_EQ(r.error()->detail, "heart rate: flags needs 1 byte at offset 0, only 0 remain (packet is 0 bytes)");
}

TEST(AByteReader, RecordsADecodersOwnErrorOnlyIfNothingFailedBefore) {
  ByteReader r({}, "x");
  r.fail(ErrorKind::malformed, "bad operator");
  EXPECT_EQ(r.error()->kind, ErrorKind::malformed);
  EXPECT_EQ(r.error()->detail, "x: bad operator");
  r.u8("later");
  r.fail(ErrorKind::unsupported, "ignored");
  EXPECT_EQ(r.error()->detail, "x: bad operator");
}

}  // namespace
}  // namespace carehub::gatt
