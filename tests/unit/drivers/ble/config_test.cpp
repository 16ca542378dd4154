#include "drivers/ble/config.hpp"

#include <gtest/gtest.h>

namespace carehub::ble {
namespace {

TEST(BleConfig, AnEmptySectionTakesTheDefaults) {
  auto c = parse_config(nlohmann::json::object(), "/sources/ble");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->adapter, "hci0");
  EXPECT_EQ(c->filter.transport, "le");
  EXPECT_FALSE(c->time.device_time_utc);
  EXPECT_TRUE(c->options_for("A4:C1:38:00:00:01").current_time);
}

TEST(BleConfig, ReadsEveryOption) {
  auto c = parse_config(nlohmann::json::parse(R"({"adapter":"hci1","scan":{"rssi":-80,"uuids":["1810","0x1809"]},
      "reconnect":{"base_ms":200,"cap_ms":5000},"resolve_timeout_ms":9000,"device_time":"utc",
      "devices":{"a4:c1:38:00:00:01":{"model":"BP7150","current_time":false,"racp":false}}})"),
                        "/sources/ble");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->adapter, "hci1");
  EXPECT_EQ(c->filter.rssi, -80);
  ASSERT_EQ(c->filter.uuids.size(), 2u);
  EXPECT_EQ(c->filter.uuids[1], "00001809-0000-1000-8000-00805f9b34fb");
  EXPECT_EQ(c->backoff_base.count(), 200);
  EXPECT_EQ(c->resolve_timeout.count(), 9000);
  EXPECT_TRUE(c->time.device_time_utc);
  EXPECT_EQ(c->options_for("A4:C1:38:00:00:01").model, "BP7150");
  EXPECT_FALSE(c->options_for("A4:C1:38:00:00:01").racp);
}

TEST(BleConfig, ReadsTheConsentAUserDataDeviceIsGivenAndRefusesTheUnknownUser) {
  auto c = parse_config(nlohmann::json::parse(R"({"devices":{"A4:C1:38:00:00:01":{"consent":{"user":1,"code":1234}}}})"),
                        "/sources/ble");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->options_for("A4:C1:38:00:00:01").consent, std::make_optional(std::make_pair(1, std::uint16_t{1234})));
  auto bad = parse_config(nlohmann::json::parse(R"({"devices":{"A4:C1:38:00:00:01":{"consent":{"user":255,"code":10000}}}})"),
                          "/sources/ble");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("/sources/ble/devices/A4:C1:38:00:00:01/consent/user"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("/consent/code"), std::string::npos) << bad.error().message;
}

TEST(BleConfig, EveryErrorNamesItsJsonPath) {
  auto c = parse_config(nlohmann::json::parse(R"({"adapter":5,"adaptor":"hci0","scan":{"uuids":["zz"]},
      "reconnect":{"base_ms":1000,"cap_ms":100},"device_time":"gmt","devices":{"nope":{},"A4:C1:38:00:00:01":{"modle":"x"}}})"),
                        "/sources/ble");
  ASSERT_FALSE(c);
  const auto& m = c.error().message;
  for (const char* path : {"/sources/ble/adapter:", "/sources/ble/adaptor:", "/sources/ble/scan/uuids/0:",
                           "/sources/ble/reconnect/cap_ms:", "/sources/ble/device_time:", "/sources/ble/devices/nope:",
                           "/sources/ble/devices/A4:C1:38:00:00:01/modle:"}) {
    EXPECT_NE(m.find(path), std::string::npos) << path << " missing in:\n" << m;
  }
}

TEST(BleConfig, ASectionThatIsNotAnObjectIsRefused) {
  auto c = parse_config(nlohmann::json::array(), "/sources/ble");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message.rfind("/sources/ble: expected an object", 0), 0u);
}

}  // namespace
}  // namespace carehub::ble
