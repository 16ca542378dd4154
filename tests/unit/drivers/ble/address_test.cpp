#include "drivers/ble/address.hpp"

#include <gtest/gtest.h>

namespace carehub::ble {
namespace {

TEST(BleAddress, NormalisesCaseAndSeparators) {
  EXPECT_EQ(normalise_address("a4:c1:38:0a:0b:0c"), "A4:C1:38:0A:0B:0C");
  EXPECT_EQ(normalise_address("A4-C1-38-0A-0B-0C"), "A4:C1:38:0A:0B:0C");
  EXPECT_EQ(normalise_address("A4:C1:38:0A:0B"), "");
  EXPECT_EQ(normalise_address("G4:C1:38:0A:0B:0C"), "");
}

TEST(BleAddress, TheRegistryIdIsDerivedFromTheAddressAndBack) {
  EXPECT_EQ(device_id("A4:C1:38:0A:0B:0C"), "ble-a4-c1-38-0a-0b-0c");
  EXPECT_EQ(address_of_id("ble-a4-c1-38-0a-0b-0c"), "A4:C1:38:0A:0B:0C");
  EXPECT_EQ(address_of_id("openhab-kitchen"), "");
}

TEST(BleAddress, ReadsSigUuidsAndRefusesVendorOnes) {
  EXPECT_EQ(sig_uuid16("00002a35-0000-1000-8000-00805f9b34fb"), 0x2A35);
  EXPECT_EQ(sig_uuid16("00002A35-0000-1000-8000-00805F9B34FB"), 0x2A35);
  EXPECT_FALSE(sig_uuid16("00002a35-1111-1000-8000-00805f9b34fb"));
  EXPECT_EQ(uuid128(0x1810), "00001810-0000-1000-8000-00805f9b34fb");
}

}  // namespace
}  // namespace carehub::ble
