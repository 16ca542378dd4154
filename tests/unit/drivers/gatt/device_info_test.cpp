#include "drivers/gatt/device_info.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/drivers/gatt/packets.hpp"

namespace carehub::gatt {
namespace {

using testing::bytes;

std::vector<std::uint8_t> text(std::string_view s) { return {s.begin(), s.end()}; }

TEST(ADeviceInformationString, IsTheValueWithItsPaddingDropped) {
  auto padded = text("OMRON");
  padded.insert(padded.end(), {0x00, 0x00, ' '});
  EXPECT_EQ(*decode_info_string(padded), "OMRON");
  EXPECT_EQ(*decode_info_string(text("Ger\xC3\xA4t 2")), "Ger\xC3\xA4t 2") << "UTF-8 kept";
  EXPECT_EQ(*decode_info_string({}), "");
}

TEST(ADeviceInformationString, RefusesControlCharactersBadUtf8AndOverlongValues) {
  const auto ctl = decode_info_string(text("BP\x1b[2J"));
  ASSERT_FALSE(ctl);
  EXPECT_EQ(ctl.error().kind, ErrorKind::malformed);
  EXPECT_NE(ctl.error().detail.find("control character at offset 2"), std::string::npos) << ctl.error().detail;
  EXPECT_FALSE(decode_info_string(bytes("41 C3")));        // cut sequence
  EXPECT_FALSE(decode_info_string(bytes("41 C0 80")));     // overlong NUL
  EXPECT_FALSE(decode_info_string(bytes("ED A0 80")));     // surrogate
  EXPECT_FALSE(decode_info_string(text(std::string(kMaxInfoString + 1, 'a'))));
  EXPECT_TRUE(decode_info_string(text(std::string(kMaxInfoString, 'a'))));
}

TEST(ASystemId, IsTheEui64WithTheOuiFirst) {
  // Manufacturer Identifier 0x0504030201 (uint40 LE), OUI 0x080706 (uint24 LE).
  EXPECT_EQ(*decode_system_id(bytes("01 02 03 04 05 06 07 08")), "0807060504030201");
  EXPECT_EQ(*decode_system_id(bytes("EF CD AB 89 67 45 23 01")), "0123456789ABCDEF");
  EXPECT_EQ(decode_system_id(bytes("01 02 03 04 05 06 07")).error().kind, ErrorKind::truncated);
}

TEST(ABatteryLevel, IsAPercentage) {
  EXPECT_EQ(*decode_battery_level(bytes("64")), 100);
  EXPECT_EQ(*decode_battery_level(bytes("00")), 0);
  EXPECT_EQ(decode_battery_level(bytes("65")).error().kind, ErrorKind::malformed);
  EXPECT_EQ(decode_battery_level({}).error().kind, ErrorKind::truncated);
}

}  // namespace
}  // namespace carehub::gatt
