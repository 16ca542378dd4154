// Issue 14 on the BLE mock kit: every reading on the right patient. A monitor with two users (user 1
// bound to the patient, user 2 unbound), a second-hand monitor whose memory holds 30 records from before
// the pairing, a User Data Service monitor that the hub consents to, and the Device Information Service
// in the registry. carehubd runs for real against python3-dbusmock's bluez5 template (tests/peers/ble/kit.py)
// and the local FHIR server, with the HF5 rules.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/daemon_process.hpp"
#include "tests/support/dbus_mock.hpp"
#include "tests/support/fhir_peer.hpp"

namespace carehub::test {
namespace {

constexpr const char* kFamily = "A4:C1:38:00:01:01";      // two users
constexpr const char* kSecondHand = "A4:C1:38:00:01:02";  // 30 records from its previous owner
constexpr const char* kUds = "A4:C1:38:00:01:03";         // User Data Service
constexpr const char* kPatient = "Patient/test-patient";
constexpr const char* kSpouse = "Patient/spouse";

std::string le16(int v) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "%02x%02x", v & 0xFF, (v >> 8) & 0xFF);
  return buf;
}

// Date Time of a UTC instant (the kit's devices keep UTC: device_time "utc").
std::string stamp(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[15];
  std::snprintf(buf, sizeof buf, "%s%02x%02x%02x%02x%02x", le16(tm.tm_year + 1900).c_str(), tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}
std::time_t minutes_ago(int m) { return std::time(nullptr) - m * 60; }
// After the pairing that just happened: a few seconds ahead is within every tolerance (device clocks run
// fast by that much), and keeps readings taken "now" apart by whole seconds.
std::time_t seconds_from_now(int s) { return std::time(nullptr) + s; }

// Blood Pressure Measurement, mmHg, time stamp and pulse; with a User ID (flags bit 3) when user >= 0.
std::string bp(int sys, int dia, std::time_t t, int user = -1) {
  char u[3];
  std::snprintf(u, sizeof u, "%02x", user & 0xFF);
  return std::string(user >= 0 ? "0e" : "06") + le16(sys) + le16(dia) + le16((sys + 2 * dia) / 3) + stamp(t) + le16(70) +
         (user >= 0 ? u : "");
}

std::string id_of(const std::string& address) {
  std::string out = "ble-";
  for (char c : address) out += c == ':' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

template <class F>
bool eventually(F pred, std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling observable state with a deadline
  }
  return pred();
}

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> rows;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '{') rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

class BleUsers : public ::testing::Test {
 protected:
  void SetUp() override {
    peer_ = std::make_unique<FhirPeer>(dir_.file("fhir.log"));
    for (const char* p : {"test-patient", "spouse"}) peer_->put(std::string("Patient/") + p, {{"resourceType", "Patient"}, {"id", p}});
    bus_ = std::make_unique<PrivateBus>(dir_.file("dbus.log"));
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", bus_->address().c_str(), 1);
    mock_ = std::make_unique<BluezMock>(*bus_, dir_.file("bluez-mock.log"));
    daemon_ = std::make_unique<DaemonProcess>(dir_, peer_->base_url());
    daemon_->config()["rules"] = {{"file", (source_dir() / "config/rules/hf5.json").string()}};
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
  void notify(const std::string& address, const std::string& hex) { run_kit({"notify", address, "2A35", hex}); }
  std::map<std::string, nlohmann::json> devices() {
    std::map<std::string, nlohmann::json> out;
    auto r = daemon_->ctl({"devices", "list", "--json"});
    for (auto& d : json_lines(r.out)) {
      if (d.contains("address")) out[d["address"].get<std::string>()] = d;
    }
    return out;
  }
  bool subscribed(const std::string& address) {
    auto all = devices();
    auto it = all.find(address);
    return it != all.end() && it->second["state"] == "subscribed";
  }
  std::vector<nlohmann::json> unassigned() {
    return json_lines(daemon_->ctl({"readings", "unassigned", "--json", "--limit", "1000"}).out);
  }
  std::vector<nlohmann::json> measurements(const std::string& device) {
    std::vector<nlohmann::json> out;
    for (auto& row : json_lines(daemon_->ctl({"measurements", "--json", "--limit", "1000"}).out)) {
      if (row["device"] == device) out.push_back(row);
    }
    return out;
  }
  void pair(const std::vector<std::string>& extra) {
    std::vector<std::string> args{"devices", "pair"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = daemon_->ctl(args);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out << daemon_->log();
  }
  void sync() {
    auto r = daemon_->ctl({"sync", "now", "--wait", "30"});
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out << daemon_->log();
  }
  // Observations on the server whose subject is `patient`.
  std::vector<nlohmann::json> observations_of(const std::string& patient) {
    std::vector<nlohmann::json> out;
    auto bundle = peer_->get("Observation?subject=" + patient + "&_count=1000");
    for (const auto& e : bundle.value("entry", nlohmann::json::array())) out.push_back(e["resource"]);
    return out;
  }
  // The audit trail on the server (issue 18): the action (AuditEvent.subtype) of each AuditEvent whose
  // agent is this test's user, as the control socket's SO_PEERCRED names it.
  std::multiset<std::string> audited_actions_on_server() {
    std::multiset<std::string> out;
    const auto me = "uid " + std::to_string(::getuid());
    for (const auto& e : peer_->get("AuditEvent?_count=1000").value("entry", nlohmann::json::array())) {
      const auto& r = e["resource"];
      if (r["agent"][0]["name"].get<std::string>().find(me) != std::string::npos) out.insert(r["subtype"][0]["code"]);
    }
    return out;
  }
  static bool has_systolic(const std::vector<nlohmann::json>& obs, double systolic) {
    for (const auto& o : obs) {
      for (const auto& c : o.value("component", nlohmann::json::array())) {
        if (c["code"]["coding"][0]["code"] == "8480-6" && c["valueQuantity"]["value"] == systolic) return true;
      }
    }
    return false;
  }

  TempDir dir_;
  std::unique_ptr<FhirPeer> peer_;
  std::unique_ptr<PrivateBus> bus_;
  std::unique_ptr<BluezMock> mock_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(BleUsers, TheSpousesExtremeReadingsOnUserTwoRaiseNothingForThePatientUntilAssignedToTheSpouse) {
  run_kit({"setup", std::string(kFamily) + ",BPM-2U,bp,dis"});
  ASSERT_TRUE(daemon_->start()) << daemon_->log();
  pair({kFamily, "--category", "blood-pressure", "--user", "1", "--patient", kPatient});
  ASSERT_TRUE(eventually([&] { return subscribed(kFamily); })) << daemon_->log();
  run_kit({"wait-notifying", kFamily, "2A35"});

  // The Device Information Service and Battery1 reached the registry.
  auto dev = devices()[kFamily];
  EXPECT_EQ(dev["manufacturer"], "CareHub Kit Ltd") << dev.dump();
  EXPECT_EQ(dev["model"], "BPM-2U");
  EXPECT_EQ(dev["serial"], "SN-0001");
  EXPECT_EQ(dev["system_id"], "0807060504030201") << "System ID bytes read backwards: OUI first (EUI-64)";
  EXPECT_EQ(dev["firmware"], "1.0.3");
  EXPECT_EQ(dev["battery"], 87);

  // User 1 (the patient) measures normally; user 2 (the spouse) twice extreme, the repeat within HF5's window.
  // Measured after the pairing (readings from before it would be unassigned whatever their user).
  notify(kFamily, bp(128, 82, seconds_from_now(1), 1));
  notify(kFamily, bp(212, 131, seconds_from_now(30), 2));
  notify(kFamily, bp(215, 133, seconds_from_now(90), 2));
  ASSERT_TRUE(eventually([&] { return unassigned().size() == 2; }))
      << daemon_->ctl({"measurements", "--json"}).out << daemon_->log();
  const auto waiting = unassigned();
  ASSERT_EQ(waiting.size(), 2u) << daemon_->log();
  std::vector<std::string> uids;
  for (const auto& r : waiting) {
    EXPECT_EQ(r["user"], 2) << r.dump();
    EXPECT_EQ(r["device"], id_of(kFamily));
    uids.push_back(r["uid"].get<std::string>());
  }
  auto alerts = daemon_->ctl({"alerts", "--json"});
  EXPECT_TRUE(json_lines(alerts.out).empty()) << "user 2's readings opened an episode: " << alerts.out;
  auto status = daemon_->status();
  EXPECT_EQ(status["buffer"]["unassigned"], 2) << status.dump();

  sync();
  auto patient = observations_of(kPatient);
  EXPECT_TRUE(has_systolic(patient, 128)) << "user 1's reading is the patient's";
  EXPECT_FALSE(has_systolic(patient, 212));
  EXPECT_FALSE(has_systolic(patient, 215));
  EXPECT_TRUE(observations_of(kSpouse).empty());

  // The technician decides: they are the spouse's.
  std::vector<std::string> assign{"readings", "assign"};
  assign.insert(assign.end(), uids.begin(), uids.end());
  assign.insert(assign.end(), {"--patient", kSpouse});
  auto assigned = daemon_->ctl(assign);
  ASSERT_EQ(assigned.exit_code, 0) << assigned.err << assigned.out;
  EXPECT_TRUE(unassigned().empty());
  sync();
  auto spouse = observations_of(kSpouse);
  EXPECT_TRUE(has_systolic(spouse, 212));
  EXPECT_TRUE(has_systolic(spouse, 215));
  EXPECT_FALSE(has_systolic(observations_of(kPatient), 212)) << "never under the patient";
  const auto actions = audited_actions_on_server();
  EXPECT_EQ(actions.count("devices.pair"), 1u) << "the pairing with its user binding, on the server";
  EXPECT_EQ(actions.count("readings.assign"), 1u) << "the technician's assignment, on the server";
}

TEST_F(BleUsers, ASecondHandMonitorsThirtyOldRecordsAreAttributedToNobodyUntilAssigned) {
  run_kit({"setup", std::string(kSecondHand) + ",BP7150,bp"});
  ASSERT_TRUE(daemon_->start()) << daemon_->log();
  pair({kSecondHand, "--category", "blood-pressure"});
  ASSERT_TRUE(eventually([&] { return subscribed(kSecondHand); })) << daemon_->log();
  run_kit({"wait-notifying", kSecondHand, "2A35"});

  // Its memory: the previous owner's 30 readings, one a day up to two days before the pairing.
  for (int i = 0; i < 30; ++i) notify(kSecondHand, bp(140 + i, 90, minutes_ago((32 - i) * 24 * 60)));
  ASSERT_TRUE(eventually([&] { return unassigned().size() == 30; })) << daemon_->log();
  // One list: begin() and end() of two separate answers would walk from one into the other.
  const auto old_records = measurements(id_of(kSecondHand));
  EXPECT_TRUE(std::none_of(old_records.begin(), old_records.end(),
                           [](const nlohmann::json& m) { return m.value("patient", "") == kPatient; }));
  // A measurement taken now is the patient's.
  notify(kSecondHand, bp(121, 79, seconds_from_now(1)));
  sync();
  auto patient = observations_of(kPatient);
  // Blood pressure panels only: the cuff's pulse is an Observation of its own (derivedFrom the panel).
  const auto panels = std::count_if(patient.begin(), patient.end(),
                                    [](const nlohmann::json& o) { return o["code"]["coding"][0]["code"] == "85354-9"; });
  ASSERT_EQ(panels, 1) << "only the reading taken after the pairing";
  EXPECT_TRUE(has_systolic(patient, 121));
  EXPECT_EQ(unassigned().size(), 30u);
  auto alerts = daemon_->ctl({"alerts", "--json"});
  EXPECT_TRUE(json_lines(alerts.out).empty()) << alerts.out;

  // Reconnecting resends the memory: still 30 waiting, none attributed, none twice.
  run_kit({"disconnect", kSecondHand});
  run_kit({"advertise", kSecondHand, "-50"});
  ASSERT_TRUE(eventually([&] { return devices()[kSecondHand]["sessions"].get<int>() >= 2 && subscribed(kSecondHand); }))
      << daemon_->log();
  for (int i = 0; i < 30; ++i) notify(kSecondHand, bp(140 + i, 90, minutes_ago((32 - i) * 24 * 60)));
  ASSERT_TRUE(eventually([&] { return devices()[kSecondHand]["resent_dropped"].get<int>() >= 30; })) << daemon_->log();
  EXPECT_EQ(unassigned().size(), 30u);

  // The technician decides: the previous owner's, kept as nobody's.
  std::vector<std::string> discard{"readings", "discard"};
  for (const auto& r : unassigned()) discard.push_back(r["uid"].get<std::string>());
  discard.insert(discard.end(), {"--reason", "previous owner's memory"});
  auto discarded = daemon_->ctl(discard);
  ASSERT_EQ(discarded.exit_code, 0) << discarded.err << discarded.out;
  EXPECT_TRUE(unassigned().empty());
  EXPECT_EQ(daemon_->status()["buffer"]["discarded"], 30);
  sync();
  const auto after = observations_of(kPatient);
  EXPECT_EQ(std::count_if(after.begin(), after.end(), [](const nlohmann::json& o) { return o["code"]["coding"][0]["code"] == "85354-9"; }), 1);
  const auto actions = audited_actions_on_server();
  EXPECT_EQ(actions.count("devices.pair"), 1u) << "the pairing, on the server";
  EXPECT_EQ(actions.count("readings.discard"), 1u) << "the technician's discard, on the server";

  // Discarded is still stored: the memory resent once more is recognised, not unassigned again.
  run_kit({"disconnect", kSecondHand});
  run_kit({"advertise", kSecondHand, "-50"});
  ASSERT_TRUE(eventually([&] { return devices()[kSecondHand]["sessions"].get<int>() >= 3 && subscribed(kSecondHand); }))
      << daemon_->log();
  for (int i = 0; i < 30; ++i) notify(kSecondHand, bp(140 + i, 90, minutes_ago((32 - i) * 24 * 60)));
  ASSERT_TRUE(eventually([&] { return devices()[kSecondHand]["resent_dropped"].get<int>() >= 60; })) << daemon_->log();
  EXPECT_TRUE(unassigned().empty());
}

TEST_F(BleUsers, AUserDataMonitorIsConsentedOnConnectionAndItsRecordsAreThatUsers) {
  // User 1 registered on the monitor with code 1234 before the hub came; the configuration gives the code.
  run_kit({"setup", std::string(kUds) + ",UDS-BP,bp,uds=1:1234"});
  daemon_->config()["sources"]["ble"]["devices"] = {{kUds, {{"consent", {{"user", 1}, {"code", 1234}}}}}};
  ASSERT_TRUE(daemon_->start()) << daemon_->log();
  pair({kUds, "--category", "blood-pressure", "--user", "1", "--patient", kPatient});
  ASSERT_TRUE(eventually([&] { return subscribed(kUds); })) << daemon_->log();
  ASSERT_TRUE(eventually([&] { return kit(*bus_, {"written", kUds, "2A9F"}).out == "0201d204\n"; })) << daemon_->log();
  // No User ID in the measurement: the consented user's.
  notify(kUds, bp(133, 84, seconds_from_now(1)));
  ASSERT_TRUE(eventually([&] { return measurements(id_of(kUds)).size() == 1; })) << daemon_->log();
  EXPECT_TRUE(unassigned().empty());
  sync();
  EXPECT_TRUE(has_systolic(observations_of(kPatient), 133));
}

TEST_F(BleUsers, ATechnicianRegistersTheSecondUserOfAUserDataMonitorFromTheHub) {
  run_kit({"setup", std::string(kUds) + ",UDS-BP,bp,uds=1:1234"});
  ASSERT_TRUE(daemon_->start()) << daemon_->log();
  pair({kUds, "--category", "blood-pressure"});
  ASSERT_TRUE(eventually([&] { return subscribed(kUds); })) << daemon_->log();
  auto reg = daemon_->ctl({"devices", "users", kUds, "register", "--consent", "5678", "--patient", kSpouse});
  ASSERT_EQ(reg.exit_code, 0) << reg.err << reg.out << daemon_->log();
  EXPECT_NE(reg.out.find("registered and consented user 2 on " + id_of(kUds)), std::string::npos) << reg.out;
  ASSERT_TRUE(eventually([&] { return kit(*bus_, {"written", kUds, "2A9F"}).out == "02022e16\n"; })) << "consented as user 2";
  // The device now shows user 2's data: a record without a User ID is user 2's, so the spouse's.
  notify(kUds, bp(126, 77, seconds_from_now(2)));
  sync();
  EXPECT_TRUE(has_systolic(observations_of(kSpouse), 126)) << daemon_->log();
  EXPECT_FALSE(has_systolic(observations_of(kPatient), 126));
  auto wrong = daemon_->ctl({"devices", "users", kUds, "consent", "--user", "1", "--consent", "9999"});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("user_not_authorized"), std::string::npos) << wrong.err;
}

}  // namespace
}  // namespace carehub::test
