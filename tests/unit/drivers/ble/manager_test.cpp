// The BLE logic behind the seam: a fake BlueZ records calls and lets each test decide when replies and
// signals arrive; a fake sink records what would be stored.
#include "drivers/ble/manager.hpp"

#include <gtest/gtest.h>

#include "drivers/ble/address.hpp"

namespace carehub::ble {
namespace {

constexpr const char* kAdapter = "/org/bluez/hci0";
constexpr const char* kBp1 = "A4:C1:38:00:00:01";
constexpr const char* kBp2 = "A4:C1:38:00:00:02";

std::string dev_path(const std::string& address) {
  std::string p = std::string(kAdapter) + "/dev_" + address;
  for (auto& c : p) c = c == ':' ? '_' : c;
  return p;
}
std::string char_path(const std::string& address) { return dev_path(address) + "/service0010/char0011"; }
std::string cts_path(const std::string& address) { return dev_path(address) + "/service0010/char0012"; }

Error bluez_error(const std::string& name) { return make_error(Errc::io, name + ": test"); }

class FakeBluez final : public Bluez {
 public:
  Result<void> subscribe(BluezEvents& events) override {
    calls.push_back("subscribe");
    events_ = &events;
    return {};
  }
  void dispatch() override {}
  void wait(int, std::chrono::milliseconds) override {}
  bool bus_ok() const override { return true; }
  bool bluez_present() override { return present; }
  Result<ObjectTree> managed_objects() override { return tree; }
  Result<void> set_discovery_filter(const std::string&, const DiscoveryFilter& f) override {
    calls.push_back("SetDiscoveryFilter " + f.transport);
    return {};
  }
  Result<void> start_discovery(const std::string&) override {
    calls.push_back("StartDiscovery");
    if (discovery_error) {
      auto e = *discovery_error;
      discovery_error.reset();
      return e;
    }
    return {};
  }
  Result<void> stop_discovery(const std::string&) override { return {}; }
  Result<void> set_powered(const std::string&, bool) override { return {}; }
  Result<void> remove_device(const std::string&, const std::string& d) override {
    calls.push_back("RemoveDevice " + d);
    return {};
  }
  void connect(const std::string& d, Done done) override {
    calls.push_back("Connect " + d);
    pending_connect[d] = std::move(done);
  }
  void pair(const std::string& d, Done done) override {
    calls.push_back("Pair " + d);
    pending_pair[d] = std::move(done);
  }
  Result<void> disconnect(const std::string& d) override {
    calls.push_back("Disconnect " + d);
    return {};
  }
  Result<void> set_trusted(const std::string& d, bool) override {
    calls.push_back("Trusted " + d);
    return {};
  }
  Result<void> start_notify(const std::string& c) override {
    calls.push_back("StartNotify " + c);
    return {};
  }
  Result<void> write_value(const std::string& c, const std::vector<std::uint8_t>& v) override {
    calls.push_back("WriteValue " + c);
    written[c] = v;
    return {};
  }
  Result<std::vector<std::uint8_t>> read_value(const std::string&) override { return std::vector<std::uint8_t>{}; }
  Result<void> register_agent(AgentHandler&) override {
    calls.push_back("RegisterAgent");
    return {};
  }

  void add_adapter() {
    tree[kAdapter][std::string(kAdapterInterface)] = {{"Powered", true}, {"Discovering", false}};
  }
  void add_device(const std::string& address, const std::string& name, bool with_cts = true) {
    tree[dev_path(address)][std::string(kDeviceInterface)] = {
        {"Address", address}, {"Name", name}, {"Connected", false}, {"ServicesResolved", false}, {"Paired", false}};
    tree[char_path(address)][std::string(kCharacteristicInterface)] = {
        {"UUID", uuid128(0x2A35)}, {"Flags", std::vector<std::string>{"indicate"}}};
    if (with_cts) {
      tree[cts_path(address)][std::string(kCharacteristicInterface)] = {
          {"UUID", uuid128(0x2A2B)}, {"Flags", std::vector<std::string>{"read", "write"}}};
    }
  }
  bool called(const std::string& call) const { return std::find(calls.begin(), calls.end(), call) != calls.end(); }
  std::size_t count(const std::string& call) const { return static_cast<std::size_t>(std::count(calls.begin(), calls.end(), call)); }

  BluezEvents* events_ = nullptr;
  bool present = true;
  ObjectTree tree;
  std::vector<std::string> calls;
  std::optional<Error> discovery_error;
  std::map<std::string, Done> pending_connect, pending_pair;
  std::map<std::string, std::vector<std::uint8_t>> written;
};

template <class T>
std::future<Result<T>> ready(Result<T> v) {
  std::promise<Result<T>> p;
  p.set_value(std::move(v));
  return p.get_future();
}

class FakeSink final : public ReadingSink {
 public:
  std::future<Result<IngestResult>> ingest(std::vector<Reading> r) override {
    IngestResult out;
    for (auto& x : r) {
      out.uids.push_back("uid");
      out.status.push_back(IngestStatus::stored);
      out.errors.emplace_back();
      readings.push_back(std::move(x));
    }
    return ready<IngestResult>(std::move(out));
  }
  std::future<Result<void>> upsert_device(Device d) override {
    devices.push_back(std::move(d));
    return ready<void>({});
  }
  std::future<Result<bool>> remove_device(std::string id) override {
    removed.push_back(id);
    return ready<bool>(true);
  }
  std::vector<Reading> readings;
  std::vector<Device> devices;
  std::vector<std::string> removed;
};

Device registered(const std::string& address, const std::string& patient = "Patient/kit") {
  Device d;
  d.id = device_id(address);
  d.address = address;
  d.name = d.model = "BP7150";
  d.category = "blood-pressure";
  d.patient = patient;
  return d;
}

// flags 0x02: time stamp, 2026-11-21 hh:00:00 UTC, mmHg.
std::vector<std::uint8_t> bp_packet(std::uint8_t sys, std::uint8_t hour) {
  return {0x02, sys, 0x00, 80, 0x00, 93, 0x00, 0xEA, 0x07, 11, 21, hour, 0, 0};
}

class ABleManager : public ::testing::Test {
 protected:
  ABleManager()
      : clock_(*parse_rfc3339("2026-11-21T12:00:00Z")),
        log_(LogLevel::debug, [this](LogLevel, std::string_view, std::string_view m) { lines_.emplace_back(m); }),
        context_{sink_, clock_, log_, counters_, "hub", "Patient/kit"} {
    config_.backoff_base = std::chrono::milliseconds(100);
    config_.backoff_cap = std::chrono::milliseconds(1000);
    config_.resolve_timeout = std::chrono::milliseconds(5000);
    config_.time.device_time_utc = true;
    bluez_.add_adapter();
  }

  void start(const std::vector<Device>& registry) {
    manager_ = std::make_unique<Manager>(bluez_, config_, context_);
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

TEST_F(ABleManager, DropsRecordsOlderThanTheNewestStoredAndPersistsTheMark) {
  bluez_.add_device(kBp1, "BP7150");
  auto dev = registered(kBp1);
  dev.newest_record = *parse_rfc3339("2026-11-21T10:00:00Z");  // from the registry: survived a restart
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
