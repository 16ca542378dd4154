// The walking skeleton end to end: carehubctl -> carehubd -> durable buffer -> the local FHIR peer,
// through a kill -9, an unreachable server, a bad config and a bad reload.
#include <gtest/gtest.h>

#include <csignal>
#include <regex>
#include <sstream>

#include "tests/support/daemon_process.hpp"
#include "tests/support/fhir_peer.hpp"

namespace carehub::test {
namespace {

constexpr const char* kIdSystem = "urn:ietf:rfc:3986";

std::string uid_of(const ProcessResult& r) {
  // "stored <uid>" or "duplicate <uid>"
  auto space = r.out.find(' ');
  auto nl = r.out.find('\n');
  return r.out.substr(space + 1, nl - space - 1);
}

class WalkingSkeleton : public ::testing::Test {
 protected:
  void start_peer(int port = 0) {
    peer_ = std::make_unique<FhirPeer>(dir_.file("fhir.log"), port);
    peer_->put("Patient/test-patient", {{"resourceType", "Patient"}, {"id", "test-patient"}});
  }
  TempDir dir_;
  std::unique_ptr<FhirPeer> peer_;
};

TEST_F(WalkingSkeleton, AManualReadingBecomesExactlyOneObservationOnTheServer) {
  start_peer();
  DaemonProcess d(dir_, peer_->base_url());
  ASSERT_TRUE(d.start()) << d.log();

  auto added = d.ctl({"measure", "add", "--kind", "blood-pressure", "--systolic", "200", "--diastolic", "130",
                      "--time", "2026-11-21T10:00:00Z"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  ASSERT_EQ(added.out.rfind("stored ", 0), 0u) << added.out;
  const auto uid = uid_of(added);

  auto synced = d.ctl({"sync", "now", "--wait", "30"});
  ASSERT_EQ(synced.exit_code, 0) << synced.err << d.log();
  EXPECT_EQ(peer_->count_by_identifier("Observation", kIdSystem, "urn:uuid:" + uid), 1u);

  auto obs = peer_->get("Observation?identifier=" + std::string(kIdSystem) + "%7Curn%3Auuid%3A" + uid)["entry"][0]["resource"];
  EXPECT_EQ(obs["code"]["coding"][0]["code"], "85354-9");
  EXPECT_EQ(obs["subject"]["reference"], "Patient/test-patient");
  EXPECT_EQ(obs["effectiveDateTime"], "2026-11-21T10:00:00Z");
  ASSERT_EQ(obs["component"].size(), 2u);
  EXPECT_EQ(obs["component"][0]["valueQuantity"]["value"], 200.0);
  EXPECT_EQ(obs["component"][1]["valueQuantity"]["value"], 130.0);

  // The same measurement again is recognised, and the server still holds one.
  auto again = d.ctl({"measure", "add", "--kind", "blood-pressure", "--systolic", "200", "--diastolic", "130",
                      "--time", "2026-11-21T10:00:00Z"});
  EXPECT_EQ(again.out.rfind("duplicate " + uid, 0), 0u) << again.out;
  ASSERT_EQ(d.ctl({"sync", "now", "--wait", "30"}).exit_code, 0);
  EXPECT_EQ(peer_->count("Observation"), 1u);

  auto listed = d.ctl({"measurements", "--json"});
  EXPECT_NE(listed.out.find("\"sync\":\"synced\""), std::string::npos) << listed.out;
}

TEST_F(WalkingSkeleton, AReadingCommittedButNotUploadedSurvivesKillNineAndIsUploadedOnce) {
  start_peer();
  const int port = peer_->port();
  peer_->stop();  // the server is down: the reading can only be committed, not uploaded

  DaemonProcess d(dir_, "http://127.0.0.1:" + std::to_string(port) + "/fhir/R4");
  ASSERT_TRUE(d.start()) << d.log();
  auto added = d.ctl({"measure", "add", "--kind", "heart-rate", "--value", "72", "--time", "2026-11-21T10:05:00Z"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const auto uid = uid_of(added);
  auto pending = d.ctl({"measurements", "--json", "--state", "pending"});
  EXPECT_NE(pending.out.find(uid), std::string::npos);

  d.signal(SIGKILL);
  d.wait_exit();

  start_peer(port);
  ASSERT_TRUE(d.start()) << d.log();
  auto synced = d.ctl({"sync", "now", "--wait", "30"});
  ASSERT_EQ(synced.exit_code, 0) << synced.err << d.log();
  EXPECT_EQ(peer_->count_by_identifier("Observation", kIdSystem, "urn:uuid:" + uid), 1u);
  EXPECT_EQ(peer_->count("Observation"), 1u);
}

TEST_F(WalkingSkeleton, KillNineRightAfterAcknowledgingNeverLosesOrDuplicates) {
  start_peer();
  DaemonProcess d(dir_, peer_->base_url());
  ASSERT_TRUE(d.start()) << d.log();
  std::string lines;
  for (int i = 0; i < 50; ++i) {
    lines += R"({"kind":"heart-rate","time":"2026-11-21T10:)" + std::string(i < 10 ? "0" : "") + std::to_string(i) +
             R"(:00Z","values":{"value":)" + std::to_string(60 + i) + "}}\n";
  }
  auto added = d.ctl({"measure", "add", "--json"}, lines);
  ASSERT_EQ(added.exit_code, 0) << added.err;
  d.signal(SIGKILL);  // uploads may be anywhere between not started and done-but-unrecorded
  d.wait_exit();

  ASSERT_TRUE(d.start()) << d.log();
  ASSERT_EQ(d.ctl({"sync", "now", "--wait", "30"}).exit_code, 0) << d.log();
  EXPECT_EQ(peer_->count("Observation"), 50u);
  std::size_t from = 0;
  int checked = 0;
  while ((from = added.out.find("\"uid\":\"", from)) != std::string::npos) {
    const auto uid = added.out.substr(from + 7, 36);
    EXPECT_EQ(peer_->count_by_identifier("Observation", kIdSystem, "urn:uuid:" + uid), 1u) << uid;
    from += 7;
    ++checked;
  }
  EXPECT_EQ(checked, 50);
}

TEST_F(WalkingSkeleton, AnUnreachableServerKeepsReadingsBufferedAndSaysWhy) {
  DaemonProcess d(dir_, "http://127.0.0.1:1/fhir/R4");  // port 1: nothing listens
  ASSERT_TRUE(d.start()) << d.log();
  ASSERT_EQ(d.ctl({"measure", "add", "--kind", "heart-rate", "--value", "61"}).exit_code, 0);
  auto synced = d.ctl({"sync", "now", "--wait", "1"});
  EXPECT_EQ(synced.exit_code, 1);
  EXPECT_NE(synced.err.find("1 pending"), std::string::npos) << synced.err;
  EXPECT_NE(synced.err.find("Couldn't connect"), std::string::npos) << synced.err;
  auto status = nlohmann::json::parse(d.ctl({"status", "--json"}).out);
  EXPECT_EQ(status["buffer"]["pending"], 1);
  EXPECT_NE(status["sync"]["last_error"].get<std::string>().find("127.0.0.1:1"), std::string::npos);
}

TEST_F(WalkingSkeleton, WithoutAFhirUrlReadingsStayBufferedAndStatusSaysSo) {
  DaemonProcess d(dir_, "");
  ASSERT_TRUE(d.start()) << d.log();
  ASSERT_EQ(d.ctl({"measure", "add", "--kind", "body-weight", "--value", "180", "--unit", "[lb_av]"}).exit_code, 0);
  auto status = d.ctl({"status"});
  EXPECT_NE(status.out.find("no FHIR URL configured"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("1 pending"), std::string::npos) << status.out;
  auto listed = nlohmann::json::parse(d.ctl({"measurements", "--json"}).out);
  EXPECT_NEAR(listed["values"]["value"].get<double>(), 81.6466266, 1e-6);
}

TEST_F(WalkingSkeleton, StatusShowsATechnicianAlertsWarningsAndTheMetricsFileAtAGlance) {
  DaemonProcess d(dir_, "");
  d.config()["rules"] = {{"file", (source_dir() / "config/rules/hf5.json").string()}};
  d.config()["metrics"] = {{"textfile", dir_.file("carehub.prom")}, {"interval_s", 10}};
  ASSERT_TRUE(d.start()) << d.log();
  ASSERT_EQ(d.ctl({"measure", "add", "--kind", "blood-pressure", "--systolic", "207.25", "--diastolic", "100"}).exit_code, 0);
  auto status = d.ctl({"status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("alerts     1 open"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("repeat-request     HF5"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("WARNING    /fhir/base_url is empty"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("metrics    " + dir_.file("carehub.prom")), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("database + "), std::string::npos) << status.out;  // disk use
  // The metrics file is there for node_exporter; the reading's values are in neither output.
  EXPECT_NE(read_file(dir_.file("carehub.prom")).find("# TYPE carehub_buffer_pending_readings gauge"), std::string::npos);
  EXPECT_EQ(d.ctl({"status", "--json"}).out.find("207.25"), std::string::npos);
}

TEST_F(WalkingSkeleton, ABadConfigIsRefusedWithExitCodeTwoAndAMessageNamingThePath) {
  DaemonProcess d(dir_, "");
  d.config()["fhir"]["base_url"] = 5;
  EXPECT_EQ(d.run_to_exit(), 2);
  EXPECT_NE(d.log().find("<3>carehubd: event=config-invalid file=" + dir_.file("carehubd.json")), std::string::npos) << d.log();
  EXPECT_NE(d.log().find("/fhir/base_url: expected a string, found number 5"), std::string::npos) << d.log();
}

TEST_F(WalkingSkeleton, ABadConfigOnReloadIsRejectedAndTheDaemonKeepsServing) {
  DaemonProcess d(dir_, "");
  ASSERT_TRUE(d.start()) << d.log();
  write_file(dir_.file("carehubd.json"), "{ \"hub\": ");
  d.signal(SIGHUP);
  ASSERT_TRUE(d.wait_notify("reload rejected")) << d.log();
  EXPECT_NE(d.log().find("<3>carehubd: event=reload-rejected problem="), std::string::npos) << d.log();
  EXPECT_NE(d.log().find("carehubd.json:1:"), std::string::npos) << d.log();
  EXPECT_EQ(d.ctl({"status"}).exit_code, 0);
  d.signal(SIGTERM);
  EXPECT_TRUE(d.wait_notify("STOPPING=1"));
  EXPECT_EQ(d.wait_exit(), 0);
  EXPECT_NE(d.log().find("<5>carehubd: event=stopped clean=true"), std::string::npos) << d.log();
}

TEST_F(WalkingSkeleton, FeedsTheSystemdWatchdogFromThePipelineLoopWhenArmed) {
  DaemonProcess d(dir_, "");
  // As systemd arms it: WATCHDOG_USEC (and WATCHDOG_PID, which sd_watchdog_enabled checks when set).
  ASSERT_TRUE(d.start({{"WATCHDOG_USEC", "300000"}})) << d.log();
  EXPECT_TRUE(d.wait_notify("WATCHDOG=1")) << d.log();
  EXPECT_TRUE(d.wait_notify("WATCHDOG=1")) << "the watchdog must keep being fed, not just once";
}

TEST_F(WalkingSkeleton, LogsCarrySyslogPriorityPrefixesForJournald) {
  DaemonProcess d(dir_, "");
  ASSERT_TRUE(d.start()) << d.log();
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(), 0);
  EXPECT_NE(d.log().find("<5>carehubd: event=started hub="), std::string::npos) << d.log();
  EXPECT_NE(d.log().find("<5>carehubd: event=stopped clean=true"), std::string::npos) << d.log();
}

TEST_F(WalkingSkeleton, EveryLogLineIsOneEventWithStableKeyValueFields) {
  // A run that logs plenty: start, a failing upload (an error text with spaces and quotes), a config
  // with several problems on reload (a multi-line error), a valid reload, a stop.
  DaemonProcess d(dir_, "http://127.0.0.1:1/fhir/R4");  // port 1: nothing listens
  d.config()["log"]["level"] = "debug";
  ASSERT_TRUE(d.start()) << d.log();
  ASSERT_EQ(d.ctl({"measure", "add", "--kind", "heart-rate", "--value", "61"}).exit_code, 0);
  EXPECT_EQ(d.ctl({"sync", "now", "--wait", "1"}).exit_code, 1);
  auto bad = d.config();
  bad["fhir"]["base_url"] = 5;
  bad["store"]["max_bytes"] = "lots";
  write_file(dir_.file("carehubd.json"), bad.dump());
  d.signal(SIGHUP);
  ASSERT_TRUE(d.wait_notify("reload rejected")) << d.log();
  write_file(dir_.file("carehubd.json"), d.config().dump());
  d.signal(SIGHUP);
  ASSERT_TRUE(d.wait_notify("READY=1")) << d.log();
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(), 0);

  // <priority>component: event=NAME, then key=value pairs whose values are bare tokens or quoted with
  // escapes; nothing else may be on a line, and no event spans two lines.
  const std::regex line(R"re(<[3-7]>[a-z0-9-]+: event=[a-z0-9-]+( [a-z0-9_]+=([^ "=\\\x00-\x1f]+|"([^"\\\x00-\x1f]|\\.)*"))*)re");
  const std::string log = d.log();
  std::istringstream in(log);
  std::size_t lines = 0;
  for (std::string l; std::getline(in, l); ++lines) {
    EXPECT_TRUE(std::regex_match(l, line)) << "not one event with key=value fields: " << l;
  }
  EXPECT_GE(lines, 5u) << log;
  // The events this run must have produced, in the format operators grep for.
  EXPECT_NE(log.find("<4>sync: event=upload-failed failures=1 "), std::string::npos) << log;
  EXPECT_NE(log.find("<3>carehubd: event=reload-rejected problem="), std::string::npos) << log;
  EXPECT_NE(log.find("<5>carehubd: event=reloaded file="), std::string::npos) << log;
  EXPECT_NE(log.find("<5>carehubd: event=stopped clean=true"), std::string::npos) << log;
}

TEST_F(WalkingSkeleton, AValidReloadIsAppliedAndAnnounced) {
  DaemonProcess d(dir_, "");
  ASSERT_TRUE(d.start()) << d.log();
  d.config()["log"]["level"] = "warning";
  write_file(dir_.file("carehubd.json"), d.config().dump());
  d.signal(SIGHUP);
  ASSERT_TRUE(d.wait_notify("RELOADING=1")) << d.log();
  ASSERT_TRUE(d.wait_notify("READY=1")) << d.log();
  EXPECT_EQ(d.ctl({"status"}).exit_code, 0);
}

}  // namespace
}  // namespace carehub::test
