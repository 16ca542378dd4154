// Restart-only settings (daemon/restart_only.hpp): what SIGHUP reports as needing a restart is exactly
// what it keeps running. Before one table held both, the reload check listed /alerts/mqtt while the
// reload took the file's /alerts/mqtt as running: the next reload compared against that, no longer
// saw a change and stopped warning, though the publisher still ran on the settings it started with.
#include <gtest/gtest.h>

#include <mutex>

#include "core/clock.hpp"
#include "daemon/daemon.hpp"
#include "daemon/restart_only.hpp"
#include "tests/support/buffer_key.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::daemon {
namespace {

class ADaemonReloaded : public ::testing::Test {
 protected:
  void SetUp() override {
    config_json_ = {
        {"hub", {{"id", "hub-reload-1"}, {"patient", "Patient/p-reload"}}},
        {"store", {{"path", dir_.file("buffer.db")}, {"key_file", test::write_buffer_key(dir_)}}},
        {"control", {{"socket", dir_.file("ctl.sock")}, {"group", ""}}},
        {"log", {{"level", "info"}}},
    };
    auto d = Daemon::start(config(), log_, clock_);
    ASSERT_TRUE(d) << d.error().message;
    daemon_ = std::move(*d);
  }
  void TearDown() override {
    if (daemon_) daemon_->stop();
  }

  Config config() {
    auto c = parse_config(config_json_.dump(), dir_.file("carehubd.json"));
    EXPECT_TRUE(c) << c.error().message;
    return *c;
  }
  // Journal lines that say `setting` needs a restart, since the last call.
  int restart_warnings(const std::string& setting) {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& l : lines_) {
      if (l.find("restart-required") != std::string::npos && l.find(setting) != std::string::npos) ++n;
    }
    lines_.clear();
    return n;
  }

  test::TempDir dir_;
  nlohmann::json config_json_;
  SystemClock clock_;
  std::mutex mu_;
  std::vector<std::string> lines_;
  Logger log_{LogLevel::info, [this](LogLevel, std::string_view component, std::string_view message) {
                std::lock_guard lock(mu_);
                lines_.push_back(std::string(component) + ": " + std::string(message));
              }};
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(ADaemonReloaded, WarnsAboutAnMqttAlertsChangeOnEveryReloadUntilItRestarts) {
  // Started without alerts over MQTT; the file now asks for them. No broker is needed: a reload does not
  // start the publisher (that is what "restart-only" means).
  config_json_["alerts"] = {{"mqtt", {{"broker", "tcp://127.0.0.1:1"}}}};
  daemon_->reload(config());
  EXPECT_EQ(restart_warnings("/alerts/mqtt"), 1);
  daemon_->reload(config());
  EXPECT_EQ(restart_warnings("/alerts/mqtt"), 1) << "the second reload took the file's /alerts/mqtt as running";
  // The same holds for a setting that was always kept, as a control.
  config_json_["store"]["retention_days"] = 7;
  daemon_->reload(config());
  daemon_->reload(config());
  EXPECT_EQ(restart_warnings("/store/retention_days"), 2);
}

TEST(RestartOnly, EveryMqttAlertsKeyIsReportedNotOnlyTheConnectionsName) {
  const auto with = [](const nlohmann::json& mqtt) {
    const nlohmann::json j = {{"hub", {{"id", "h"}, {"patient", "Patient/p"}}},
                              {"store", {{"path", "b.db"}}},
                              {"alerts", {{"mqtt", mqtt}}}};
    auto c = parse_config(j.dump(), "k.json");
    EXPECT_TRUE(c) << c.error().message;
    return *c;
  };
  const auto running = with({{"broker", "ssl://127.0.0.1:8883"}});
  // The publisher is made once at start from all of these: a change to any of them is not applied live.
  for (const auto& changed : {nlohmann::json{{"broker", "ssl://127.0.0.1:8883"}, {"ca_file", "/etc/ca.pem"}},
                              nlohmann::json{{"broker", "ssl://127.0.0.1:8883"}, {"tls_verify", false}},
                              nlohmann::json{{"broker", "ssl://127.0.0.1:8883"}, {"prefix", "elsewhere"}}}) {
    EXPECT_EQ(restart_only_changes(running, with(changed)), std::vector<std::string>{"/alerts/mqtt"}) << changed.dump();
  }
  EXPECT_TRUE(restart_only_changes(running, with({{"broker", "ssl://127.0.0.1:8883"}})).empty());
}

}  // namespace
}  // namespace carehub::daemon
