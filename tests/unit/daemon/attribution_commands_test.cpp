// carehubd's attribution commands over the real control socket (issue 14): a user slot bound through
// `devices.assign --user`, a reading nobody can claim stored unassigned and shown in status, the list, the
// metric; assigned by uid (then judged by the patient's HF5 as if it had arrived then) or discarded with
// who and why; every bad argument refused with its JSON path and counted. In-process daemon, ManualClock.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/clock.hpp"
#include "store/store.hpp"
#include "daemon/control_client.hpp"
#include "daemon/daemon.hpp"
#include "tests/support/buffer_key.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::daemon {
namespace {

constexpr const char* kPatient = "Patient/anna";
constexpr const char* kSpouse = "Patient/ben";
constexpr const char* kDevice = "ble-aa-bb-cc-dd-ee-f2";
constexpr const char* kAddress = "AA:BB:CC:DD:EE:F2";

class AttributionCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions store;
    store.path = dir_.file("buffer.db");
    {
      // A two-user monitor already paired at the address level, as `devices pair` leaves it.
      auto w = StoreWriter::open(store);
      ASSERT_TRUE(w) << w.error().message;
      Device d;
      d.id = kDevice;
      d.address = kAddress;
      d.model = "BP7000";
      d.category = "blood-pressure";
      ASSERT_TRUE((*w)->upsert_device(d));
      seed(**w);
    }
    const nlohmann::json config = {
        {"hub", {{"id", "hub-attr-1"}, {"patient", kPatient}}},
        {"store", {{"path", store.path}, {"key_file", test::write_buffer_key(dir_)}}},
        {"control", {{"socket", dir_.file("ctl.sock")}, {"group", ""}}},
        {"rules", {{"file", (test::source_dir() / "config/rules/hf5.json").string()}}},
        {"metrics", {{"textfile", dir_.file("carehub.prom")}, {"interval_s", 30}}},
    };
    auto c = parse_config(config.dump(), dir_.file("carehubd.json"));
    ASSERT_TRUE(c) << c.error().message;
    auto d = Daemon::start(std::move(*c), log_, clock_);
    ASSERT_TRUE(d) << d.error().message;
    daemon_ = std::move(*d);
  }

  // What the store holds before carehubd starts, beyond the paired monitor.
  virtual void seed(StoreWriter&) {}

  Result<nlohmann::json> call(const std::string& cmd, const nlohmann::json& args = nlohmann::json::object()) {
    auto c = ControlClient::connect(dir_.file("ctl.sock"));
    if (!c) return c.error();
    return c->call(cmd, args);
  }

  // A blood pressure from the monitor's memory, as the BLE driver delivers it (no user slot named).
  std::string add_bp(double systolic, double diastolic, TimePoint t) {
    const nlohmann::json reading = {{"kind", "blood-pressure"}, {"device", kDevice}, {"source", "ble"},
                                    {"time", format_rfc3339(t)}, {"values", {{"systolic", systolic}, {"diastolic", diastolic}}}};
    auto r = call("measure.add", {{"readings", {reading}}});
    EXPECT_TRUE(r) << r.error().message;
    if (!r) return {};
    last_status_ = (*r)["results"][0].value("status", std::string{});
    return (*r)["results"][0].value("uid", std::string{});
  }

  nlohmann::json status() {
    auto s = call("status");
    EXPECT_TRUE(s) << s.error().message;
    return s ? *s : nlohmann::json{};
  }

  test::TempDir dir_;
  ManualClock clock_{*parse_rfc3339("2026-11-21T10:00:00Z")};
  Logger log_{LogLevel::error};
  std::unique_ptr<Daemon> daemon_;
  std::string last_status_;  // of the newest add_bp
};

TEST_F(AttributionCommands, AnUnclaimedReadingWaitsUnjudgedUntilAssignedThenHF5JudgesIt) {
  auto bound = call("devices.assign", {{"device", kAddress}, {"user", 1}, {"patient", kPatient}, {"by", "Tech Anna"}});
  ASSERT_TRUE(bound) << bound.error().message;
  EXPECT_EQ((*bound)["binding"]["device"], kDevice) << "an address names the registered device";
  EXPECT_EQ((*bound)["binding"]["patient"], kPatient);
  EXPECT_EQ((*bound)["binding"]["by"].get<std::string>().rfind("Tech Anna, uid " + std::to_string(::getuid()), 0), 0u)
      << "the --by name and the socket peer's uid: " << bound->dump();

  // Measured a minute before the slot was bound: from the device's memory, nobody's yet.
  const auto uid = add_bp(210, 120, clock_.now() - std::chrono::minutes(1));
  ASSERT_FALSE(uid.empty());
  EXPECT_EQ(last_status_, "unassigned") << "measure add says the reading does not count yet";
  auto m = call("measurements", {{"state", "unassigned"}});
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ((*m)["readings"].size(), 1u);
  auto s = status();
  EXPECT_EQ(s["buffer"]["unassigned"], 1) << s["buffer"].dump();
  EXPECT_EQ(s["buffer"]["pending"], 0) << "never queued for upload under a patient";
  ASSERT_EQ(s["devices"].size(), 1u);
  EXPECT_EQ(s["devices"][0]["users"], (nlohmann::json{{{"user", 1}, {"patient", kPatient}, {"since", "2026-11-21T10:00:00Z"}}}));
  auto alerts = call("alerts");
  ASSERT_TRUE(alerts);
  EXPECT_TRUE((*alerts)["alerts"].empty()) << "an extreme reading nobody owns raises nothing: " << alerts->dump();

  auto listed = call("readings.unassigned");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ((*listed)["readings"].size(), 1u);
  EXPECT_EQ((*listed)["readings"][0]["uid"], uid);
  EXPECT_EQ((*listed)["readings"][0]["values"]["systolic"], 210);
  EXPECT_NE((*listed)["readings"][0]["reason"], "") << "the technician is told why";
  EXPECT_EQ((*listed)["unassigned"], 1);

  clock_.advance(std::chrono::seconds(30));  // the metrics interval
  daemon_->refresh_status();
  EXPECT_NE(test::read_file(dir_.file("carehub.prom")).find("carehub_buffer_unassigned_readings 1"), std::string::npos)
      << test::read_file(dir_.file("carehub.prom"));

  auto assigned = call("readings.assign", {{"uids", {uid}}, {"patient", kPatient}});
  ASSERT_TRUE(assigned) << assigned.error().message;
  ASSERT_EQ((*assigned)["assigned"].size(), 1u);
  EXPECT_EQ((*assigned)["assigned"][0]["old_uid"], uid);
  EXPECT_EQ((*assigned)["assigned"][0]["already_stored"], false);
  s = status();
  EXPECT_EQ(s["buffer"]["unassigned"], 0);
  EXPECT_EQ(s["buffer"]["pending"], 1) << "now queued for upload under the patient";
  alerts = call("alerts");
  ASSERT_TRUE(alerts);
  ASSERT_EQ((*alerts)["alerts"].size(), 1u) << alerts->dump();
  EXPECT_EQ((*alerts)["alerts"][0]["rule"], "HF5") << "judged by the patient's rules once it is theirs";
}

TEST_F(AttributionCommands, ADiscardedReadingIsKeptWithWhoAndWhy) {
  ASSERT_TRUE(call("devices.assign", {{"device", kDevice}, {"user", 1}, {"patient", kPatient}}));
  const auto uid = add_bp(128, 82, clock_.now() - std::chrono::hours(30 * 24));  // the previous owner's memory
  auto gone = call("readings.discard", {{"uids", {uid}}, {"reason", "previous owner's memory"}});
  ASSERT_TRUE(gone) << gone.error().message;
  EXPECT_EQ((*gone)["discarded"], 1);
  EXPECT_EQ((*gone)["by"].get<std::string>().rfind("uid " + std::to_string(::getuid()), 0), 0u) << gone->dump();
  auto s = status();
  EXPECT_EQ(s["buffer"]["unassigned"], 0);
  EXPECT_EQ(s["buffer"]["discarded"], 1);
  auto kept = call("readings.unassigned", {{"discarded", true}});
  ASSERT_TRUE(kept) << kept.error().message;
  ASSERT_EQ((*kept)["readings"].size(), 1u);
  EXPECT_EQ((*kept)["readings"][0]["discard_reason"], "previous owner's memory");
  EXPECT_EQ((*kept)["readings"][0]["discarded"], "2026-11-21T10:00:00Z");
}

TEST_F(AttributionCommands, UnbindingASlotAndListingBindings) {
  ASSERT_TRUE(call("devices.assign", {{"device", kDevice}, {"user", 1}, {"patient", kPatient}}));
  ASSERT_TRUE(call("devices.assign", {{"device", kDevice}, {"user", 2}, {"patient", kSpouse}}));
  auto all = call("devices.bindings");
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ((*all)["bindings"].size(), 2u);
  EXPECT_EQ((*all)["bindings"][1]["patient"], kSpouse);
  auto gone = call("devices.unbind", {{"device", kDevice}, {"user", 2}});
  ASSERT_TRUE(gone) << gone.error().message;
  EXPECT_EQ((*gone)["was_bound"], true);
  gone = call("devices.unbind", {{"device", kDevice}, {"user", 2}});
  ASSERT_TRUE(gone) << gone.error().message;
  EXPECT_EQ((*gone)["was_bound"], false) << "twice is not an error";
  all = call("devices.bindings");
  ASSERT_TRUE(all);
  EXPECT_EQ((*all)["bindings"].size(), 1u);
}

TEST_F(AttributionCommands, RefusesBadArgumentsWithTheirPathAndCountsThem) {
  const auto refused = [&](const std::string& cmd, const nlohmann::json& args, const std::string& says) {
    auto r = call(cmd, args);
    ASSERT_FALSE(r) << cmd << " " << args.dump() << " -> " << r->dump();
    EXPECT_EQ(r.error().code, Errc::invalid_argument) << r.error().message;
    EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
  };
  refused("readings.assign", {{"uids", {"u-1"}}, {"patient", "patient/ben"}}, "/args/patient: expected a reference");
  refused("readings.assign", {{"uids", {"u-1"}}, {"patient", "Patient/" + std::string(65, 'a')}}, "/args/patient");
  refused("readings.assign", {{"uids", nlohmann::json::array()}, {"patient", kSpouse}}, "/args/uids: expected 1 to 1000");
  refused("readings.assign", {{"uids", std::vector<std::string>(1001, "u")}, {"patient", kSpouse}}, "found 1001");
  refused("readings.assign", {{"uids", {"u-1", "u-1"}}, {"patient", kSpouse}}, "/args/uids/1: \"u-1\" is listed twice");
  refused("readings.assign", {{"uids", {std::string(65, 'u')}}, {"patient", kSpouse}}, "/args/uids/0");
  refused("readings.discard", {{"uids", {"u-1"}}, {"reason", std::string(501, 'r')}}, "/args/reason");
  refused("readings.discard", {{"uids", {"u-1"}}, {"by", "a\nb"}}, "/args/by");
  refused("readings.unassigned", {{"limit", 0}}, "/args/limit");
  refused("devices.assign", {{"device", kDevice}, {"user", 255}, {"patient", kSpouse}}, "/args/user");
  refused("devices.assign", {{"device", kDevice}, {"user", -1}, {"patient", kSpouse}}, "/args/user");
  refused("devices.unbind", {{"device", kDevice}, {"user", 2}, {"patient", kSpouse}}, "/args/patient");
  auto s = status();
  EXPECT_EQ(s["counters"].value("control_bad_requests", 0), 12) << s["counters"].dump();

  // An unknown device or uid is not a typo in the request's shape but a wrong name: it says so, and
  // assigning is all or nothing.
  auto unknown = call("devices.assign", {{"device", "ble-00-00-00-00-00-00"}, {"user", 1}, {"patient", kSpouse}});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("no registered device \"ble-00-00-00-00-00-00\""), std::string::npos);
  ASSERT_TRUE(call("devices.assign", {{"device", kDevice}, {"user", 1}, {"patient", kPatient}}));
  const auto uid = add_bp(128, 82, clock_.now() - std::chrono::minutes(5));
  auto partly = call("readings.assign", {{"uids", {uid, "no-such-uid"}}, {"patient", kPatient}});
  ASSERT_FALSE(partly);
  EXPECT_NE(partly.error().message.find("no-such-uid"), std::string::npos) << partly.error().message;
  EXPECT_EQ(status()["buffer"]["unassigned"], 1) << "nothing changed";
}

// The monitor was paired the old way (no --user) and its newest reading names user slot 2: nobody told the
// hub whose memory is whose, and the technician reads it on the device's line of `status`.
class AMultiUserMonitorWithNoSlotBound : public AttributionCommands {
 protected:
  void seed(StoreWriter& w) override {
    Reading r;
    r.kind = Kind::blood_pressure;
    r.device = kDevice;
    r.source = "ble";
    r.patient = kPatient;
    r.user = 2;
    r.time = r.received = clock_.now() - std::chrono::hours(1);
    r.values = {{"systolic", 121}, {"diastolic", 79}};
    auto inserted = w.insert_reading(r, reading_uid(r));
    ASSERT_TRUE(inserted) << inserted.error().message;
  }
};

TEST_F(AMultiUserMonitorWithNoSlotBound, StatusWarnsOnTheDevicesLineUntilASlotIsBound) {
  auto s = status();
  ASSERT_EQ(s["devices"].size(), 1u);
  EXPECT_NE(s["devices"][0].value("warning", "").find("names user slots (a multi-user device) but no slot is bound"),
            std::string::npos) << s["devices"][0].dump();
  ASSERT_TRUE(call("devices.assign", {{"device", kDevice}, {"user", 1}, {"patient", kPatient}}));
  s = status();
  EXPECT_FALSE(s["devices"][0].contains("warning")) << s["devices"][0].dump();
}

}  // namespace
}  // namespace carehub::daemon
