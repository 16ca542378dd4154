// Device Information and battery, read through the Bluez seam into the registry record.
#include "drivers/ble/device_info.hpp"

#include <gtest/gtest.h>

#include "tests/unit/drivers/ble/fakes.hpp"

namespace carehub::ble {
namespace {

using namespace carehub::ble::fakes;

class DeviceInformation : public ::testing::Test {
 protected:
  // A DIS characteristic under the device, readable with `value`.
  void dis(int n, std::uint16_t uuid, std::string_view value) {
    const auto path = dev_path(kBp1) + "/service0020/char00" + std::to_string(20 + n);
    bluez_.tree[path][std::string(kCharacteristicInterface)] = {{"UUID", uuid128(uuid)},
                                                                {"Flags", std::vector<std::string>{"read"}}};
    bluez_.readable[path] = std::vector<std::uint8_t>(value.begin(), value.end());
  }
  FakeBluez bluez_;
  Device device_ = registered(kBp1);
};

TEST_F(DeviceInformation, FillsTheRecordFromTheServiceAndTheSystemIdAsEui64) {
  bluez_.add_device(kBp1, "BP7150");
  dis(0, 0x2A29, std::string("OMRON HEALTHCARE\0\0", 18));
  dis(1, 0x2A24, "HEM-7155T");
  dis(2, 0x2A25, "20231104001");
  dis(3, 0x2A26, "1.2.0");
  dis(4, 0x2A27, "B");
  dis(5, 0x2A28, "3.1");
  dis(6, 0x2A23, std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  dis(7, 0x2A19, std::string("\x4b", 1));
  const auto r = read_device_info(bluez_, bluez_.tree, dev_path(kBp1), device_, false);
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(r.malformed.empty());
  EXPECT_EQ(r.read, 8u);
  EXPECT_EQ(device_.manufacturer, "OMRON HEALTHCARE");
  EXPECT_EQ(device_.model, "HEM-7155T");
  EXPECT_EQ(device_.serial, "20231104001");
  EXPECT_EQ(device_.firmware_revision, "1.2.0");
  EXPECT_EQ(device_.hardware_revision, "B");
  EXPECT_EQ(device_.software_revision, "3.1");
  EXPECT_EQ(device_.system_id, "0807060504030201");
  EXPECT_EQ(device_.battery_percent, std::optional<int>(75));
  EXPECT_FALSE(read_device_info(bluez_, bluez_.tree, dev_path(kBp1), device_, false).changed) << "same values again";
}

TEST_F(DeviceInformation, PrefersBluezBatteryAndKeepsTheConfiguredModel) {
  bluez_.add_device(kBp1, "BP7150");
  bluez_.tree[dev_path(kBp1)][std::string(kBatteryInterface)] = {{"Percentage", std::int64_t{40}}};
  dis(0, 0x2A19, std::string("\x4b", 1));
  dis(1, 0x2A24, "HEM-7155T");
  read_device_info(bluez_, bluez_.tree, dev_path(kBp1), device_, true);
  EXPECT_EQ(device_.battery_percent, std::optional<int>(40));
  EXPECT_FALSE(bluez_.called("ReadValue " + dev_path(kBp1) + "/service0020/char0020")) << "Battery1 answered";
  EXPECT_EQ(device_.model, "BP7150");
}

TEST_F(DeviceInformation, ABadValueChangesNothingAndIsNamedAndAnUnreadableOneKeepsTheRecord) {
  bluez_.add_device(kBp1, "BP7150");
  device_.serial = "OLD";
  device_.manufacturer = "ACME";
  dis(0, 0x2A29, "BP\x1b[2J");
  dis(1, 0x2A23, "\x01\x02");
  dis(2, 0x2A25, "NEW");
  bluez_.readable.erase(dev_path(kBp1) + "/service0020/char0022");  // serial: NotPermitted
  const auto r = read_device_info(bluez_, bluez_.tree, dev_path(kBp1), device_, false);
  EXPECT_FALSE(r.changed);
  ASSERT_EQ(r.malformed.size(), 2u);
  EXPECT_EQ(r.malformed[0].rfind("0x2A29: device information: control character", 0), 0u) << r.malformed[0];
  EXPECT_EQ(r.malformed[1].rfind("0x2A23: system id", 0), 0u) << r.malformed[1];
  EXPECT_EQ(device_.manufacturer, "ACME");
  EXPECT_EQ(device_.serial, "OLD");
  EXPECT_TRUE(device_.system_id.empty());
}

}  // namespace
}  // namespace carehub::ble
