// FHIR sync end to end: carehubd -> (fault-injecting proxy) -> the validating local FHIR peer. Every test
// ends by counting on the server: N readings are exactly N Observations, searched by identifier.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

#include "core/time.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/fault_proxy.hpp"
#include "tests/support/fhir_peer.hpp"
#include "sync/http_client.hpp"
#include "tests/integration/upload_steps.hpp"
#include "tests/unit/sync/auth_keys.hpp"

namespace carehub::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kIdSystem = "urn:ietf:rfc:3986";

const char* kRules = R"({"categories": {"CVD": {"notify": true}},
  "rules": [{"id": "HF5", "type": "confirm-by-repeat", "category": "CVD", "kind": "blood-pressure",
             "bands": {"systolic": {"extreme_high": 200}, "diastolic": {"extreme_high": 130}}}]})";

TimePoint now_ms() { return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()); }

std::string line(const std::string& kind, TimePoint t, json values, const std::string& device = "manual") {
  return json{{"kind", kind}, {"time", format_rfc3339(t)}, {"device", device}, {"values", std::move(values)}}.dump() + "\n";
}

// N heart-rate readings a minute apart, ending an hour ago.
std::string heart_rates(int n, int first_bpm = 60) {
  std::string out;
  const auto start = now_ms() - 1h - std::chrono::minutes(n);
  for (int i = 0; i < n; ++i) out += line("heart-rate", start + std::chrono::minutes(i), {{"value", first_bpm + i % 60}});
  return out;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// The authorization server's side of a registration, as a technician does it with the JWK Set that
// `carehubctl auth jwks` printed (the peer's POST /__control/jwks; see tests/peers/fhir/README.md).
void register_jwks(const FhirPeer& peer, const std::string& jwks) {
  auto http = sync::make_curl_client({});
  auto resp = http->send({"POST", "http://127.0.0.1:" + std::to_string(peer.port()) + "/__control/jwks",
                          {{"Content-Type", "application/json"}}, jwks});
  ASSERT_TRUE(resp) << resp.error().message;
  ASSERT_EQ(resp->status, 200) << resp->body;
}

class SyncEndToEnd : public ::testing::Test {
 protected:
  void start_peer(const FhirPeerOptions& options = {}) {
    peer_ = std::make_unique<FhirPeer>(dir_.file("fhir.log"), options);
    peer_->put("Patient/test-patient", {{"resourceType", "Patient"}, {"id", "test-patient"}});
    proxy_ = std::make_unique<FaultProxy>(dir_.file("proxy.log"), peer_->port());
  }
  // carehubd uploading through the proxy.
  DaemonProcess& daemon() {
    if (!d_) {
      d_ = std::make_unique<DaemonProcess>(dir_, proxy_->base_url_for("/fhir/R4"));
      d_->config()["fhir"]["request_timeout_ms"] = 3000;  // stalls end in a timeout, quickly
    }
    return *d_;
  }
  std::vector<std::string> add(const std::string& lines) { return add_stored(daemon(), lines); }
  bool sync(int seconds = 60) { return sync_now(daemon(), seconds); }
  // Each uid is on the server exactly once, and the server holds nothing else.
  void expect_exactly_once(const std::vector<std::string>& uids) {
    for (const auto& uid : uids) {
      EXPECT_EQ(peer_->count_by_identifier("Observation", kIdSystem, "urn:uuid:" + uid), 1u) << uid;
    }
    EXPECT_EQ(peer_->count("Observation"), uids.size());
  }
  json status() { return daemon().status(); }

  TempDir dir_;
  std::unique_ptr<FhirPeer> peer_;
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<DaemonProcess> d_;
};

TEST_F(SyncEndToEnd, EveryKindAnAggregateAndAnAlertAreAcceptedByTheValidatingServer) {
  start_peer();
  write(dir_.file("rules.json"), kRules);
  daemon().config()["rules"] = {{"file", "rules.json"}};
  daemon().config()["fhir"]["aggregate"] = json::array({{{"kind", "heart-rate"}, {"period_s", 60}, {"devices", {"wearable-1"}}}});
  ASSERT_TRUE(daemon().start()) << daemon().log();

  const auto t = now_ms() - 2h;
  std::string spot = line("blood-pressure", t, {{"systolic", 128}, {"diastolic", 82}, {"mean", 97}, {"pulse", 64}}) +
                     line("heart-rate", t, {{"value", 72}}) + line("body-temperature", t, {{"value", 36.9}}) +
                     line("body-weight", t, {{"value", 81.4}, {"bmi", 26.6}, {"height", 1.75}}) +
                     line("spo2", t, {{"value", 97}, {"pulse", 68}}) + line("glucose", t, {{"value", 104}}) +
                     line("steps", t, {{"value", 5400}}) + line("room-temperature", t, {{"value", 21.5}}) +
                     line("room-humidity", t, {{"value", 45}}) + line("illuminance", t, {{"value", 320}}) +
                     line("motion", t, {{"value", 1}});
  const auto spot_uids = add(spot);
  ASSERT_EQ(spot_uids.size(), 11u);
  // Two minutes of a wearable's 1 Hz heart rate, long closed: two aggregate Observations.
  std::string stream;
  const auto minute = std::chrono::time_point_cast<std::chrono::minutes>(t - 30min);
  for (int s = 0; s < 120; ++s) stream += line("heart-rate", minute + std::chrono::seconds(s), {{"value", 60 + s % 20}}, "wearable-1");
  ASSERT_EQ(add(stream).size(), 120u);
  // An extreme blood pressure and its confirming repeat: a repeat request and a red alert.
  const auto b = now_ms() - 4min;
  const auto evidence = add(line("blood-pressure", b, {{"systolic", 210}, {"diastolic", 135}}) +
                            line("blood-pressure", b + 2min, {{"systolic", 208}, {"diastolic", 133}}));
  ASSERT_TRUE(sync());

  for (const auto& uid : spot_uids) EXPECT_EQ(peer_->count_by_identifier("Observation", kIdSystem, "urn:uuid:" + uid), 1u);
  // A reading's derived measurements are Observations of their own (derivedFrom): the cuff's pulse, the
  // scale's height and BMI, the oximeter's pulse.
  EXPECT_EQ(peer_->count("Observation"), 11u + 4u + 2u + 2u)
      << "spot readings and their 4 derived ones, two aggregates, the alert's evidence";
  const auto periods = peer_->get("Observation?code=8867-4&_count=100");
  std::size_t aggregates = 0;
  for (const auto& e : periods.value("entry", json::array())) aggregates += e["resource"].contains("effectivePeriod") ? 1 : 0;
  EXPECT_EQ(aggregates, 2u);

  auto alerts = daemon().ctl({"alerts", "--json", "--all"});
  ASSERT_EQ(alerts.exit_code, 0);
  std::size_t n_alerts = 0;
  std::string red;
  for (std::size_t from = 0, nl = alerts.out.find('\n'); nl != std::string::npos; from = nl + 1, nl = alerts.out.find('\n', from)) {
    const auto a = json::parse(alerts.out.substr(from, nl - from));
    ++n_alerts;
    EXPECT_EQ(peer_->count_by_identifier("DetectedIssue", "urn:carehub:alert", a["id"]), 1u) << a.dump();
    if (a["severity"] == "red" && a["event"] == "alert") red = a["id"];
  }
  ASSERT_GE(n_alerts, 1u);
  ASSERT_FALSE(red.empty()) << alerts.out;
  EXPECT_EQ(peer_->count("DetectedIssue"), n_alerts);
  auto issue = peer_->get("DetectedIssue?identifier=urn:carehub:alert%7C" + red)["entry"][0]["resource"];
  EXPECT_EQ(issue["severity"], "high");
  EXPECT_EQ(issue["patient"]["reference"], "Patient/test-patient");
  ASSERT_TRUE(issue.contains("evidence")) << issue.dump();
  for (const auto& ref : issue["evidence"][0]["detail"]) {
    EXPECT_EQ(peer_->get(ref["reference"].get<std::string>())["resourceType"], "Observation");
  }

  // The patient acknowledges: the same DetectedIssue is amended with a mitigation.
  ASSERT_EQ(daemon().ctl({"alerts", "ack", red}).exit_code, 0);
  ASSERT_TRUE(sync());
  issue = peer_->get("DetectedIssue?identifier=urn:carehub:alert%7C" + red)["entry"][0]["resource"];
  EXPECT_EQ(issue["status"], "amended");
  ASSERT_TRUE(issue.contains("mitigation")) << issue.dump();
  EXPECT_EQ(issue["mitigation"].back()["action"]["coding"][0]["code"], "acknowledged");
  EXPECT_EQ(peer_->count("DetectedIssue"), n_alerts);
  EXPECT_EQ(status()["sync"]["pending_alerts"], 0);
}

struct Fault {
  const char* name;
  json faults;  // added to the proxy before the readings are synced
};

void PrintTo(const Fault& f, std::ostream* os) { *os << f.name; }

class SyncThroughFaults : public SyncEndToEnd, public ::testing::WithParamInterface<Fault> {};

TEST_P(SyncThroughFaults, NReadingsAreExactlyNObservations) {
  start_peer();
  daemon().config()["fhir"]["bundle_size"] = 10;
  ASSERT_TRUE(daemon().start()) << daemon().log();
  // The faults first: carehubd uploads as soon as readings commit, so a fault added after them could
  // find nothing left to hit.
  proxy_->add_fault(GetParam().faults);
  auto uids = add(heart_rates(25));
  uids.push_back(add(heart_rates(1, 150)).front());
  ASSERT_TRUE(sync());
  EXPECT_GE(proxy_->stats()["faults_applied"].size(), 1u) << "the fault never happened: " << proxy_->stats().dump();
  expect_exactly_once(uids);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, SyncThroughFaults,
    ::testing::Values(
        Fault{"ServerErrors", json::array({{{"kind", "status"}, {"status", 500}, {"count", 2}},
                                           {{"kind", "status"}, {"status", 503}, {"headers", {{"Retry-After", "1"}}}},
                                           {{"kind", "status"}, {"status", 429}, {"headers", {{"Retry-After", "1"}}}}})},
        Fault{"ResetBeforeTheServerSawIt", json::array({{{"kind", "reset_before"}, {"count", 2}}})},
        Fault{"ResetAfterTheServerStoredIt", json::array({{{"kind", "reset_after"}, {"count", 2}}})},
        Fault{"ResetMidResponse", json::array({{{"kind", "reset_mid_response"}, {"count", 2}}})},
        Fault{"StallMidResponse", json::array({{{"kind", "stall_mid_response"}, {"count", 1}}})}),
    [](const ::testing::TestParamInfo<Fault>& param) { return std::string(param.param.name); });

TEST_F(SyncEndToEnd, ReadingsWaitOutAServerThatIsDownAndArriveOnce) {
  start_peer();
  ASSERT_TRUE(daemon().start()) << daemon().log();
  proxy_->set_down();
  const auto uids = add(heart_rates(30));
  auto r = daemon().ctl({"sync", "now", "--wait", "2"});
  EXPECT_NE(r.exit_code, 0) << "nothing can be uploaded while the server is down";
  EXPECT_EQ(status()["sync"]["state"], "backing off");
  EXPECT_EQ(status()["buffer"]["pending"], 30);
  proxy_->set_up();
  ASSERT_TRUE(sync());
  expect_exactly_once(uids);
}

TEST_F(SyncEndToEnd, OneInvalidEntryIsDeadLetteredTheRestArriveAndItIsReDrivenAfterAFix) {
  start_peer();
  ASSERT_TRUE(daemon().start()) << daemon().log();
  // The server is unreachable until the rule is in place: carehubd uploads as soon as readings commit.
  proxy_->set_down();
  const auto uids = add(heart_rates(12));
  peer_->reject(std::string(kIdSystem) + "|urn:uuid:" + uids[5], 422);
  proxy_->set_up();
  ASSERT_TRUE(sync());
  EXPECT_EQ(peer_->count("Observation"), 11u);
  EXPECT_EQ(peer_->count_by_identifier("Observation", kIdSystem, "urn:uuid:" + uids[5]), 0u);
  auto dead = daemon().ctl({"sync", "dead", "--json"});
  EXPECT_NE(dead.out.find(uids[5]), std::string::npos) << dead.out;
  EXPECT_NE(dead.out.find("OperationOutcome"), std::string::npos) << "the server's reason is kept: " << dead.out;
  EXPECT_EQ(status()["buffer"]["dead"], 1);

  peer_->clear_rejections();
  ASSERT_EQ(daemon().ctl({"sync", "retry-dead"}).exit_code, 0);
  ASSERT_TRUE(sync());
  expect_exactly_once(uids);
}

TEST_F(SyncEndToEnd, AnExpiredOrRotatedTokenIsReplacedAndNothingIsLost) {
  FhirPeerOptions o;
  o.client_id = "hub-test";
  o.client_secret = "correct horse";
  o.token_ttl_s = 600;
  start_peer(o);
  write(dir_.file("fhir-secret"), "correct horse\n");
  daemon().config()["fhir"]["oauth2"] = {{"token_url", "http://127.0.0.1:" + std::to_string(peer_->port()) + "/oauth2/token"},
                                         {"client_id", "hub-test"},
                                         {"client_secret_file", "fhir-secret"}};
  // The secret comes from systemd's credentials directory, as under LoadCredential=.
  ASSERT_TRUE(daemon().start({{"CREDENTIALS_DIRECTORY", dir_.path().string()}})) << daemon().log();
  auto uids = add(heart_rates(10));
  ASSERT_TRUE(sync());
  const auto issued = peer_->stats()["tokens"]["issued"].get<int>();

  peer_->expire_tokens();  // rotation: every token issued so far is refused from now on
  auto more = add(heart_rates(10, 100));
  uids.insert(uids.end(), more.begin(), more.end());
  ASSERT_TRUE(sync());
  peer_->advance_token_clock(3600);  // and one that expired by its lifetime
  more = add(heart_rates(5, 140));
  uids.insert(uids.end(), more.begin(), more.end());
  ASSERT_TRUE(sync());
  expect_exactly_once(uids);
  EXPECT_GE(peer_->stats()["tokens"]["issued"].get<int>(), issued + 2);
  EXPECT_EQ(daemon().log().find("correct horse"), std::string::npos) << "the secret was logged";
}

// SMART Backend Services (issue 18): carehubd signs its token requests with a key only it reads; the
// public key comes from `carehubctl auth jwks`; a rotation (next key published, hub switched by a reload,
// old key dropped by the server, its tokens revoked) loses no reading, and the key never reaches the log.
TEST_F(SyncEndToEnd, SignedJwtAuthenticationAndAKeyRotationLoseNothing) {
  write(dir_.file("no-keys.jwks"), R"({"keys":[]})");
  FhirPeerOptions o;
  o.client_id = "hub-test";
  o.client_secret = "for-the-test-look-ups-only";  // the hub has no secret; the test's own look-ups use it
  o.extra_args = {"--jwks", dir_.file("no-keys.jwks")};
  start_peer(o);
  write(dir_.file("fhir-jwt-key"), sync::test_keys::kEcPem);
  write(dir_.file("fhir-jwt-key-next"), sync::test_keys::kRsaPem);
  daemon().config()["fhir"]["oauth2"] = {{"token_url", "http://127.0.0.1:" + std::to_string(peer_->port()) + "/oauth2/token"},
                                         {"client_id", "hub-test"},
                                         {"private_key_file", "fhir-jwt-key"}};
  ASSERT_TRUE(daemon().start({{"CREDENTIALS_DIRECTORY", dir_.path().string()}})) << daemon().log();
  const auto reload = [&] {
    write(dir_.file("carehubd.json"), daemon().config().dump(2));
    daemon().signal(SIGHUP);
    ASSERT_TRUE(daemon().wait_notify("READY=1")) << daemon().log();
  };
  auto jwks = daemon().ctl({"auth", "jwks"});
  ASSERT_EQ(jwks.exit_code, 0) << jwks.err;
  const auto old_kid = json::parse(jwks.out).at("keys").at(0).at("kid").get<std::string>();
  EXPECT_EQ(old_kid, sync::test_keys::kEcKid);
  EXPECT_EQ(jwks.out.find("\"d\""), std::string::npos) << "the private part is never shown";
  register_jwks(*peer_, jwks.out);
  auto uids = add(heart_rates(10));
  ASSERT_TRUE(sync());

  // Rotation: the next key is published beside the current one and registered, then the hub switches.
  daemon().config()["fhir"]["oauth2"]["next_private_key_file"] = "fhir-jwt-key-next";
  reload();
  jwks = daemon().ctl({"auth", "jwks"});
  ASSERT_EQ(json::parse(jwks.out).at("keys").size(), 2u) << jwks.out;
  register_jwks(*peer_, jwks.out);
  daemon().config()["fhir"]["oauth2"]["private_key_file"] = "fhir-jwt-key-next";
  daemon().config()["fhir"]["oauth2"].erase("next_private_key_file");
  reload();
  jwks = daemon().ctl({"auth", "jwks"});
  ASSERT_EQ(json::parse(jwks.out).at("keys").size(), 1u) << jwks.out;
  EXPECT_EQ(json::parse(jwks.out)["keys"][0]["kid"], sync::test_keys::kRsaKid);
  // The server drops the old key, and every token it bought.
  register_jwks(*peer_, jwks.out);
  peer_->expire_tokens();
  auto more = add(heart_rates(10, 100));
  uids.insert(uids.end(), more.begin(), more.end());
  ASSERT_TRUE(sync()) << daemon().log();
  expect_exactly_once(uids);
  EXPECT_GE(peer_->stats()["tokens"]["jwt_accepted"].get<int>(), 2);
  EXPECT_EQ(daemon().log().find("PRIVATE KEY"), std::string::npos) << "the key was logged";
}

TEST_F(SyncEndToEnd, KillNineWhileTheServerHoldsTheAnswerNeverDuplicates) {
  start_peer();
  ASSERT_TRUE(daemon().start()) << daemon().log();
  auto uids = add(heart_rates(1, 50));
  ASSERT_TRUE(sync());  // the hub's Device exists: the next request is a bundle of Observations
  // The server stores that bundle, but its answer stalls: carehubd dies not knowing it got through.
  proxy_->add_fault({{"kind", "stall_mid_response"}, {"count", 1}});
  const auto more = add(heart_rates(40));
  uids.insert(uids.end(), more.begin(), more.end());
  ASSERT_TRUE(proxy_->wait_for([](const json& s) { return s.value("stalled", 0) >= 1; })) << proxy_->stats().dump();
  daemon().signal(SIGKILL);
  daemon().wait_exit();
  proxy_->release();
  EXPECT_GT(peer_->count("Observation"), 1u) << "the stalled bundle should have reached the server";

  ASSERT_TRUE(daemon().start()) << daemon().log();
  ASSERT_TRUE(sync());
  expect_exactly_once(uids);
}

}  // namespace
}  // namespace carehub::test
