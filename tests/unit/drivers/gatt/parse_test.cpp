#include "drivers/gatt/parse.hpp"

#include <gtest/gtest.h>

namespace carehub::gatt {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(ParseHex, ReadsPlainDigitsInEitherCase) {
  EXPECT_EQ(*parse_hex("00780050005d00"), (Bytes{0x00, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00}));
  EXPECT_EQ(*parse_hex("ABcdEf"), (Bytes{0xAB, 0xCD, 0xEF}));
}

TEST(ParseHex, AcceptsSeparatorsBetweenBytesAndAPrefix) {
  const Bytes expected{0x00, 0x78, 0x00, 0x50};
  EXPECT_EQ(*parse_hex("00 78 00 50"), expected);
  EXPECT_EQ(*parse_hex("00:78:00:50"), expected);
  EXPECT_EQ(*parse_hex("00-78-00-50"), expected);
  EXPECT_EQ(*parse_hex("  0078\t0050 "), expected);
  EXPECT_EQ(*parse_hex("0x00780050"), expected);
}

TEST(ParseHex, GivesNoBytesForEmptyInput) {
  EXPECT_TRUE(parse_hex("")->empty());
  EXPECT_TRUE(parse_hex("   ")->empty());
}

TEST(ParseHex, NamesANonHexCharacterAndItsPosition) {
  const auto r = parse_hex("00 7g");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail, "hex: 'g' at position 4 is not a hex digit");
  EXPECT_EQ(parse_hex("00\x01").error().detail, "hex: byte 0x01 at position 2 is not a hex digit");
}

TEST(ParseHex, RejectsAnOddNumberOfDigits) {
  EXPECT_EQ(parse_hex("007").error().detail, "hex: odd number of digits; the last byte has only one digit");
}

TEST(ParseHex, RejectsASeparatorInsideAByte) {
  EXPECT_EQ(parse_hex("0 078").error().detail,
            "hex: separator ' ' at position 1 splits a byte; write two digits per byte");
}

TEST(ParseUuid, ReadsSixteenBitForms) {
  EXPECT_EQ(*parse_uuid("2A35"), 0x2A35);
  EXPECT_EQ(*parse_uuid("2a35"), 0x2A35);
  EXPECT_EQ(*parse_uuid("0x2a35"), 0x2A35);
  EXPECT_EQ(*parse_uuid("0X2A35"), 0x2A35);
  EXPECT_EQ(*parse_uuid("00002A35"), 0x2A35);
}

TEST(ParseUuid, ReadsTheFullBluetoothBaseUuid) {
  EXPECT_EQ(*parse_uuid("00002a35-0000-1000-8000-00805f9b34fb"), 0x2A35);
  EXPECT_EQ(*parse_uuid("00002A5F-0000-1000-8000-00805F9B34FB"), 0x2A5F);
}

TEST(ParseUuid, RejectsAVendorSpecificUuid) {
  const auto r = parse_uuid("00002a35-0000-1000-8000-00805f9b34fc");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().detail.find("not a Bluetooth SIG UUID"), std::string::npos);
}

TEST(ParseUuid, RejectsWrongLengthsDigitsAndWideValues) {
  EXPECT_FALSE(parse_uuid(""));
  EXPECT_FALSE(parse_uuid("2A3"));
  EXPECT_FALSE(parse_uuid("2A355"));
  EXPECT_EQ(parse_uuid("2A3Z").error().detail, "uuid: \"2A3Z\" has 'Z', not a hex digit");
  EXPECT_FALSE(parse_uuid("00012A35"));
  EXPECT_FALSE(parse_uuid("zzzz2a35-0000-1000-8000-00805f9b34fb"));
}

}  // namespace
}  // namespace carehub::gatt
