// The BLE logic behind the seam: a fake BlueZ records calls and lets each test decide when replies and
// signals arrive; a fake sink records what would be stored.
#include "drivers/ble/manager.hpp"

#include <gtest/gtest.h>

#include "drivers/ble/address.hpp"
#include "tests/unit/drivers/ble/fakes.hpp"

namespace carehub::ble {
namespace {

using namespace carehub::ble::fakes;

class ABleManager : public ::testing::Test {
 protected:
  ABleManager()
      : clock_(*parse_rfc3339("2026-11-21T12:00:00Z")),
        log_(LogLevel::debug,
             [this](LogLevel level, std::string_view, std::string_view m) {
               lines_.emplace_back(m);
               if (level <= LogLevel::warning) warnings_.emplace_back(m);
             }),
        context_{sink_, clock_, log_, counters_, "hub", "Patient/kit"} {
    // The store as the daemon offers it: what an earlier session stored, then what this one handed over.
    context_.stored_at = [this](const std::string& device, TimePoint t) -> Result<std::vector<Reading>> {
      if (store_error_) return make_error(Errc::io, "database is locked");
      std::vector<Reading> out;
      for (const auto* list : {&stored_, &sink_.readings}) {
        for (const auto& r : *list) {
          if (r.device == device && r.device_time == t) out.push_back(r);
        }
      }
      return out;
    };
    config_.backoff_base = std::chrono::milliseconds(100);
    config_.backoff_cap = std::chrono::milliseconds(1000);
    config_.resolve_timeout = std::chrono::milliseconds(5000);
    config_.time.device_time_utc = true;
    bluez_.add_adapter();
  }

  void start(const std::vector<Device>& registry) {
    manager_ = std::make_unique<Manager>(bluez_, config_, context_, top_of_jitter());
    ASSERT_TRUE(manager_->start(registry));
  }
  const DeviceSession& session(const std::string& address) { return manager_->sessions().at(address); }
  // BlueZ connects: the reply, then Connected and ServicesResolved as bluetoothd signals them.
  void connect(const std::string& address) {
    auto done = std::move(bluez_.pending_connect.at(dev_path(address)));
    bluez_.pending_connect.erase(dev_path(address));
    done(Result<void>{});
    manager_->on_properties_changed(dev_path(address), std::string(kDeviceInterface),
                                    {{"Connected", true}, {"ServicesResolved", true}});
  }
  void notify(const std::string& address, std::vector<std::uint8_t> value) {
    manager_->on_properties_changed(char_path(address), std::string(kCharacteristicInterface), {{"Value", std::move(value)}});
  }

  BleConfig config_;
  FakeBluez bluez_;
  FakeSink sink_;
  ManualClock clock_;
  std::vector<std::string> lines_;
  std::vector<std::string> warnings_;  // warning and error lines only
  std::vector<Reading> stored_;        // stored before this test
  bool store_error_ = false;
  Logger log_;
  Counters counters_;
  SourceContext context_;
  std::unique_ptr<Manager> manager_;
};

TEST_F(ABleManager, SetsTheDiscoveryFilterBeforeStartingDiscovery) {
  start({});
  auto filter = std::find(bluez_.calls.begin(), bluez_.calls.end(), "SetDiscoveryFilter le");
  auto discovery = std::find(bluez_.calls.begin(), bluez_.calls.end(), "StartDiscovery");
  ASSERT_NE(filter, bluez_.calls.end());
  ASSERT_NE(discovery, bluez_.calls.end());
  EXPECT_LT(filter, discovery);
  EXPECT_TRUE(bluez_.called("RegisterAgent"));
  EXPECT_EQ(manager_->status()["adapter"]["state"], "ready");
}

TEST_F(ABleManager, ConnectsARegisteredDeviceSubscribesAndSetsItsClock) {
  bluez_.add_device(kBp1, "BP7150");
  start({registered(kBp1)});
  EXPECT_TRUE(bluez_.called("Connect " + dev_path(kBp1)));
  EXPECT_EQ(session(kBp1).state, SessionState::connecting);
  connect(kBp1);
  EXPECT_EQ(session(kBp1).state, SessionState::subscribed);
  EXPECT_TRUE(bluez_.called("StartNotify " + char_path(kBp1)));
  ASSERT_EQ(bluez_.written[cts_path(kBp1)].size(), 10u);
  EXPECT_EQ(bluez_.written[cts_path(kBp1)][0], 0xEA);  // 2026, little endian
  EXPECT_EQ(bluez_.written[cts_path(kBp1)][9], 0x01);  // adjust reason: manual update
}

// Issue 13: the PHD IG's PhdDevice needs the real instrument (manufacturer, serial, system id...); the
// driver never read the Device Information Service.
TEST_F(ABleManager, ReadsTheDeviceInformationAtConnectionIntoTheRegistry) {
  bluez_.add_device(kBp1, "BP7150");
  const auto sysid = dev_path(kBp1) + "/service0020/char0021";
  bluez_.tree[sysid][std::string(kCharacteristicInterface)] = {{"UUID", uuid128(0x2A23)},
                                                               {"Flags", std::vector<std::string>{"read"}}};
  bluez_.readable[sysid] = {0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01};
  bluez_.tree[dev_path(kBp1)][std::string(kBatteryInterface)] = {{"Percentage", std::int64_t{80}}};
  start({registered(kBp1)});
  connect(kBp1);
  ASSERT_EQ(session(kBp1).state, SessionState::subscribed);
  ASSERT_FALSE(sink_.devices.empty());
  EXPECT_EQ(sink_.devices.back().system_id, "0123456789ABCDEF");
  EXPECT_EQ(sink_.devices.back().battery_percent, std::optional<int>(80));
  EXPECT_EQ(session(kBp1).device.system_id, "0123456789ABCDEF");
  const auto writes = sink_.devices.size();
  manager_->on_properties_changed(dev_path(kBp1), std::string(kDeviceInterface), {{"Connected", false}});
  manager_->on_properties_changed(dev_path(kBp1), std::string(kDeviceInterface), {{"RSSI", std::int64_t{-50}}});
  connect(kBp1);
  EXPECT_EQ(sink_.devices.size(), writes) << "nothing changed: no registry write";
  manager_->on_properties_changed(dev_path(kBp1), std::string(kBatteryInterface), {{"Percentage", std::int64_t{79}}});
  EXPECT_EQ(sink_.devices.back().battery_percent, std::optional<int>(79));
}

TEST_F(ABleManager, LeavesUnregisteredDevicesAlone) {
  bluez_.add_device(kBp1, "BP7150");
  start({});
  EXPECT_FALSE(bluez_.called("Connect " + dev_path(kBp1)));
}

TEST_F(ABleManager, AttributesEachReadingToTheDeviceThatSentItEvenForTwinModels) {
  bluez_.add_device(kBp1, "BP7150");
  bluez_.add_device(kBp2, "BP7150");
  start({registered(kBp1), registered(kBp2, "Patient/spouse")});
  connect(kBp1);
  connect(kBp2);
  notify(kBp2, bp_packet(140, 10));
  notify(kBp1, bp_packet(120, 10));
  ASSERT_EQ(sink_.readings.size(), 2u);
  EXPECT_EQ(sink_.readings[0].device, "ble-a4-c1-38-00-00-02");
  EXPECT_EQ(sink_.readings[0].values.at("systolic"), 140);
  EXPECT_EQ(sink_.readings[1].device, "ble-a4-c1-38-00-00-01");
  EXPECT_EQ(sink_.readings[1].values.at("systolic"), 120);
  EXPECT_EQ(format_rfc3339(*sink_.readings[1].device_time), "2026-11-21T10:00:00Z");
  EXPECT_EQ(sink_.readings[1].received, clock_.now());
}

TEST_F(ABleManager, DropsRecordsTheStoreHoldsAndPersistsTheMark) {
  bluez_.add_device(kBp1, "BP7150");
  auto dev = registered(kBp1);
  dev.newest_record = *parse_rfc3339("2026-11-21T10:00:00Z");  // from the registry: survived a restart
  Reading before;  // stored in an earlier session
  before.kind = Kind::blood_pressure;
  before.device = dev.id;
  before.device_time = *parse_rfc3339("2026-11-21T09:00:00Z");
  before.time = *before.device_time;
  before.values = {{"systolic", 120}, {"diastolic", 80}, {"mean", 93}};
  stored_.push_back(before);
  start({dev});
  connect(kBp1);
  notify(kBp1, bp_packet(120, 9));   // older: resent from memory
  notify(kBp1, bp_packet(120, 10));  // the same second: the pipeline's identity decides
  notify(kBp1, bp_packet(125, 11));  // newer
  ASSERT_EQ(sink_.readings.size(), 2u);
  EXPECT_EQ(session(kBp1).resent, 1u);
  EXPECT_EQ(counters_.snapshot()["ble_resent_dropped"], 1u);
  ASSERT_FALSE(sink_.devices.empty());
  EXPECT_EQ(format_rfc3339(*sink_.devices.back().newest_record), "2026-11-21T11:00:00Z");
  EXPECT_EQ(sink_.devices.back().patient, "Patient/kit");
}

// flags 0x02: time stamp; 212/131 mmHg (mean 160), stamped 2024-01-01 00:02:00 by a clock reset by a
// battery change.
std::vector<std::uint8_t> reset_clock_packet() {
  return {0x02, 212, 0x00, 131, 0x00, 160, 0x00, 0xE8, 0x07, 1, 1, 0, 2, 0};
}

TEST_F(ABleManager, StoresANewReadingFromAResetClockAtItsReceiveTimeAndWarnsWithoutValues) {
  bluez_.add_device(kBp1, "BP7150");
  auto dev = registered(kBp1);
  dev.newest_record = *parse_rfc3339("2026-11-21T10:00:00Z");
  start({dev});
  connect(kBp1);
  notify(kBp1, reset_clock_packet());
  ASSERT_EQ(sink_.readings.size(), 1u) << "a new 212/131 is not a resend";
  EXPECT_EQ(sink_.readings[0].time, clock_.now());
  ASSERT_TRUE(sink_.readings[0].device_time);
  EXPECT_EQ(format_rfc3339(*sink_.readings[0].device_time), "2024-01-01T00:02:00Z") << "kept as evidence";
  EXPECT_EQ(session(kBp1).clock_wrong, 1u);
  EXPECT_EQ(counters_.snapshot()["ble_device_clock_wrong"], 1u);
  EXPECT_EQ(format_rfc3339(*session(kBp1).device.newest_record), "2026-11-21T10:00:00Z")
      << "a wrong clock never moves the mark";
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("event=device-clock-wrong address=" + std::string(kBp1) + " clock=behind"), std::string::npos)
      << warnings_[0];
  manager_->on_properties_changed(dev_path(kBp1), std::string(kDeviceInterface), {{"Connected", false}});
  manager_->on_properties_changed(dev_path(kBp1), std::string(kDeviceInterface), {{"RSSI", std::int64_t{-50}}});
  connect(kBp1);
  clock_.advance(std::chrono::minutes(30));
  notify(kBp1, reset_clock_packet());  // its memory, resent
  EXPECT_EQ(sink_.readings.size(), 1u);
  EXPECT_EQ(session(kBp1).resent, 1u);
  for (const auto& l : warnings_) {
    EXPECT_EQ(l.find("212"), std::string::npos) << "no patient values above debug: " << l;
    EXPECT_EQ(l.find("131"), std::string::npos) << "no patient values above debug: " << l;
  }
}

TEST_F(ABleManager, SetsAsideARecordItCannotCheckCountsItAndWarnsWithTheDevice) {
  bluez_.add_device(kBp1, "BP7150");
  auto dev = registered(kBp1);
  dev.newest_record = *parse_rfc3339("2026-11-21T10:00:00Z");
  start({dev});
  connect(kBp1);
  store_error_ = true;
  notify(kBp1, reset_clock_packet());
  EXPECT_TRUE(sink_.readings.empty()) << "at its receive time a resend would be stored twice";
  EXPECT_EQ(session(kBp1).set_aside, 1u);
  EXPECT_EQ(counters_.snapshot()["ble_records_set_aside"], 1u);
  EXPECT_EQ(manager_->list()[0]["set_aside"], 1u);
  bool warned = false;
  for (const auto& l : warnings_) {
    warned = warned || l.find("event=record-set-aside address=" + std::string(kBp1)) != std::string::npos;
    EXPECT_EQ(l.find("212"), std::string::npos) << l;
  }
  EXPECT_TRUE(warned);
  store_error_ = false;
  notify(kBp1, reset_clock_packet());  // the next time the device sends it, the store answers
  EXPECT_EQ(sink_.readings.size(), 1u);
}

// Glucose: flags 0x02, sequence, base time 2026-11-21 hh:00:00, 90 mg/dL (9e-4 kg/L), finger/capillary.
std::vector<std::uint8_t> glucose_packet(std::uint16_t sequence, std::uint8_t hour) {
  return {0x02, static_cast<std::uint8_t>(sequence & 0xFF), static_cast<std::uint8_t>(sequence >> 8), 0xEA, 0x07, 11, 21,
          hour, 0, 0, 0x09, 0xC0, 0x11};
}

TEST_F(ABleManager, AsksARestartedMeterForAllItsRecordsWhenItsLastRecordNumbersBelowTheNewestStored) {
  bluez_.add_device(kBp1, "Meter", false, 0x2A18);
  const auto racp = dev_path(kBp1) + "/service0010/char0013";
  bluez_.tree[racp][std::string(kCharacteristicInterface)] = {{"UUID", uuid128(0x2A52)},
                                                              {"Flags", std::vector<std::string>{"write", "indicate"}}};
  auto dev = registered(kBp1);
  dev.category = "glucose-meter";
  dev.newest_sequence = 250;
  dev.newest_record = *parse_rfc3339("2026-11-20T08:00:00Z");
  start({dev});
  connect(kBp1);
  EXPECT_EQ(bluez_.written[racp], (std::vector<std::uint8_t>{0x01, 0x03, 0x01, 251, 0}))
      << "records after the newest stored";
  const auto answer = [&](std::uint8_t code) {
    manager_->on_properties_changed(racp, std::string(kCharacteristicInterface),
                                    {{"Value", std::vector<std::uint8_t>{0x06, 0x00, 0x01, code}}});
  };
  answer(0x06);  // no records found
  EXPECT_EQ(bluez_.written[racp], (std::vector<std::uint8_t>{0x01, 0x06})) << "its last record";
  notify(kBp1, glucose_packet(3, 9));
  ASSERT_EQ(sink_.readings.size(), 1u);
  EXPECT_EQ(session(kBp1).sequence_restarts, 1u);
  answer(0x01);  // success
  EXPECT_EQ(bluez_.written[racp], (std::vector<std::uint8_t>{0x01, 0x01})) << "then all of them";
  notify(kBp1, glucose_packet(1, 7));
  notify(kBp1, glucose_packet(2, 8));
  notify(kBp1, glucose_packet(3, 9));
  answer(0x01);
  EXPECT_EQ(sink_.readings.size(), 3u);
  EXPECT_EQ(session(kBp1).device.newest_sequence, 3);
  EXPECT_EQ(bluez_.count("WriteValue " + racp), 3u) << "and no more";
}

TEST_F(ABleManager, StopsAtTheLastRecordWhenTheMeterHasNothingNew) {
  bluez_.add_device(kBp1, "Meter", false, 0x2A18);
  const auto racp = dev_path(kBp1) + "/service0010/char0013";
  bluez_.tree[racp][std::string(kCharacteristicInterface)] = {{"UUID", uuid128(0x2A52)},
                                                              {"Flags", std::vector<std::string>{"write", "indicate"}}};
  auto dev = registered(kBp1);
  dev.newest_sequence = 3;
  start({dev});
  connect(kBp1);
  notify(kBp1, glucose_packet(3, 9));  // stored in this session
  const auto answer = [&](std::uint8_t code) {
    manager_->on_properties_changed(racp, std::string(kCharacteristicInterface),
                                    {{"Value", std::vector<std::uint8_t>{0x06, 0x00, 0x01, code}}});
  };
  answer(0x06);
  notify(kBp1, glucose_packet(3, 9));  // its last record: the one stored
  answer(0x01);
  EXPECT_EQ(sink_.readings.size(), 1u);
  EXPECT_EQ(bluez_.count("WriteValue " + racp), 2u);
}

TEST_F(ABleManager, CountsAMalformedPacketAgainstItsDeviceAndMakesNoReading) {
  bluez_.add_device(kBp1, "BP7150");
  start({registered(kBp1)});
  connect(kBp1);
  notify(kBp1, {0x02, 0x78});
  notify(kBp1, {});
  EXPECT_TRUE(sink_.readings.empty());
  EXPECT_EQ(session(kBp1).malformed, 2u);
  EXPECT_EQ(counters_.snapshot()["ble_malformed_packets"], 2u);
  std::size_t warned = 0;
  for (const auto& l : lines_) warned += l.find("event=packet-dropped address=" + std::string(kBp1) + " kind=truncated characteristic=blood_pressure_measurement") != std::string::npos;
  EXPECT_EQ(warned, 1u) << "rate limited: one line per device per minute";
  notify(kBp1, bp_packet(120, 10));
  EXPECT_EQ(sink_.readings.size(), 1u) << "the session goes on";
}

TEST_F(ABleManager, IgnoresValuesOfCharacteristicsItDidNotSubscribeTo) {
  bluez_.add_device(kBp1, "BP7150");
  start({registered(kBp1)});
  notify(kBp1, bp_packet(120, 10));  // not connected yet
  EXPECT_TRUE(sink_.readings.empty());
}

TEST_F(ABleManager, ReconnectsAndResubscribesWhenTheDeviceAdvertisesAgain) {
  bluez_.add_device(kBp1, "BP7150");
  start({registered(kBp1)});
  connect(kBp1);
  manager_->on_properties_changed(dev_path(kBp1), std::string(kDeviceInterface), {{"Connected", false}});
  EXPECT_EQ(session(kBp1).state, SessionState::idle);
  EXPECT_EQ(bluez_.count("Connect " + dev_path(kBp1)), 1u) << "waits for the device to advertise";
  manager_->on_properties_changed(dev_path(kBp1), std::string(kDeviceInterface), {{"RSSI", std::int64_t{-50}}});
  EXPECT_EQ(bluez_.count("Connect " + dev_path(kBp1)), 2u);
  connect(kBp1);
  EXPECT_EQ(session(kBp1).state, SessionState::subscribed);
  EXPECT_EQ(session(kBp1).sessions, 2u);
  EXPECT_EQ(bluez_.count("StartNotify " + char_path(kBp1)), 2u);
}

TEST_F(ABleManager, RetriesAFailedConnectAfterABackoff) {
  bluez_.add_device(kBp1, "BP7150");
  start({registered(kBp1)});
  bluez_.pending_connect.at(dev_path(kBp1))(bluez_error("org.bluez.Error.InProgress"));
  EXPECT_EQ(session(kBp1).state, SessionState::backoff);
  manager_->tick(clock_.monotonic() + std::chrono::milliseconds(50));
  EXPECT_EQ(bluez_.count("Connect " + dev_path(kBp1)), 1u);
  clock_.advance(std::chrono::milliseconds(100));
  manager_->tick(clock_.monotonic());
  EXPECT_EQ(bluez_.count("Connect " + dev_path(kBp1)), 2u);
}

TEST_F(ABleManager, GivesUpOnAConnectionWhoseServicesNeverResolve) {
  bluez_.add_device(kBp1, "BP7150");
  start({registered(kBp1)});
  bluez_.pending_connect.at(dev_path(kBp1))(Result<void>{});
  EXPECT_EQ(session(kBp1).state, SessionState::resolving);
  clock_.advance(std::chrono::milliseconds(5000));
  manager_->tick(clock_.monotonic());
  EXPECT_EQ(session(kBp1).state, SessionState::backoff);
  EXPECT_TRUE(bluez_.called("Disconnect " + dev_path(kBp1)));
  EXPECT_NE(session(kBp1).last_error.find("services not resolved"), std::string::npos);
}

TEST_F(ABleManager, RetriesDiscoveryWhenTheAdapterIsBusy) {
  bluez_.discovery_error = bluez_error("org.bluez.Error.InProgress");
  start({});
  EXPECT_NE(manager_->status()["adapter"]["state"].get<std::string>().find("busy"), std::string::npos);
  ASSERT_TRUE(manager_->next_deadline());
  clock_.advance(std::chrono::milliseconds(100));
  manager_->tick(clock_.monotonic());
  EXPECT_EQ(bluez_.count("StartDiscovery"), 2u);
  EXPECT_EQ(manager_->status()["adapter"]["state"], "ready");
}

TEST_F(ABleManager, FindsTheAdapterAndDevicesAgainAfterBluetoothdRestarts) {
  bluez_.add_device(kBp1, "BP7150");
  start({registered(kBp1)});
  connect(kBp1);
  bluez_.present = false;
  manager_->on_bluez_owner(false);
  EXPECT_EQ(session(kBp1).state, SessionState::absent);
  EXPECT_EQ(manager_->status()["bluetoothd"], false);
  bluez_.present = true;
  manager_->on_bluez_owner(true);
  EXPECT_EQ(bluez_.count("RegisterAgent"), 2u) << "a new bluetoothd knows no agents";
  EXPECT_EQ(bluez_.count("Connect " + dev_path(kBp1)), 2u);
  connect(kBp1);
  EXPECT_EQ(session(kBp1).state, SessionState::subscribed);
}

TEST_F(ABleManager, WaitsForAMissingAdapterAndTakesItWhenItAppears) {
  bluez_.tree.clear();
  start({});
  EXPECT_EQ(manager_->status()["adapter"]["present"], false);
  bluez_.add_adapter();
  manager_->on_interfaces_added(kAdapter, bluez_.tree[kAdapter]);
  EXPECT_EQ(manager_->status()["adapter"]["present"], true);
  EXPECT_TRUE(bluez_.called("StartDiscovery"));
}

TEST_F(ABleManager, PairsTrustsAndRegistersForTheKitPatient) {
  bluez_.add_device(kBp1, "BP7150");
  start({});
  std::optional<Result<Registered>> result;
  manager_->pair(kBp1, "blood-pressure", 123456u, [&](Result<Registered> r) { result = std::move(r); });
  EXPECT_TRUE(bluez_.called("Pair " + dev_path(kBp1)));
  EXPECT_EQ(*manager_->agent().request_passkey(dev_path(kBp1)), 123456u);
  bluez_.pending_pair.at(dev_path(kBp1))(Result<void>{});
  ASSERT_TRUE(result && *result) << (result ? result->error().message : "no answer");
  EXPECT_TRUE(bluez_.called("Trusted " + dev_path(kBp1)));
  EXPECT_EQ((*result)->device.id, "ble-a4-c1-38-00-00-01");
  EXPECT_EQ((*result)->device.patient, "Patient/kit");
  EXPECT_EQ((*result)->device.model, "BP7150");
  ASSERT_EQ(sink_.devices.size(), 1u);
  EXPECT_EQ(sink_.devices[0].category, "blood-pressure");
  EXPECT_FALSE(manager_->agent().pairing(dev_path(kBp1)));
  EXPECT_TRUE(bluez_.called("Connect " + dev_path(kBp1)));
}

TEST_F(ABleManager, ReportsAFailedPairingAndAnUnknownAddress) {
  bluez_.add_device(kBp1, "BP7150");
  start({});
  std::optional<Result<Registered>> result;
  manager_->pair(kBp1, "blood-pressure", std::nullopt, [&](Result<Registered> r) { result = std::move(r); });
  bluez_.pending_pair.at(dev_path(kBp1))(bluez_error("org.bluez.Error.AuthenticationFailed"));
  ASSERT_TRUE(result);
  ASSERT_FALSE(*result);
  EXPECT_NE(result->error().message.find("AuthenticationFailed"), std::string::npos);
  EXPECT_TRUE(sink_.devices.empty());
  result.reset();
  manager_->pair("A4:C1:38:00:00:09", "blood-pressure", std::nullopt, [&](Result<Registered> r) { result = std::move(r); });
  ASSERT_TRUE(result && !*result);
  EXPECT_EQ(result->error().code, Errc::not_found);
}

TEST_F(ABleManager, AssignsAndForgetsThroughTheRegistry) {
  bluez_.add_device(kBp1, "BP7150");
  start({registered(kBp1)});
  auto a = manager_->assign(kBp1, "Patient/spouse");
  ASSERT_TRUE(a);
  EXPECT_EQ(sink_.devices.back().patient, "Patient/spouse");
  auto f = manager_->forget(kBp1);
  ASSERT_TRUE(f);
  EXPECT_TRUE(bluez_.called("RemoveDevice " + dev_path(kBp1)));
  EXPECT_EQ(sink_.removed, std::vector<std::string>{"ble-a4-c1-38-00-00-01"});
  EXPECT_TRUE(manager_->sessions().empty());
  EXPECT_FALSE(manager_->assign(kBp1, "Patient/x"));
}

}  // namespace
}  // namespace carehub::ble
