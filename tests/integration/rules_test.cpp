// Decision support end to end: readings through carehubctl -> carehubd -> rules in the commit path ->
// `carehubctl alerts`, `alerts watch` and `alerts ack`, across a kill -9 in the middle of a window, a bad
// rule file and a reload.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <csignal>

#include "core/time.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/mosquitto_peer.hpp"

namespace carehub::test {
namespace {

using namespace std::chrono_literals;

const char* kRules = R"({"categories": {"CVD": {"notify": true}},
  "rules": [{"id": "HF5", "type": "confirm-by-repeat", "category": "CVD", "kind": "blood-pressure",
             "bands": {"systolic": {"extreme_high": 200}, "diastolic": {"extreme_high": 130}}}]})";

std::string bp_line(double sys, double dia, TimePoint t) {
  return nlohmann::json{{"kind", "blood-pressure"}, {"time", format_rfc3339(t)}, {"device", "cuff-1"},
                        {"values", {{"systolic", sys}, {"diastolic", dia}}}}
             .dump() + "\n";
}

TimePoint now_ms() { return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()); }

std::vector<nlohmann::json> alerts_of(DaemonProcess& d, bool all = false) {
  std::vector<std::string> args{"alerts", "--json"};
  if (all) args.push_back("--all");
  auto r = d.ctl(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<nlohmann::json> out;
  std::size_t from = 0;
  for (auto nl = r.out.find('\n'); nl != std::string::npos; from = nl + 1, nl = r.out.find('\n', from)) {
    out.push_back(nlohmann::json::parse(r.out.substr(from, nl - from)));
  }
  return out;
}

class RulesEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(dir_.file("rules.json"), kRules);
    d_ = std::make_unique<DaemonProcess>(dir_, "");
    d_->config()["rules"] = {{"file", "rules.json"}};  // relative to the config file
  }
  std::unique_ptr<ChildProcess> watch() {
    auto w = std::make_unique<ChildProcess>(std::vector<std::string>{
        (binary_dir() / "daemon" / "carehubctl").string(), "--socket", d_->socket(), "alerts", "watch"});
    auto first = w->read_line(10s);
    EXPECT_TRUE(first.has_value());
    if (first) {
      EXPECT_EQ(nlohmann::json::parse(*first)["watching"], true);
    }
    return w;
  }
  TempDir dir_;
  std::unique_ptr<DaemonProcess> d_;
};

TEST_F(RulesEndToEnd, AnExtremeReadingAndItsRepeatRaiseARedAlertThatSurvivesKillNineAndIsAcknowledged) {
  ASSERT_TRUE(d_->start()) << d_->log();
  auto watcher = watch();
  const TimePoint t0 = now_ms() - 5min;  // measured 5 minutes ago: the 10-minute deadline is still ahead
  auto added = d_->ctl({"measure", "add", "--json"}, bp_line(200, 130, t0));
  ASSERT_EQ(added.exit_code, 0) << added.err;

  auto line = watcher->read_line(10s);
  ASSERT_TRUE(line.has_value()) << d_->log();
  auto request = nlohmann::json::parse(*line);
  EXPECT_EQ(request["event"], "repeat-request");
  EXPECT_EQ(request["rule"], "HF5");
  auto listed = alerts_of(*d_);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["event"], "repeat-request");
  EXPECT_EQ(listed[0]["state"], "open");

  // A crash in the middle of the confirmation window: the episode is in the store with the reading.
  d_->signal(SIGKILL);
  d_->wait_exit();
  watcher.reset();
  ASSERT_TRUE(d_->start()) << d_->log();
  watcher = watch();
  ASSERT_EQ(d_->ctl({"measure", "add", "--json"}, bp_line(204, 128, t0 + 4min)).exit_code, 0);

  auto closed = watcher->read_line(10s);
  auto red_line = watcher->read_line(10s);
  ASSERT_TRUE(closed && red_line) << d_->log();
  auto red = nlohmann::json::parse(*red_line);
  EXPECT_EQ(red["event"], "alert");
  EXPECT_EQ(red["severity"], "red");
  EXPECT_EQ(red["readings"].size(), 2u);
  const auto id = red["alert"].get<std::string>();

  auto status = nlohmann::json::parse(d_->ctl({"status", "--json"}).out);
  EXPECT_EQ(status["alerts"]["open"], 1);
  EXPECT_EQ(status["alerts"]["awaiting_ack"], 1);
  auto table = d_->ctl({"alerts"});
  EXPECT_NE(table.out.find(id), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("open*"), std::string::npos) << table.out;

  auto acked = d_->ctl({"alerts", "ack", id});
  ASSERT_EQ(acked.exit_code, 0) << acked.err;
  EXPECT_EQ(acked.out, id + " acknowledged\n");
  auto ack_line = watcher->read_line(10s);
  ASSERT_TRUE(ack_line.has_value());
  EXPECT_EQ(nlohmann::json::parse(*ack_line)["event"], "acknowledged");
  status = nlohmann::json::parse(d_->ctl({"status", "--json"}).out);
  EXPECT_EQ(status["alerts"]["awaiting_ack"], 0);
  // The audit trail (issue 18): a technician's acknowledgement is on the patient's behalf.
  auto trail = d_->ctl({"audit", "--action", "alerts.ack", "--json"});
  ASSERT_EQ(trail.exit_code, 0) << trail.err;
  const auto row = nlohmann::json::parse(trail.out.substr(0, trail.out.find('\n')));
  EXPECT_EQ(row["outcome"], "success") << trail.out;
  EXPECT_EQ(row["on_behalf_of"], row["patient"]) << trail.out;
  EXPECT_FALSE(row["patient"].get<std::string>().empty()) << trail.out;

  auto unknown = d_->ctl({"alerts", "ack", "al-0000000000000000"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no alert with id"), std::string::npos) << unknown.err;
}

// The home display's side: a real mosquitto, a subscriber on the alert topics, an acknowledgement
// published by the display and seen durable in carehubd.
TEST_F(RulesEndToEnd, ARedAlertReachesTheHomeDisplayOverMqttAndIsAcknowledgedFromIt) {
  std::filesystem::create_directories(dir_.path() / "mqtt");
  MosquittoPeer broker((dir_.path() / "mqtt").string());
  d_->config()["alerts"] = {{"mqtt", {{"broker", broker.url()}}}};
  ASSERT_TRUE(d_->start()) << d_->log();
  ChildProcess display({"/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-q", "1",
                        "-t", "carehub/hub-test/alerts/#", "-v"});
  // Reads "topic payload" lines until one on `topic_suffix` satisfies `want`.
  auto next = [&](const std::string& topic_suffix, auto want) -> nlohmann::json {
    for (;;) {
      auto line = display.read_line(15s);
      if (!line) return nullptr;
      const auto space = line->find(' ');
      if (space == std::string::npos) continue;
      const auto topic = line->substr(0, space);
      if (topic.size() < topic_suffix.size() || topic.compare(topic.size() - topic_suffix.size(), topic_suffix.size(), topic_suffix) != 0) continue;
      auto payload = nlohmann::json::parse(line->substr(space + 1), nullptr, false);
      if (!payload.is_discarded() && want(payload)) return payload;
    }
  };
  // The display learns the hub is there (retained, published on every connect).
  ASSERT_FALSE(next("/hub", [](const nlohmann::json& j) { return j.value("state", "") == "online"; }).is_null()) << d_->log();

  const TimePoint t0 = now_ms() - 5min;
  ASSERT_EQ(d_->ctl({"measure", "add", "--json"}, bp_line(200, 130, t0)).exit_code, 0);
  ASSERT_EQ(d_->ctl({"measure", "add", "--json"}, bp_line(205, 131, t0 + 4min)).exit_code, 0);
  auto open = next("/open", [](const nlohmann::json& list) {
    return list.is_array() && !list.empty() && list[0].value("severity", "") == "red";
  });
  ASSERT_FALSE(open.is_null()) << d_->log() << broker.log();
  const auto id = open[0]["id"].get<std::string>();
  EXPECT_EQ(open[0]["state"], "open");
  EXPECT_EQ(open[0]["readings"].size(), 2u);

  ASSERT_TRUE(broker.publish("carehub/hub-test/alerts/ack", id));
  auto acked = next("/" + id, [](const nlohmann::json& a) { return a.value("state", "") == "acknowledged"; });
  ASSERT_FALSE(acked.is_null()) << d_->log();
  const auto listed = alerts_of(*d_);
  bool found = false;
  for (const auto& a : listed) {
    if (a["id"] == id) {
      found = true;
      EXPECT_EQ(a["state"], "acknowledged");
      EXPECT_EQ(a["acknowledged_by"], "patient (mqtt display)") << "who acknowledged is recorded, not only logged";
    }
  }
  EXPECT_TRUE(found);
  EXPECT_NE(d_->log().find("<5>rules: event=alert-acknowledged alert=" + id + " by=\"patient (mqtt display)\""), std::string::npos) << d_->log();
  // The audit trail (issue 18): the patient's own acknowledgement, committed with it (the alert above is
  // acknowledged, so its row is there), not on anyone's behalf.
  auto trail = d_->ctl({"audit", "--action", "alerts.ack", "--json"});
  ASSERT_EQ(trail.exit_code, 0) << trail.err;
  const auto row = nlohmann::json::parse(trail.out.substr(0, trail.out.find('\n')));
  EXPECT_EQ(row["actor"], "patient (mqtt display)") << trail.out;
  EXPECT_EQ(row["outcome"], "success") << trail.out;
  EXPECT_EQ(row.value("on_behalf_of", ""), "") << trail.out;
  ASSERT_FALSE(row["entities"].empty()) << trail.out;
  EXPECT_EQ(row["entities"][0]["id"], id) << trail.out;

  // An unknown id from the display is refused and counted, never a crash.
  ASSERT_TRUE(broker.publish("carehub/hub-test/alerts/ack", "al-nonexistent"));
  nlohmann::json status;
  for (const auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;) {
    status = nlohmann::json::parse(d_->ctl({"status", "--json"}).out);  // each call is a round trip, not a nap
    if (status["counters"].value("alerts_mqtt_bad_acks", 0) >= 1) break;
  }
  EXPECT_EQ(status["counters"].value("alerts_mqtt_bad_acks", 0), 1) << d_->log();
  EXPECT_EQ(status["alerts"]["mqtt"]["state"], "connected");
  EXPECT_NE(d_->log().find("<4>alerts-mqtt: event=ack-refused error=\"no alert with id \\\"al-nonexistent\\\"\""), std::string::npos) << d_->log();
}

TEST_F(RulesEndToEnd, ABadRuleFileStopsStartUpWithItsPathAndJsonPath) {
  write_file(dir_.file("rules.json"), R"({"rules": [{"id": "x", "type": "bands", "kind": "blood-presure"}]})");
  EXPECT_EQ(d_->run_to_exit(), 2);
  EXPECT_NE(d_->log().find("<3>carehubd: event=config-invalid file="), std::string::npos) << d_->log();
  EXPECT_NE(d_->log().find("/rules/file: " + dir_.file("rules.json") + ": /rules/0/kind: unknown measurement kind"),
            std::string::npos)
      << d_->log();
}

TEST_F(RulesEndToEnd, ABadRuleFileOnReloadKeepsTheRunningRules) {
  ASSERT_TRUE(d_->start()) << d_->log();
  write_file(dir_.file("rules.json"), "{ not json");
  d_->signal(SIGHUP);
  ASSERT_TRUE(d_->wait_notify("reload rejected")) << d_->log();
  ASSERT_EQ(d_->ctl({"measure", "add", "--json"}, bp_line(210, 100, now_ms() - 1min)).exit_code, 0);
  auto listed = alerts_of(*d_);
  ASSERT_EQ(listed.size(), 1u) << "HF5 still runs";
  EXPECT_EQ(listed[0]["event"], "repeat-request");
}

TEST_F(RulesEndToEnd, RulesSimulateNeedsNoDaemon) {
  auto r = run_process({(binary_dir() / "daemon" / "carehubctl").string(), "rules", "simulate", "--rules",
                        (source_dir() / "config" / "rules" / "hf5.json").string(), "--input",
                        (source_dir() / "config" / "rules" / "hf5-scenario.jsonl").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(R"("event":"repeat-request")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("event":"alert","severity":"red")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("event":"acknowledged")"), std::string::npos) << r.out;
}

// HF5's low side (issue 14) in the running hub, with the rule file it ships: SBP 84 asks for a repeat, a
// low repeat 3 minutes later raises the red alert the patient must acknowledge, with both readings.
TEST_F(RulesEndToEnd, TheShippedHF5AsksToRepeatALowSystolicAndALowRepeatRaisesARedAlert) {
  d_->config()["rules"] = {{"file", (source_dir() / "config" / "rules" / "hf5.json").string()}};
  ASSERT_TRUE(d_->start()) << d_->log();
  auto watcher = watch();
  const TimePoint t0 = now_ms() - 5min;
  ASSERT_EQ(d_->ctl({"measure", "add", "--json"}, bp_line(84, 52, t0)).exit_code, 0);
  auto line = watcher->read_line(10s);
  ASSERT_TRUE(line.has_value()) << d_->log();
  auto request = nlohmann::json::parse(*line);
  EXPECT_EQ(request["event"], "repeat-request");
  EXPECT_NE(request["text"].get<std::string>().find("systolic 84"), std::string::npos) << request.dump();

  ASSERT_EQ(d_->ctl({"measure", "add", "--json"}, bp_line(86, 54, t0 + 3min)).exit_code, 0);
  auto closed = watcher->read_line(10s);
  auto red_line = watcher->read_line(10s);
  ASSERT_TRUE(closed && red_line) << d_->log();
  EXPECT_EQ(nlohmann::json::parse(*closed)["event"], "closed");
  auto red = nlohmann::json::parse(*red_line);
  EXPECT_EQ(red["event"], "alert");
  EXPECT_EQ(red["severity"], "red");
  EXPECT_EQ(red["readings"].size(), 2u);
  auto status = nlohmann::json::parse(d_->ctl({"status", "--json"}).out);
  EXPECT_EQ(status["alerts"]["awaiting_ack"], 1);
}

// The scenarios docs/rules.md shows for HF5's low side, through the real carehubctl and the shipped files:
// the documented lines are what the command prints.
TEST_F(RulesEndToEnd, RulesSimulateShowsBothOutcomesOfTheLowSide) {
  auto simulate = [](const char* scenario) {
    return run_process({(binary_dir() / "daemon" / "carehubctl").string(), "rules", "simulate", "--rules",
                        (source_dir() / "config" / "rules" / "hf5.json").string(), "--input",
                        (source_dir() / "config" / "rules" / scenario).string()});
  };
  auto events = [](const std::string& out) {
    std::vector<std::string> list;
    std::size_t from = 0;
    for (auto nl = out.find('\n'); nl != std::string::npos; from = nl + 1, nl = out.find('\n', from)) {
      auto j = nlohmann::json::parse(out.substr(from, nl - from));
      list.push_back(j["time"].get<std::string>() + " " + j["event"].get<std::string>() + "/" + j["severity"].get<std::string>());
    }
    return list;
  };
  // The output docs/rules.md shows after "$ carehubctl rules simulate … --input config/rules/<scenario>".
  auto documented = [](const std::string& scenario) {
    const auto doc = read_file((source_dir() / "docs" / "rules.md").string());
    const auto command = "--input config/rules/" + scenario + "\n";
    const auto at = doc.find(command);
    if (at == std::string::npos) return std::string("(not in docs/rules.md)");
    const auto from = at + command.size();
    return doc.substr(from, doc.find("```", from) - from);
  };
  auto confirmed = simulate("hf5-low-scenario.jsonl");
  EXPECT_EQ(confirmed.out, documented("hf5-low-scenario.jsonl"));
  EXPECT_EQ(simulate("hf5-low-resolved.jsonl").out, documented("hf5-low-resolved.jsonl"));
  ASSERT_EQ(confirmed.exit_code, 0) << confirmed.err;
  EXPECT_EQ(events(confirmed.out), (std::vector<std::string>{"2026-11-21T10:00:00Z repeat-request/info",
                                                             "2026-11-21T10:03:00Z alert/red",
                                                             "2026-11-21T10:08:00Z acknowledged/red"}))
      << confirmed.out;
  auto resolved = simulate("hf5-low-resolved.jsonl");
  ASSERT_EQ(resolved.exit_code, 0) << resolved.err;
  EXPECT_EQ(events(resolved.out), (std::vector<std::string>{"2026-11-21T10:00:00Z repeat-request/info",
                                                            "2026-11-21T10:04:00Z resolved/info"}))
      << resolved.out;
  EXPECT_NE(resolved.out.find(R"("state":"closed")"), std::string::npos) << resolved.out;
}

}  // namespace
}  // namespace carehub::test
