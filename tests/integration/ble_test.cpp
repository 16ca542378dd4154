// The BLE driver end to end: carehubd's "ble" source on a private D-Bus with python3-dbusmock's bluez5
// template and a simulated kit (tests/peers/ble/kit.py): pairing by carehubctl, notifications and
// indications from several devices of one model, disconnects, a bluetoothd restart, a carehubd
// restart, resent memory and a malformed packet.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <csignal>
#include <sstream>
#include <thread>

#include "tests/support/daemon_process.hpp"
#include "tests/support/dbus_mock.hpp"

namespace carehub::test {
namespace {

constexpr const char* kBp1 = "A4:C1:38:00:00:01";
constexpr const char* kBp2 = "A4:C1:38:00:00:02";  // the same model and name as kBp1
constexpr const char* kThermo = "A4:C1:38:00:00:03";

std::string le16(int v) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "%02x%02x", v & 0xFF, (v >> 8) & 0xFF);
  return buf;
}

// Date Time 2026-11-21 hh:mm:00 (the kit's devices keep UTC: device_time "utc").
std::string stamp(int hh, int mm) {
  char buf[15];
  std::snprintf(buf, sizeof buf, "ea070b15%02x%02x00", hh, mm);
  return buf;
}

// Blood Pressure Measurement in mmHg with time stamp and pulse (flags 0x06); SFLOAT exponent 0.
std::string bp(int sys, int dia, int mean, int hh, int mm, int pulse) {
  return "06" + le16(sys) + le16(dia) + le16(mean) + stamp(hh, mm) + le16(pulse);
}

// Temperature Measurement in Celsius with time stamp (flags 0x02); FLOAT tenths.
std::string temp(int tenths, int hh, int mm) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%02x%02x%02xff", tenths & 0xFF, (tenths >> 8) & 0xFF, (tenths >> 16) & 0xFF);
  return "02" + std::string(buf) + stamp(hh, mm);
}

std::string id_of(const std::string& address) {
  std::string out = "ble-";
  for (char c : address) out += c == ':' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Polls `pred` until it holds or the deadline passes: waiting for an observable state, never a guess.
template <class F>
bool eventually(F pred, std::chrono::seconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> rows;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

class BleKit : public ::testing::Test {
 protected:
  void SetUp() override {
    bus_ = std::make_unique<PrivateBus>(dir_.file("dbus.log"));
    // carehubd inherits it: sdbus-c++'s createSystemBusConnection() then opens the private bus.
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_->address().c_str(), 1);
    mock_ = std::make_unique<BluezMock>(*bus_, dir_.file("bluez-mock.log"));
    daemon_ = std::make_unique<DaemonProcess>(dir_, "");
    daemon_->config()["sources"] = {{"ble",
                                     {{"adapter", "hci0"},
                                      {"reconnect", {{"base_ms", 50}, {"cap_ms", 500}}},
                                      {"resolve_timeout_ms", 5000},
                                      {"device_time", "utc"}}}};
  }
  void TearDown() override {
    daemon_.reset();
    mock_.reset();
    bus_.reset();
    ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
  }

  void run_kit(const std::vector<std::string>& args) {
    auto r = kit(*bus_, args);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  }

  std::map<std::string, nlohmann::json> devices() {
    std::map<std::string, nlohmann::json> out;
    auto r = daemon_->ctl({"devices", "list", "--json"});
    if (r.exit_code != 0) return out;
    for (auto& d : json_lines(r.out)) out[d["address"].get<std::string>()] = d;
    return out;
  }
  // True once `address` is subscribed in its `sessions`-th session (1 = first connect).
  bool subscribed(const std::string& address, int sessions = 1) {
    auto all = devices();
    auto it = all.find(address);
    return it != all.end() && it->second["state"] == "subscribed" && it->second["sessions"].get<int>() >= sessions;
  }
  std::vector<nlohmann::json> readings(const std::string& device = {}) {
    auto r = daemon_->ctl({"measurements", "--json", "--limit", "1000"});
    std::vector<nlohmann::json> out;
    for (auto& row : json_lines(r.out)) {
      if (device.empty() || row["device"] == device) out.push_back(row);
    }
    return out;
  }
  void pair(const std::string& address, const std::string& category) {
    auto r = daemon_->ctl({"devices", "pair", address, "--category", category});
    ASSERT_EQ(r.exit_code, 0) << r.err << daemon_->log();
    ASSERT_NE(r.out.find("as " + id_of(address)), std::string::npos) << r.out;
  }

  TempDir dir_;
  std::unique_ptr<PrivateBus> bus_;
  std::unique_ptr<BluezMock> mock_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(BleKit, TwoMonitorsOfOneModelAndAThermometerAreEachStoredOnceAndAttributedToTheirDevice) {
  run_kit({"setup", std::string(kBp1) + ",BP7150,bp", std::string(kBp2) + ",BP7150,bp", std::string(kThermo) + ",TH-1,thermo"});
  ASSERT_TRUE(daemon_->start()) << daemon_->log();

  auto scan = daemon_->ctl({"devices", "scan", "--seconds", "1", "--json"});
  ASSERT_EQ(scan.exit_code, 0) << scan.err;
  EXPECT_EQ(json_lines(scan.out).size(), 3u) << scan.out;

  pair(kBp1, "blood-pressure");
  pair(kBp2, "blood-pressure");
  pair(kThermo, "thermometer");
  ASSERT_TRUE(eventually([&] { return subscribed(kBp1) && subscribed(kBp2) && subscribed(kThermo); })) << daemon_->log();
  // Subscribed means StartNotify reached BlueZ: the kit sees Notifying on each characteristic.
  run_kit({"wait-notifying", kBp1, "2A35"});
  run_kit({"wait-notifying", kThermo, "2A1C"});
  // The hub set the monitors' clocks (Current Time, 10 bytes).
  EXPECT_EQ(kit(*bus_, {"written", kBp1, "2A2B"}).out.size(), 21u);

  run_kit({"notify", kBp1, "2A35", bp(120, 80, 93, 10, 0, 72)});
  run_kit({"notify", kBp2, "2A35", bp(141, 91, 108, 10, 0, 66)});  // same time, other monitor
  run_kit({"notify", kThermo, "2A1C", temp(372, 10, 1)});
  ASSERT_TRUE(eventually([&] { return readings().size() == 3; })) << daemon_->log();

  auto bp1 = readings(id_of(kBp1));
  auto bp2 = readings(id_of(kBp2));
  auto th = readings(id_of(kThermo));
  ASSERT_EQ(bp1.size(), 1u);
  ASSERT_EQ(bp2.size(), 1u);
  ASSERT_EQ(th.size(), 1u);
  EXPECT_EQ(bp1[0]["values"]["systolic"], 120.0);
  EXPECT_EQ(bp1[0]["values"]["pulse"], 72.0);
  EXPECT_EQ(bp1[0]["time"], "2026-11-21T10:00:00Z");
  EXPECT_EQ(bp2[0]["values"]["systolic"], 141.0);
  EXPECT_EQ(th[0]["kind"], "body-temperature");
  EXPECT_DOUBLE_EQ(th[0]["values"]["value"].get<double>(), 37.2);
  EXPECT_EQ(th[0]["time"], "2026-11-21T10:01:00Z");

  // Resent memory: the same record again is one reading; an older one never reaches the store.
  run_kit({"notify", kBp1, "2A35", bp(120, 80, 93, 10, 0, 72)});
  run_kit({"notify", kBp1, "2A35", bp(150, 95, 113, 9, 0, 70)});
  ASSERT_TRUE(eventually([&] { return devices()[kBp1]["resent_dropped"] == 1; })) << daemon_->log();
  run_kit({"notify", kBp1, "2A35", bp(122, 81, 95, 10, 30, 71)});
  ASSERT_TRUE(eventually([&] { return readings(id_of(kBp1)).size() == 2; })) << daemon_->log();

  // A malformed indication is counted against its device and makes no reading.
  run_kit({"notify", kBp2, "2A35", "0678"});
  ASSERT_TRUE(eventually([&] { return devices()[kBp2]["malformed"] == 1; })) << daemon_->log();
  auto status = nlohmann::json::parse(daemon_->ctl({"status", "--json"}).out);
  EXPECT_EQ(status["counters"]["ble_malformed_packets"], 1);
  EXPECT_EQ(status["sources"]["ble"]["devices"][kBp2]["malformed"], 1);
  EXPECT_EQ(readings().size(), 4u);
  EXPECT_EQ(devices()[kBp1]["malformed"], 0);

  // Every reading is the kit patient's and names its own device.
  for (const auto& r : readings()) EXPECT_EQ(r["source"], "ble") << r.dump();
}

TEST_F(BleKit, ReconnectsAndARestartedBluezOrCarehubdLoseNothing) {
  run_kit({"setup", std::string(kBp1) + ",BP7150,bp", std::string(kThermo) + ",TH-1,thermo"});
  ASSERT_TRUE(daemon_->start()) << daemon_->log();
  pair(kBp1, "blood-pressure");
  pair(kThermo, "thermometer");
  ASSERT_TRUE(eventually([&] { return subscribed(kBp1) && subscribed(kThermo); })) << daemon_->log();
  run_kit({"notify", kBp1, "2A35", bp(120, 80, 93, 10, 0, 72)});
  ASSERT_TRUE(eventually([&] { return readings(id_of(kBp1)).size() == 1; })) << daemon_->log();

  // The monitor disconnects after sending, then advertises again: a new session, subscribed again.
  run_kit({"disconnect", kBp1});
  ASSERT_TRUE(eventually([&] { return devices()[kBp1]["state"] == "idle"; })) << daemon_->log();
  run_kit({"advertise", kBp1, "-52"});
  ASSERT_TRUE(eventually([&] { return subscribed(kBp1, 2); })) << daemon_->log();
  run_kit({"notify", kBp1, "2A35", bp(120, 80, 93, 10, 0, 72)});  // its memory, resent on reconnect
  run_kit({"notify", kBp1, "2A35", bp(125, 82, 96, 10, 10, 70)});
  ASSERT_TRUE(eventually([&] { return readings(id_of(kBp1)).size() == 2; })) << daemon_->log();

  // bluetoothd restarts: org.bluez leaves the bus and comes back with the bonded devices.
  mock_->stop();
  ASSERT_TRUE(eventually([&] {
    auto s = nlohmann::json::parse(daemon_->ctl({"status", "--json"}).out);
    return s["sources"]["ble"]["bluetoothd"] == false;
  })) << daemon_->log();
  mock_ = std::make_unique<BluezMock>(*bus_, dir_.file("bluez-mock-2.log"));
  run_kit({"setup", "--paired", std::string(kBp1) + ",BP7150,bp", std::string(kThermo) + ",TH-1,thermo"});
  ASSERT_TRUE(eventually([&] { return subscribed(kBp1, 3) && subscribed(kThermo, 2); })) << daemon_->log();
  run_kit({"notify", kBp1, "2A35", bp(131, 85, 100, 10, 20, 69)});
  run_kit({"notify", kThermo, "2A1C", temp(369, 10, 21)});
  ASSERT_TRUE(eventually([&] { return readings(id_of(kBp1)).size() == 3 && readings(id_of(kThermo)).size() == 1; }))
      << daemon_->log();

  // carehubd restarts: the registry and the newest stored record per device survive it.
  daemon_->signal(SIGTERM);
  ASSERT_EQ(daemon_->wait_exit(), 0);
  ASSERT_TRUE(daemon_->start()) << daemon_->log();
  ASSERT_TRUE(eventually([&] { return subscribed(kBp1) && subscribed(kThermo); })) << daemon_->log();
  EXPECT_EQ(devices()[kBp1]["newest_record"], "2026-11-21T10:20:00Z");
  run_kit({"notify", kBp1, "2A35", bp(120, 80, 93, 10, 0, 72)});  // an old record, resent
  ASSERT_TRUE(eventually([&] { return devices()[kBp1]["resent_dropped"] == 1; })) << daemon_->log();
  run_kit({"notify", kBp1, "2A35", bp(118, 79, 92, 10, 40, 68)});
  ASSERT_TRUE(eventually([&] { return readings(id_of(kBp1)).size() == 4; })) << daemon_->log();
  for (const auto& r : readings(id_of(kBp1))) EXPECT_EQ(r["device"], id_of(kBp1));
}

TEST_F(BleKit, ForgetAndAssignChangeTheRegistry) {
  run_kit({"setup", std::string(kBp1) + ",BP7150,bp", std::string(kBp2) + ",BP7150,bp"});
  ASSERT_TRUE(daemon_->start()) << daemon_->log();
  pair(kBp1, "blood-pressure");
  pair(kBp2, "blood-pressure");
  ASSERT_TRUE(eventually([&] { return subscribed(kBp1) && subscribed(kBp2); })) << daemon_->log();

  auto assigned = daemon_->ctl({"devices", "assign", kBp2, "--patient", "Patient/spouse"});
  ASSERT_EQ(assigned.exit_code, 0) << assigned.err;
  run_kit({"notify", kBp2, "2A35", bp(130, 85, 100, 11, 0, 60)});
  ASSERT_TRUE(eventually([&] { return readings(id_of(kBp2)).size() == 1; })) << daemon_->log();
  EXPECT_EQ(devices()[kBp2]["patient"], "Patient/spouse");

  auto forgotten = daemon_->ctl({"devices", "forget", kBp1});
  ASSERT_EQ(forgotten.exit_code, 0) << forgotten.err;
  EXPECT_EQ(devices().count(kBp1), 0u);
  auto bad = daemon_->ctl({"devices", "pair", kBp1, "--category", "toaster"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("/args/category"), std::string::npos) << bad.err;

  // The audit trail (issue 18): each of the technician's actions, with its outcome, newest first.
  auto trail = daemon_->ctl({"audit", "--action", "devices.", "--json"});
  ASSERT_EQ(trail.exit_code, 0) << trail.err;
  std::vector<std::string> actions;
  std::istringstream lines(trail.out);
  for (std::string line; std::getline(lines, line);) {
    const auto row = nlohmann::json::parse(line);
    actions.push_back(row["action"].get<std::string>() + " " + row["outcome"].get<std::string>());
  }
  ASSERT_GE(actions.size(), 3u) << trail.out;
  EXPECT_EQ(actions[0], "devices.pair refused") << trail.out;
  EXPECT_EQ(actions[1], "devices.forget success") << trail.out;
  EXPECT_EQ(actions[2], "devices.assign success") << trail.out;
}

}  // namespace
}  // namespace carehub::test
