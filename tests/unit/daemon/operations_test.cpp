// What a technician and a fleet operator see of a running carehubd, in-process: the journal (no patient
// data above debug), `carehubctl status` (the whole picture), the Prometheus textfile, and the control
// socket's group. Time is a ManualClock; the daemon's own threads run for real.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "core/clock.hpp"
#include "store/store.hpp"
#include "daemon/control_client.hpp"
#include "daemon/control_server.hpp"
#include "daemon/daemon.hpp"
#include "tests/support/buffer_key.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::daemon {
namespace {

// Values and ids no log line could contain by chance.
constexpr const char* kPatient = "Patient/p-7f3a91";
constexpr const char* kPatientId = "p-7f3a91";
constexpr const char* kDevice = "ble-aa-bb-cc-dd-ee-f1";
constexpr const char* kDeviceAddress = "AA:BB:CC:DD:EE:F1";

struct Line {
  LogLevel level;
  std::string text;
};

class ARunningDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    // A device already paired, as `carehubctl devices pair` leaves it in the registry.
    StoreOptions store;
    store.path = dir_.file("buffer.db");
    {
      auto w = StoreWriter::open(store);
      ASSERT_TRUE(w) << w.error().message;
      Device d;
      d.id = kDevice;
      d.address = kDeviceAddress;
      d.name = "BP7000";
      d.model = "BP7000";
      d.category = "blood-pressure";
      d.last_seen = clock_.now() - std::chrono::minutes(5);
      ASSERT_TRUE((*w)->upsert_device(d));
    }
    const nlohmann::json config = {
        {"hub", {{"id", "hub-ops-1"}, {"patient", kPatient}}},
        {"store", {{"path", store.path}, {"key_file", test::write_buffer_key(dir_)}}},
        {"control", {{"socket", dir_.file("ctl.sock")}, {"group", ""}}},
        {"rules", {{"file", (test::source_dir() / "config/rules/hf5.json").string()}}},
        {"metrics", {{"textfile", dir_.file("carehub.prom")}, {"interval_s", 30}}},
        {"log", {{"level", "debug"}}},
    };
    auto c = parse_config(config.dump(), dir_.file("carehubd.json"));
    ASSERT_TRUE(c) << c.error().message;
    auto d = Daemon::start(std::move(*c), log_, clock_);
    ASSERT_TRUE(d) << d.error().message;
    daemon_ = std::move(*d);
  }

  Result<nlohmann::json> call(const std::string& cmd, const nlohmann::json& args = nlohmann::json::object()) {
    auto c = ControlClient::connect(dir_.file("ctl.sock"));
    if (!c) return c.error();
    return c->call(cmd, args);
  }

  // A blood pressure HF5 calls extreme (it raises an alert), taken a minute ago on the paired device.
  void measure_extreme_blood_pressure() {
    const nlohmann::json reading = {{"kind", "blood-pressure"},
                                    {"device", kDevice},
                                    {"time", format_rfc3339(clock_.now() - std::chrono::minutes(1))},
                                    {"values", {{"systolic", 213.5}, {"diastolic", 131.5}, {"pulse", 97.5}}}};
    auto r = call("measure.add", {{"readings", {reading}}});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ((*r)["results"][0]["status"], "stored") << r->dump();
  }

  std::vector<Line> lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }

  test::TempDir dir_;
  ManualClock clock_{*parse_rfc3339("2026-11-21T10:00:00Z")};
  std::mutex mu_;
  std::vector<Line> lines_;
  Logger log_{LogLevel::debug, [this](LogLevel level, std::string_view component, std::string_view message) {
                std::lock_guard lock(mu_);
                lines_.push_back({level, std::string(component) + ": " + std::string(message)});
              }};
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(ARunningDaemon, KeepsReadingValuesAndThePatientOutOfLogsAboveDebug) {
  measure_extreme_blood_pressure();
  // A refused reading too: its refusal quotes the value it found implausible.
  auto refused = call("measure.add", {{"readings",
                                       {{{"kind", "blood-pressure"},
                                         {"time", format_rfc3339(clock_.now())},
                                         {"values", {{"systolic", 977.5}, {"diastolic", 131.5}}}}}}});
  ASSERT_TRUE(refused) << refused.error().message;
  ASSERT_EQ((*refused)["results"][0]["status"], "rejected") << refused->dump();
  daemon_->stop();

  bool alert_logged = false;
  bool patient_at_debug = false;
  for (const auto& l : lines()) {
    if (l.level == LogLevel::debug) {
      patient_at_debug = patient_at_debug || l.text.find(kPatientId) != std::string::npos;
      continue;
    }
    alert_logged = alert_logged || l.text.find("HF5") != std::string::npos;
    for (const char* secret : {kPatientId, "213.5", "131.5", "97.5", "977.5"}) {
      EXPECT_EQ(l.text.find(secret), std::string::npos) << "level " << static_cast<int>(l.level) << ": " << l.text;
    }
  }
  // The events did reach the journal, and the patient is there for whoever turns debug on.
  EXPECT_TRUE(alert_logged);
  EXPECT_TRUE(patient_at_debug);
}

TEST_F(ARunningDaemon, StatusGivesTheWholePictureWithoutReadingValues) {
  measure_extreme_blood_pressure();
  auto s = call("status");
  ASSERT_TRUE(s) << s.error().message;

  ASSERT_EQ((*s)["devices"].size(), 1u) << s->dump(2);
  const auto& d = (*s)["devices"][0];
  EXPECT_EQ(d["id"], kDevice);
  EXPECT_EQ(d["category"], "blood-pressure");
  EXPECT_EQ(d["last_seen"], format_rfc3339(clock_.now() - std::chrono::minutes(5)));
  EXPECT_EQ(d["last_reading"]["time"], format_rfc3339(clock_.now() - std::chrono::minutes(1)));
  EXPECT_EQ(d["last_reading"]["kind"], "blood-pressure");
  EXPECT_TRUE(d["battery"].is_null());  // no BLE source runs here to know it

  EXPECT_EQ((*s)["buffer"]["pending"], 1);
  EXPECT_GT((*s)["buffer"]["bytes"].get<std::int64_t>(), 0);
  EXPECT_TRUE((*s)["buffer"]["wal_bytes"].is_number());
  EXPECT_GT((*s)["buffer"]["disk_free_bytes"].get<std::uint64_t>(), 0u);
  EXPECT_EQ((*s)["sync"]["enabled"], false);
  EXPECT_EQ((*s)["sync"]["config_error"], "") << "the uploader's configuration error and gzip state are shown";
  EXPECT_EQ((*s)["sync"]["gzip_refused"], "");

  EXPECT_EQ((*s)["alerts"]["open"], 1);
  ASSERT_EQ((*s)["alerts"]["list"].size(), 1u);
  EXPECT_EQ((*s)["alerts"]["list"][0]["rule"], "HF5");

  const auto& warnings = (*s)["warnings"];
  const auto warned = [&](const std::string& key) {
    for (const auto& w : warnings) {
      if (w.get<std::string>().starts_with(key)) return true;
    }
    return false;
  };
  EXPECT_TRUE(warned("/fhir/base_url")) << warnings.dump();
  EXPECT_TRUE(warned("/log/level")) << warnings.dump();
  EXPECT_TRUE(warned("/sources")) << warnings.dump();
  EXPECT_FALSE(warned("/rules/file")) << warnings.dump();

  EXPECT_EQ((*s)["metrics"]["textfile"], dir_.file("carehub.prom"));
  EXPECT_EQ((*s)["metrics"]["last_written"], format_rfc3339(clock_.now()));

  const auto text = s->dump();
  for (const char* value : {"213.5", "131.5", "97.5"}) EXPECT_EQ(text.find(value), std::string::npos) << value;
}

// Issue 12, defect 5: a reading dated 2062 (a device clock, a typo) is kept but quarantined: counted in
// status, marked in measurements, never judged (an extreme value raises nothing), never pending.
TEST_F(ARunningDaemon, QuarantinesAReadingDatedYearsAheadAndShowsItInStatusAndMeasurements) {
  const nlohmann::json reading = {{"kind", "blood-pressure"},
                                  {"device", kDevice},
                                  {"time", "2062-06-09T10:00:00Z"},
                                  {"values", {{"systolic", 213.5}, {"diastolic", 131.5}}}};
  auto r = call("measure.add", {{"readings", {reading}}});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ((*r)["results"][0]["status"], "quarantined") << r->dump();
  EXPECT_NE((*r)["results"][0]["error"].get<std::string>().find("quarantined"), std::string::npos) << r->dump();
  auto s = call("status");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ((*s)["buffer"]["quarantined"], 1) << s->dump(2);
  EXPECT_EQ((*s)["buffer"]["pending"], 0);
  EXPECT_EQ((*s)["counters"]["readings_quarantined"], 1);
  EXPECT_EQ((*s)["alerts"]["open"], 0) << "never judged by the rules";
  auto m = call("measurements", {{"state", "quarantined"}});
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ((*m)["readings"].size(), 1u) << m->dump(2);
  EXPECT_EQ((*m)["readings"][0]["sync"], "quarantined");
  EXPECT_NE((*m)["readings"][0]["quarantine_reason"].get<std::string>().find("2062-06-09T10:00:00Z"), std::string::npos);
}

TEST_F(ARunningDaemon, WritesTheMetricsTextfileAtStartThenEveryIntervalAndRemovesItOnStop) {
  const auto path = dir_.file("carehub.prom");
  const auto at_start = test::read_file(path);
  EXPECT_NE(at_start.find("\ncarehub_buffer_pending_readings 0\n"), std::string::npos) << at_start;
  EXPECT_NE(at_start.find("\ncarehub_sync_last_success_timestamp_seconds 0\n"), std::string::npos) << at_start;
  EXPECT_NE(at_start.find("# TYPE carehub_start_time_seconds gauge\n"), std::string::npos) << at_start;

  measure_extreme_blood_pressure();
  daemon_->refresh_status();  // before the interval: the file stays as it was
  EXPECT_EQ(test::read_file(path), at_start);

  clock_.advance(std::chrono::seconds(30));
  daemon_->refresh_status();
  const auto later = test::read_file(path);
  EXPECT_NE(later.find("\ncarehub_buffer_pending_readings 1\n"), std::string::npos) << later;
  EXPECT_NE(later.find("\ncarehub_alerts_open 1\n"), std::string::npos) << later;
  EXPECT_NE(later.find("\ncarehub_control_requests_total 1\n"), std::string::npos) << later;

  daemon_->stop();
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(AControlSocket, BelongsToTheConfiguredGroupWithMode0660) {
  // A group this process may give the socket to, other than the one it would get anyway.
  gid_t target = static_cast<gid_t>(-1);
  std::string name;
  if (::geteuid() == 0) {
    if (const group* g = ::getgrnam("nogroup")) target = g->gr_gid, name = g->gr_name;
  } else {
    gid_t groups[64];
    const int n = ::getgroups(64, groups);
    for (int i = 0; i < n; ++i) {
      if (groups[i] == ::getegid()) continue;
      if (const group* g = ::getgrgid(groups[i])) {
        target = g->gr_gid;
        name = g->gr_name;
        break;
      }
    }
  }
  if (target == static_cast<gid_t>(-1)) GTEST_SKIP() << "no second group available to this user";
  test::TempDir dir;
  Logger log{LogLevel::error, [](LogLevel, std::string_view, std::string_view) {}};
  Counters counters;
  auto server = ControlServer::listen({dir.file("ctl.sock"), name}, [](const Request&, const PeerCred&) -> Result<nlohmann::json> {
    return nlohmann::json::object();
  }, log, counters);
  ASSERT_TRUE(server) << server.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("ctl.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, target);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

}  // namespace
}  // namespace carehub::daemon
