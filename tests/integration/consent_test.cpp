// Consent end to end (issue 18): carehubctl consent -> carehubd -> the store -> the uploader -> the local
// FHIR peer. A kind without consent never reaches the server, while HF5 still judges it and its alert still
// goes (citing no withheld Observation); `sync now --wait` is not held up by withheld readings; what was
// pending when consent was withdrawn stays on the hub; a grant shares from then on, and releases the
// withheld ones only when asked.
#include <gtest/gtest.h>

#include <chrono>

#include "core/time.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/fhir_peer.hpp"

namespace carehub::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPatient = "Patient/test-patient";  // DaemonProcess's /hub/patient
constexpr const char* kIdSystem = "urn:ietf:rfc:3986";

const char* kRules = R"({"categories": {"CVD": {"notify": true}},
  "rules": [{"id": "HF5", "type": "confirm-by-repeat", "category": "CVD", "kind": "blood-pressure",
             "bands": {"systolic": {"extreme_high": 200}, "diastolic": {"extreme_high": 130}}}]})";

TimePoint now_ms() { return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()); }

std::string bp_line(double sys, double dia, TimePoint t) {
  return nlohmann::json{{"kind", "blood-pressure"}, {"time", format_rfc3339(t)}, {"device", "cuff-1"},
                        {"values", {{"systolic", sys}, {"diastolic", dia}}}}
             .dump() + "\n";
}
std::string hr_line(double bpm, TimePoint t) {
  return nlohmann::json{{"kind", "heart-rate"}, {"time", format_rfc3339(t)}, {"device", "band-1"}, {"values", {{"value", bpm}}}}
             .dump() + "\n";
}

class ConsentEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    peer_ = std::make_unique<FhirPeer>(dir_.file("fhir.log"));
    peer_->put(kPatient, {{"resourceType", "Patient"}, {"id", "test-patient"}});
    write_file(dir_.file("rules.json"), kRules);
    d_ = std::make_unique<DaemonProcess>(dir_, peer_->base_url());
    d_->config()["rules"] = {{"file", "rules.json"}};
  }
  std::size_t on_server(const std::string& uid) {
    return peer_->count_by_identifier("Observation", kIdSystem, "urn:uuid:" + uid);
  }
  void set(const std::vector<std::string>& extra) {
    std::vector<std::string> args{"consent", "set", "--patient", kPatient};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = d_->ctl(args);
    ASSERT_EQ(r.exit_code, 0) << r.err << d_->log();
  }
  void sync() {
    auto synced = d_->ctl({"sync", "now", "--wait", "30"});
    ASSERT_EQ(synced.exit_code, 0) << synced.err << d_->log();
  }

  TempDir dir_;
  std::unique_ptr<FhirPeer> peer_;
  std::unique_ptr<DaemonProcess> d_;
};

TEST_F(ConsentEndToEnd, AWithheldKindNeverReachesTheServerWhileHF5JudgesItAndItsAlertGoesWithoutIt) {
  ASSERT_TRUE(d_->start()) << d_->log();
  set({"--kind", "blood-pressure", "deny", "--reason", "patient's request"});
  const auto t0 = now_ms() - 5min;
  auto added = d_->add(bp_line(210, 120, t0) + hr_line(72, t0));
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const auto uids = added.uids();
  ASSERT_EQ(uids.size(), 2u);

  sync();  // returns: nothing is pending, the withheld reading is no backlog
  EXPECT_EQ(on_server(uids[0]), 0u) << "the blood pressure stays on the hub";
  EXPECT_EQ(on_server(uids[1]), 1u) << "the heart rate goes as before";
  EXPECT_EQ(peer_->count("Observation"), 1u);

  // HF5 judged the withheld reading: its repeat request is raised, and reaches the care team.
  auto alerts = d_->ctl({"alerts", "--json"});
  ASSERT_NE(alerts.out.find("\"rule\":\"HF5\""), std::string::npos) << alerts.out;
  sync();
  auto issues = peer_->get("DetectedIssue");
  ASSERT_EQ(issues["entry"].size(), 1u) << issues.dump();
  EXPECT_FALSE(issues["entry"][0]["resource"].contains("evidence")) << "cites no withheld Observation";

  auto status = d_->status();
  EXPECT_EQ(status["buffer"]["withheld"], 1) << status["buffer"].dump();
  EXPECT_EQ(status["buffer"]["pending"], 0);
  EXPECT_EQ(status["consent"]["patients"][0]["denied"], nlohmann::json::array({"blood-pressure"}));
  auto text = d_->ctl({"status"});
  EXPECT_NE(text.out.find("withheld"), std::string::npos) << text.out;
}

TEST_F(ConsentEndToEnd, WithdrawingKeepsTheBacklogOnTheHubAndAGrantSharesFromThenOnOrReleasesWhenAsked) {
  // The server is down while readings arrive: they wait as pending.
  const int port = peer_->port();
  peer_->stop();
  ASSERT_TRUE(d_->start()) << d_->log();
  const auto t0 = now_ms() - 10min;
  auto added = d_->add(bp_line(130, 80, t0) + hr_line(70, t0));
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const auto before = added.uids();
  auto withdrawn = d_->ctl({"consent", "set", "--patient", kPatient, "--kind", "blood-pressure", "deny"});
  ASSERT_EQ(withdrawn.exit_code, 0) << withdrawn.err;
  EXPECT_NE(withdrawn.out.find("1 reading(s) not yet uploaded are now withheld"), std::string::npos) << withdrawn.out;

  peer_ = std::make_unique<FhirPeer>(dir_.file("fhir2.log"), port);
  peer_->put(kPatient, {{"resourceType", "Patient"}, {"id", "test-patient"}});
  sync();
  EXPECT_EQ(on_server(before[0]), 0u) << "pending when consent was withdrawn: never sent";
  EXPECT_EQ(on_server(before[1]), 1u);

  set({"--kind", "blood-pressure", "allow"});
  auto later = d_->add(bp_line(131, 81, now_ms()));
  ASSERT_EQ(later.exit_code, 0) << later.err;
  sync();
  EXPECT_EQ(on_server(later.uids()[0]), 1u) << "measured after the grant: shared";
  EXPECT_EQ(on_server(before[0]), 0u) << "measured while withdrawn: not shared by a grant alone";

  set({"--kind", "blood-pressure", "allow", "--release-withheld"});
  sync();
  EXPECT_EQ(on_server(before[0]), 1u) << "released on the patient's request";
  EXPECT_EQ(d_->status()["buffer"]["withheld"], 0);
}

}  // namespace
}  // namespace carehub::test
