// The User Data Service through the Manager: a technician registers and consents users on a multi-user
// device; readings without a User ID of their own take the consented user, or the unknown-user slot.
#include "drivers/ble/user_data.hpp"

#include <gtest/gtest.h>

#include "drivers/ble/manager.hpp"
#include "tests/unit/drivers/ble/fakes.hpp"

namespace carehub::ble {
namespace {

using namespace carehub::ble::fakes;

std::string ucp_path(const std::string& a) { return dev_path(a) + "/service0030/char0031"; }
std::string racp_path(const std::string& a) { return dev_path(a) + "/service0010/char0013"; }

// Glucose Measurement: flags 0x02 (concentration, kg/L), sequence `seq`, 2026-11-21 11:00:00, 100 mg/dL.
std::vector<std::uint8_t> glucose(std::uint8_t seq) {
  return {0x02, seq, 0x00, 0xEA, 0x07, 11, 21, 11, 0, 0, 0x64, 0xB0, 0x11};
}

class AUdsDevice : public ::testing::Test {
 protected:
  AUdsDevice()
      : clock_(*parse_rfc3339("2026-11-21T12:00:00Z")),
        log_(LogLevel::debug, [this](LogLevel, std::string_view, std::string_view m) { lines_.emplace_back(m); }),
        context_{sink_, clock_, log_, counters_, "hub", "Patient/kit"} {
    config_.time.device_time_utc = true;
    bluez_.add_adapter();
    bluez_.add_device(kBp1, "GL50", false, 0x2A18);
    bluez_.tree[racp_path(kBp1)][std::string(kCharacteristicInterface)] = {
        {"UUID", uuid128(0x2A52)}, {"Flags", std::vector<std::string>{"write", "indicate"}}};
    bluez_.tree[ucp_path(kBp1)][std::string(kCharacteristicInterface)] = {
        {"UUID", uuid128(0x2A9F)}, {"Flags", std::vector<std::string>{"write", "indicate"}}};
  }
  void start() {
    manager_ = std::make_unique<Manager>(bluez_, config_, context_, top_of_jitter());
    ASSERT_TRUE(manager_->start({registered(kBp1)}));
  }
  void connect() {
    auto done = std::move(bluez_.pending_connect.at(dev_path(kBp1)));
    bluez_.pending_connect.erase(dev_path(kBp1));
    done(Result<void>{});
    manager_->on_properties_changed(dev_path(kBp1), std::string(kDeviceInterface), {{"Connected", true}, {"ServicesResolved", true}});
  }
  void indicate(const std::string& path, std::vector<std::uint8_t> v) {
    manager_->on_properties_changed(path, std::string(kCharacteristicInterface), {{"Value", std::move(v)}});
  }
  SteadyTime later() { return clock_.monotonic() + std::chrono::seconds(60); }

  BleConfig config_;
  FakeBluez bluez_;
  FakeSink sink_;
  ManualClock clock_;
  std::vector<std::string> lines_;
  Logger log_;
  Counters counters_;
  SourceContext context_;
  std::unique_ptr<Manager> manager_;
};

TEST_F(AUdsDevice, RegistersAUserConsentsAsItAndOnlyThenAsksForItsRecords) {
  start();
  connect();
  EXPECT_TRUE(bluez_.written.count(racp_path(kBp1))) << "no consent known: records come as the unknown user's";
  std::optional<Result<UdsAnswer>> answer;
  manager_->user_data(kBp1, {UdsRequest::Op::register_user, -1, 1234}, [&](Result<UdsAnswer> r) { answer = std::move(r); }, later());
  EXPECT_EQ(bluez_.written[ucp_path(kBp1)], (std::vector<std::uint8_t>{0x01, 0xD2, 0x04}));
  indicate(ucp_path(kBp1), {0x20, 0x01, 0x01, 0x02});  // registered as user 2
  ASSERT_TRUE(answer && *answer) << (answer ? answer->error().message : "no answer");
  EXPECT_EQ((*answer)->user, 2);
  EXPECT_EQ(bluez_.written[ucp_path(kBp1)], (std::vector<std::uint8_t>{0x02, 0x02, 0xD2, 0x04})) << "consent follows";
  indicate(ucp_path(kBp1), {0x20, 0x02, 0x01});
  indicate(dev_path(kBp1) + "/service0010/char0011", glucose(1));
  ASSERT_EQ(sink_.readings.size(), 1u);
  EXPECT_EQ(sink_.readings[0].user, std::optional<int>(2));
}

TEST_F(AUdsDevice, ConsentsAgainOnTheNextConnectionBeforeItAsksForStoredRecords) {
  start();
  connect();
  manager_->user_data(kBp1, {UdsRequest::Op::consent, 1, 42}, [](Result<UdsAnswer>) {}, later());
  indicate(ucp_path(kBp1), {0x20, 0x02, 0x01});
  manager_->on_properties_changed(dev_path(kBp1), std::string(kDeviceInterface), {{"Connected", false}});
  bluez_.written.clear();
  manager_->on_properties_changed(dev_path(kBp1), std::string(kDeviceInterface), {{"RSSI", std::int64_t{-50}}});
  connect();
  EXPECT_EQ(bluez_.written[ucp_path(kBp1)], (std::vector<std::uint8_t>{0x02, 0x01, 0x2A, 0x00}));
  EXPECT_FALSE(bluez_.written.count(racp_path(kBp1))) << "records wait for the consent";
  indicate(ucp_path(kBp1), {0x20, 0x02, 0x01});
  EXPECT_EQ(bluez_.written[racp_path(kBp1)], (std::vector<std::uint8_t>{0x01, 0x01}));
  indicate(dev_path(kBp1) + "/service0010/char0011", glucose(1));
  ASSERT_EQ(sink_.readings.size(), 1u);
  EXPECT_EQ(sink_.readings[0].user, std::optional<int>(1));
}

TEST_F(AUdsDevice, ARecordBeforeAnyConsentIsTheUnknownUsersNeverTheKitPatients) {
  start();
  connect();
  indicate(dev_path(kBp1) + "/service0010/char0011", glucose(1));
  ASSERT_EQ(sink_.readings.size(), 1u);
  EXPECT_EQ(sink_.readings[0].user, std::optional<int>(kUnknownUserSlot));
}

TEST_F(AUdsDevice, AWrongConsentCodeIsTheTechniciansErrorAndNotRememberedFromThen) {
  start();
  connect();
  std::optional<Result<UdsAnswer>> answer;
  manager_->user_data(kBp1, {UdsRequest::Op::consent, 1, 42}, [&](Result<UdsAnswer> r) { answer = std::move(r); }, later());
  indicate(ucp_path(kBp1), {0x20, 0x02, 0x05});
  ASSERT_TRUE(answer && !*answer);
  EXPECT_EQ(answer->error().code, Errc::invalid_argument);
  EXPECT_NE(answer->error().message.find("user_not_authorized (wrong consent code"), std::string::npos) << answer->error().message;
  EXPECT_TRUE(manager_->sessions().at(kBp1).uds.consents().empty());
}

TEST_F(AUdsDevice, ARequestWaitsForTheDeviceToConnectAndExpiresAtItsDeadline) {
  start();  // connecting, not connected
  std::optional<Result<UdsAnswer>> answer;
  manager_->user_data(kBp1, {UdsRequest::Op::register_user, -1, 7}, [&](Result<UdsAnswer> r) { answer = std::move(r); },
                      clock_.monotonic() + std::chrono::seconds(5));
  EXPECT_FALSE(bluez_.written.count(ucp_path(kBp1)));
  EXPECT_FALSE(answer);
  ASSERT_TRUE(manager_->next_deadline());
  clock_.advance(std::chrono::seconds(6));
  manager_->tick(clock_.monotonic());
  ASSERT_TRUE(answer && !*answer);
  EXPECT_EQ(answer->error().code, Errc::timeout);
  EXPECT_NE(answer->error().message.find("press its button"), std::string::npos);
}

TEST_F(AUdsDevice, ARequestForADeviceWithoutUserDataIsRefusedWhenItConnects) {
  bluez_.tree.erase(ucp_path(kBp1));
  start();
  std::optional<Result<UdsAnswer>> answer;
  manager_->user_data(kBp1, {UdsRequest::Op::register_user, -1, 7}, [&](Result<UdsAnswer> r) { answer = std::move(r); }, later());
  EXPECT_FALSE(answer) << "waits for the connection";
  connect();
  ASSERT_TRUE(answer && !*answer);
  EXPECT_NE(answer->error().message.find("no User Data Service"), std::string::npos) << answer->error().message;
}

TEST_F(AUdsDevice, AMalformedAnswerIsCountedAndAnswersNothing) {
  start();
  connect();
  std::optional<Result<UdsAnswer>> answer;
  manager_->user_data(kBp1, {UdsRequest::Op::register_user, -1, 7}, [&](Result<UdsAnswer> r) { answer = std::move(r); }, later());
  indicate(ucp_path(kBp1), {0x20, 0x01, 0x01});  // success without the index
  EXPECT_FALSE(answer);
  EXPECT_EQ(counters_.get("ble_malformed_packets").load(), 1u);
  EXPECT_EQ(manager_->sessions().at(kBp1).malformed, 1u);
}

}  // namespace
}  // namespace carehub::ble
