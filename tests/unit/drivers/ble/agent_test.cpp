#include "drivers/ble/agent.hpp"

#include <gtest/gtest.h>

namespace carehub::ble {
namespace {

constexpr const char* kDev = "/org/bluez/hci0/dev_A4_C1_38_00_00_01";

TEST(APairingAgent, RefusesDevicesNobodyIsPairing) {
  PairingAgent agent([](const std::string&) { return false; });
  EXPECT_FALSE(agent.request_passkey(kDev));
  EXPECT_FALSE(agent.request_confirmation(kDev, 123456));
  EXPECT_FALSE(agent.request_authorization(kDev));
  EXPECT_FALSE(agent.authorize_service(kDev, "00001810-0000-1000-8000-00805f9b34fb"));
}

TEST(APairingAgent, AnswersThePasskeyTheTechnicianGaveForThatDeviceOnly) {
  PairingAgent agent([](const std::string&) { return false; });
  agent.expect(kDev, 123456);
  ASSERT_TRUE(agent.request_passkey(kDev));
  EXPECT_EQ(*agent.request_passkey(kDev), 123456u);
  EXPECT_EQ(*agent.request_pin_code(kDev), "123456");
  EXPECT_TRUE(agent.request_confirmation(kDev, 123456));
  EXPECT_FALSE(agent.request_confirmation(kDev, 654321));
  EXPECT_FALSE(agent.request_passkey("/org/bluez/hci0/dev_A4_C1_38_00_00_02"));
  agent.done(kDev);
  EXPECT_FALSE(agent.request_passkey(kDev));
}

TEST(APairingAgent, AsksForAPasskeyWhenTheDeviceWantsOneAndNoneWasGiven) {
  PairingAgent agent([](const std::string&) { return false; });
  agent.expect(kDev, std::nullopt);
  auto r = agent.request_passkey(kDev);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("--passkey"), std::string::npos);
  EXPECT_TRUE(agent.request_confirmation(kDev, 111111));  // just works: vouched for by address
}

TEST(APairingAgent, LetsRegisteredDevicesUseTheirServices) {
  PairingAgent agent([](const std::string& p) { return p == kDev; });
  EXPECT_TRUE(agent.authorize_service(kDev, "00001810-0000-1000-8000-00805f9b34fb"));
}

}  // namespace
}  // namespace carehub::ble
