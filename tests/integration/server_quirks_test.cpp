// carehubd against the local FHIR peer in modes that behave like real servers rather than like the peer's
// defaults (issue 13): a server that cannot read gzip request bodies (Tomcat, nginx without gunzip), a
// server that lacks the kit's Patient and enforces referential integrity (HAPI JPA), and an alert whose
// create was committed but whose answer was lost before the patient acknowledged it. Nothing may end
// dead-lettered for what is not a reading's own fault, and every reading arrives exactly once.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

#include "core/time.hpp"
#include "tests/integration/upload_steps.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/fhir_peer.hpp"

namespace carehub::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kIdSystem = "urn:ietf:rfc:3986";
constexpr const char* kPatient = "test-patient";  // DaemonProcess's /hub/patient is Patient/test-patient
const char* kRules = R"({"categories": {"CVD": {"notify": true}},
  "rules": [{"id": "HF5", "type": "confirm-by-repeat", "category": "CVD", "kind": "blood-pressure",
             "bands": {"systolic": {"extreme_high": 200}, "diastolic": {"extreme_high": 130}}}]})";

TimePoint now_ms() { return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()); }

std::string line(const std::string& kind, TimePoint t, json values) {
  return json{{"kind", kind}, {"time", format_rfc3339(t)}, {"device", "manual"}, {"values", std::move(values)}}.dump() + "\n";
}

// Blood pressure, weight and SpO2 with every value they carry: bundles of these are well over 1 KiB, so
// carehubd's default `gzip: auto` compresses them.
std::string spot_readings(int n) {
  std::string out;
  const auto start = now_ms() - 3h;
  for (int i = 0; i < n; ++i) {
    const auto t = start + std::chrono::minutes(3 * i);
    out += line("blood-pressure", t, {{"systolic", 120 + i}, {"diastolic", 80}, {"mean", 93}, {"pulse", 64}});
    out += line("body-weight", t + 1min, {{"value", 80.0 + i * 0.1}, {"bmi", 26.1}, {"height", 1.75}});
    out += line("spo2", t + 2min, {{"value", 97}, {"pulse", 66}});
  }
  return out;
}

// Polls until `done` holds or `timeout` passes: a deadline for something carehubd does on its own
// schedule (a backoff, a wake-up), never a sleep standing in for synchronisation.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

class ServerQuirks : public ::testing::Test {
 protected:
  void start_peer(const FhirPeerOptions& options, bool with_patient = true) {
    peer_ = std::make_unique<FhirPeer>(dir_.file("fhir.log"), options);
    if (with_patient) register_patient();
  }
  void register_patient() { peer_->put(std::string("Patient/") + kPatient, {{"resourceType", "Patient"}, {"id", kPatient}}); }
  DaemonProcess& daemon() {
    if (!d_) d_ = std::make_unique<DaemonProcess>(dir_, peer_->base_url());
    return *d_;
  }
  std::vector<std::string> add(const std::string& lines) { return add_stored(daemon(), lines); }
  void expect_each_once(const std::vector<std::string>& uids) {
    for (const auto& uid : uids) {
      EXPECT_EQ(peer_->count_by_identifier("Observation", kIdSystem, "urn:uuid:" + uid), 1u) << uid;
    }
  }
  json buffer() { return daemon().status()["buffer"]; }

  TempDir dir_;
  std::unique_ptr<FhirPeer> peer_;
  std::unique_ptr<DaemonProcess> d_;
};

TEST_F(ServerQuirks, AServerThatCannotReadGzipGetsEveryReadingOnceAndNoneDead) {
  FhirPeerOptions o;
  o.no_gzip = true;
  start_peer(o);
  ASSERT_TRUE(daemon().start()) << daemon().log();
  const auto uids = add(spot_readings(10));
  ASSERT_EQ(uids.size(), 30u);
  ASSERT_TRUE(sync_now(daemon()));
  EXPECT_EQ(buffer()["dead"], 0) << daemon().log();
  EXPECT_EQ(buffer()["pending"], 0);
  expect_each_once(uids);
  const auto sync = daemon().status()["sync"];
  EXPECT_EQ(sync["gzip"], false) << "gzip stays off for a server that refused it";
  EXPECT_NE(daemon().log().find("gzip-refused"), std::string::npos) << daemon().log();
}

// HAPI with request validation (the HL7 validator's invariants, vital-signs profiles by LOINC code, PHD IG
// profiles where declared), through conformance.mjs: every kind carehubd sends is accepted.
TEST_F(ServerQuirks, AServerValidatingLikeTheHl7ValidatorAcceptsEveryReading) {
  FhirPeerOptions o;
  o.hl7_invariants = true;
  o.refuse_numeric_ids = true;
  start_peer(o);
  ASSERT_TRUE(daemon().start()) << daemon().log();
  const auto t = now_ms() - 2h;
  const auto uids = add(spot_readings(2) + line("heart-rate", t, {{"value", 72}}) +
                        line("body-temperature", t, {{"value", 36.9}}) + line("glucose", t, {{"value", 104}}) +
                        line("steps", t, {{"value", 5400}}) + line("room-temperature", t, {{"value", 21.5}}));
  ASSERT_EQ(uids.size(), 11u);
  ASSERT_TRUE(sync_now(daemon()));
  EXPECT_EQ(buffer()["dead"], 0) << daemon().ctl({"sync", "dead", "--json"}).out;
  expect_each_once(uids);
}

TEST_F(ServerQuirks, AMissingPatientKeepsEverythingPendingUntilItExistsAndAReloadSendsIt) {
  start_peer({}, /*with_patient=*/false);  // referential integrity on, as HAPI JPA: no Patient/test-patient
  ASSERT_TRUE(daemon().start()) << daemon().log();
  const auto uids = add(spot_readings(3));
  ASSERT_EQ(uids.size(), 9u);
  // carehubd tries, finds the Patient missing and backs off: a configuration error, not nine refusals.
  ASSERT_TRUE(eventually([&] {
    return daemon().status()["sync"].value("last_error", "").find("configuration error") != std::string::npos;
  })) << daemon().status().dump() << daemon().log();
  const auto sync = daemon().status()["sync"];
  EXPECT_NE(sync.value("last_error", "").find("Patient/test-patient"), std::string::npos) << sync.dump();
  EXPECT_EQ(buffer()["dead"], 0);
  EXPECT_EQ(buffer()["pending"], 9);
  EXPECT_EQ(peer_->count("Observation"), 0u);

  register_patient();  // the fix: the clinic registers the patient (or /hub/patient is corrected, then a restart)
  daemon().signal(SIGHUP);  // a reload starts a new uploader, which looks the Patient up again at once
  ASSERT_TRUE(eventually([&] { return buffer()["pending"] == 0; })) << daemon().log();
  EXPECT_EQ(buffer()["dead"], 0);
  expect_each_once(uids);
}

TEST_F(ServerQuirks, AnAcknowledgementAfterALostAnswerLeavesTheServerHoldingTheAcknowledgedAlert) {
  FhirPeerOptions o;
  o.refuse_numeric_ids = true;  // as HAPI: a PUT DetectedIssue/<digits> it lacks would be refused
  start_peer(o);
  std::ofstream(dir_.file("rules.json")) << kRules;
  daemon().config()["rules"] = {{"file", "rules.json"}};
  ASSERT_TRUE(daemon().start()) << daemon().log();
  // Every write of the red alert (severity high) is committed by the server and its answer lost, until
  // the patient has acknowledged: the raised revision is on the server, carehubd does not know it.
  peer_->lose_answers("DetectedIssue", 1000, {{"severity", "high"}});
  const auto b = now_ms() - 4min;
  add(line("blood-pressure", b, {{"systolic", 210}, {"diastolic", 135}}) +
      line("blood-pressure", b + 2min, {{"systolic", 208}, {"diastolic", 133}}));
  std::string red;
  ASSERT_TRUE(eventually([&] {
    auto r = daemon().ctl({"alerts", "--json", "--all"});
    for (std::size_t from = 0, nl = r.out.find('\n'); nl != std::string::npos; from = nl + 1, nl = r.out.find('\n', from)) {
      const auto a = json::parse(r.out.substr(from, nl - from));
      if (a["severity"] == "red" && a["event"] == "alert") red = a["id"];
    }
    return !red.empty() && peer_->count_by_identifier("DetectedIssue", "urn:carehub:alert", red) == 1;
  })) << daemon().log();
  EXPECT_GE(peer_->stats()["lost_answers"].get<int>(), 1);
  EXPECT_NE(daemon().status()["sync"]["pending_alerts"], 0) << "synced although its answer was lost";
  const auto acked = daemon().ctl({"alerts", "ack", red});
  ASSERT_EQ(acked.exit_code, 0) << acked.out << acked.err;
  peer_->lose_answers("DetectedIssue", 0);  // answers get through again
  ASSERT_TRUE(sync_now(daemon()));

  const auto found = peer_->get("DetectedIssue?identifier=urn:carehub:alert%7C" + red);
  ASSERT_EQ(found.value("entry", json::array()).size(), 1u) << found.dump();
  const auto& issue = found["entry"][0]["resource"];
  EXPECT_EQ(issue["status"], "amended") << issue.dump();
  bool acknowledged = false;
  for (const auto& m : issue.value("mitigation", json::array())) {
    acknowledged = acknowledged || m["action"]["coding"][0]["code"] == "acknowledged";
  }
  EXPECT_TRUE(acknowledged) << "the server kept the raised revision: " << issue.dump();
  EXPECT_EQ(daemon().status()["sync"]["pending_alerts"], 0);
}

}  // namespace
}  // namespace carehub::test
