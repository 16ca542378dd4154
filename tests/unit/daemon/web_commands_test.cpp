// The control commands carehub-web relies on (issue 16), in a running carehubd: who acknowledged an
// alert (`by`, kept beside the peer's uid), `measurements` narrowed by kind, time and sequence (the
// display's charts and its readings stream), and `config.check` / `config.reload` on carehubd's own file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <mutex>

#include "core/clock.hpp"
#include "daemon/control_client.hpp"
#include "daemon/daemon.hpp"
#include "tests/support/buffer_key.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::daemon {
namespace {

class WebCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = {
        {"hub", {{"id", "hub-web-1"}, {"patient", "Patient/p1"}}},
        {"store", {{"path", dir_.file("buffer.db")}, {"key_file", test::write_buffer_key(dir_)}}},
        {"control", {{"socket", dir_.file("ctl.sock")}, {"group", ""}}},
        {"rules", {{"file", (test::source_dir() / "config/rules/hf5.json").string()}}},
    };
    test::write_file(dir_.file("carehubd.json"), config_.dump());
    auto c = load_config(dir_.file("carehubd.json"));
    ASSERT_TRUE(c) << c.error().message;
    auto d = Daemon::start(std::move(*c), log_, clock_);
    ASSERT_TRUE(d) << d.error().message;
    daemon_ = std::move(*d);
  }
  void TearDown() override {
    if (daemon_) daemon_->stop();
  }

  Result<nlohmann::json> call(const std::string& cmd, const nlohmann::json& args = nlohmann::json::object()) {
    auto c = ControlClient::connect(dir_.file("ctl.sock"));
    if (!c) return c.error();
    return c->call(cmd, args);
  }
  void add(const nlohmann::json& reading) {
    auto r = call("measure.add", {{"readings", {reading}}});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ((*r)["results"][0]["status"], "stored") << r->dump();
  }
  nlohmann::json bp(int minutes_ago, double systolic) {
    return {{"kind", "blood-pressure"},
            {"time", format_rfc3339(clock_.now() - std::chrono::minutes(minutes_ago))},
            {"values", {{"systolic", systolic}, {"diastolic", 131}}}};
  }
  bool logged(const std::string& needle) {
    std::lock_guard lock(mu_);
    for (const auto& l : lines_) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  test::TempDir dir_;
  nlohmann::json config_;
  ManualClock clock_{*parse_rfc3339("2026-12-05T10:00:00Z")};
  std::mutex mu_;
  std::vector<std::string> lines_;
  Logger log_{LogLevel::info, [this](LogLevel, std::string_view component, std::string_view message) {
                std::lock_guard lock(mu_);
                lines_.push_back(std::string(component) + ": " + std::string(message));
              }};
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(WebCommands, AnAcknowledgementRecordsWhoAskedBesideThePeersUid) {
  add(bp(3, 205));
  add(bp(1, 207));  // the repeat confirms: HF5's red alert, awaiting the patient's OK
  auto alerts = call("alerts");
  ASSERT_TRUE(alerts);
  std::string red;
  for (const auto& a : (*alerts)["alerts"]) {
    if (a["severity"] == "red") red = a["id"];
  }
  ASSERT_FALSE(red.empty()) << alerts->dump();
  auto too_long = call("alerts.ack", {{"id", red}, {"by", std::string(65, 'x')}});
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().message.find("/args/by"), std::string::npos) << too_long.error().message;
  auto acked = call("alerts.ack", {{"id", red}, {"by", "patient (display)"}});
  ASSERT_TRUE(acked) << acked.error().message;
  EXPECT_EQ((*acked)["state"], "acknowledged");
  const std::string by = (*acked)["acknowledged_by"];
  EXPECT_TRUE(by.starts_with("patient (display), uid " + std::to_string(::getuid()))) << by;
  EXPECT_TRUE(logged("event=alert-acknowledged alert=" + red + " by=\"patient (display), uid")) << "journal";
}

TEST_F(WebCommands, MeasurementsNarrowByKindTimeAndSequence) {
  add(bp(50, 120));
  add({{"kind", "body-weight"}, {"time", format_rfc3339(clock_.now() - std::chrono::minutes(40))}, {"values", {{"value", 74.5}}}});
  add(bp(30, 125));
  auto weights = call("measurements", {{"kind", "body-weight"}});
  ASSERT_TRUE(weights) << weights.error().message;
  ASSERT_EQ((*weights)["readings"].size(), 1u);
  EXPECT_EQ((*weights)["readings"][0]["values"]["value"], 74.5);
  auto recent = call("measurements", {{"kind", "blood-pressure"}, {"from", format_rfc3339(clock_.now() - std::chrono::minutes(35))}});
  ASSERT_TRUE(recent);
  ASSERT_EQ((*recent)["readings"].size(), 1u);
  EXPECT_EQ((*recent)["readings"][0]["values"]["systolic"], 125);
  auto all = call("measurements", {{"oldest_first", true}});
  ASSERT_TRUE(all);
  ASSERT_EQ((*all)["readings"].size(), 3u);
  const auto first_seq = (*all)["readings"][0]["seq"].get<std::int64_t>();
  auto after = call("measurements", {{"after_seq", first_seq}, {"oldest_first", true}});
  ASSERT_TRUE(after);
  ASSERT_EQ((*after)["readings"].size(), 2u);  // exactly what came after, in arrival order
  EXPECT_EQ((*after)["readings"][0]["kind"], "body-weight");
  EXPECT_GT((*after)["readings"][1]["seq"].get<std::int64_t>(), (*after)["readings"][0]["seq"].get<std::int64_t>());
  auto bad = call("measurements", {{"kind", "mood"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("/args/kind"), std::string::npos) << bad.error().message;
  auto bad_time = call("measurements", {{"from", "yesterday"}});
  ASSERT_FALSE(bad_time);
  EXPECT_NE(bad_time.error().message.find("/args/from: expected an RFC 3339 time"), std::string::npos);
}

TEST_F(WebCommands, ConfigCheckReadsTheDaemonsOwnFileAndABadOneIsNeverReloaded) {
  auto ok = call("config.check");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ((*ok)["ok"], true);
  EXPECT_EQ((*ok)["file"], dir_.file("carehubd.json"));
  auto broken = config_;
  broken["store"]["max_bytes"] = "lots";
  test::write_file(dir_.file("carehubd.json"), broken.dump());
  auto bad = call("config.check");
  ASSERT_TRUE(bad);
  EXPECT_EQ((*bad)["ok"], false);
  EXPECT_NE((*bad)["error"].get<std::string>().find("/store/max_bytes"), std::string::npos) << bad->dump();
  // A reload of a file that does not validate is refused before any signal (the good path raises
  // SIGHUP for main()'s sigwait, which a test process does not have: covered by the lifecycle tests).
  auto refused = call("config.reload");
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().message.starts_with("not reloaded: ")) << refused.error().message;
}

}  // namespace
}  // namespace carehub::daemon
