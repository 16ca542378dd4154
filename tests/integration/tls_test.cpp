// TLS of the FHIR upload end to end: carehubd -> the fault proxy speaking TLS (a certificate from a test
// CA, optionally requiring a client certificate) -> the validating FHIR peer. Each test proves both
// sides: what is refused uploads nothing (the readings stay pending, the server stays empty, and the
// proxy saw the handshake refused), and what is allowed delivers N readings as exactly N Observations.
#include <gtest/gtest.h>

#include <csignal>
#include <functional>
#include <thread>

#include "core/time.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/fault_proxy.hpp"
#include "tests/support/fhir_peer.hpp"
#include "tests/integration/upload_steps.hpp"
#include "tests/support/test_pki.hpp"

namespace carehub::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kIdSystem = "urn:ietf:rfc:3986";
constexpr const char* kVerifyOffWarning = "/fhir/tls_verify";

TimePoint now_ms() { return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()); }

// N heart-rate readings a minute apart, ending an hour ago.
std::string heart_rates(int n, int first_bpm = 60) {
  std::string out;
  const auto start = now_ms() - 1h - std::chrono::minutes(n);
  for (int i = 0; i < n; ++i) {
    out += json{{"kind", "heart-rate"},
                {"time", format_rfc3339(start + std::chrono::minutes(i))},
                {"device", "manual"},
                {"values", {{"value", first_bpm + i % 60}}}}
               .dump() +
           "\n";
  }
  return out;
}

// The carehubd log line that holds `needle`, or "" if none does.
std::string log_line_with(const std::string& log, const std::string& needle) {
  const auto at = log.find(needle);
  if (at == std::string::npos) return {};
  const auto begin = log.rfind('\n', at);
  const auto end = log.find('\n', at);
  return log.substr(begin == std::string::npos ? 0 : begin + 1, end == std::string::npos ? std::string::npos : end - begin - 1);
}

class TlsUpload : public ::testing::Test {
 protected:
  // The FHIR peer behind the proxy; the proxy's data port speaks TLS with the test CA's server
  // certificate and, with `mutual`, requires a client certificate signed by the test CA.
  void start_peers(bool mutual) {
    peer_ = std::make_unique<FhirPeer>(dir_.file("fhir.log"));
    peer_->put("Patient/test-patient", {{"resourceType", "Patient"}, {"id", "test-patient"}});
    FaultProxyOptions o;
    o.tls_cert_file = pki_.server_cert;
    o.tls_key_file = pki_.server_key;
    if (mutual) o.client_ca_file = pki_.ca_cert;
    proxy_ = std::make_unique<FaultProxy>(dir_.file("proxy.log"), peer_->port(), o);
  }
  // carehubd uploading through the proxy (https://127.0.0.1:<port>/fhir/R4); tests add TLS settings.
  DaemonProcess& daemon() {
    if (!d_) {
      d_ = std::make_unique<DaemonProcess>(dir_, proxy_->base_url_for("/fhir/R4"));
      d_->config()["fhir"]["request_timeout_ms"] = 3000;
    }
    return *d_;
  }
  // Stops carehubd cleanly so a test can change its TLS settings and start it on the same buffer.
  void stop_daemon() {
    daemon().signal(SIGTERM);
    EXPECT_EQ(daemon().wait_exit(), 0) << daemon().log();
  }
  std::vector<std::string> add(const std::string& lines) { return add_stored(daemon(), lines); }
  bool sync(int seconds = 60) { return sync_now(daemon(), seconds); }
  json status() { return daemon().status(); }
  // Polls `carehubctl status --json` until `done` holds (a deadline, not a sleep to synchronise); the last
  // status seen, for the failure message.
  bool wait_status(const std::function<bool(const json&)>& done, json& last) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (;;) {
      last = status();
      if (!last.is_discarded() && done(last)) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(20ms);  // polling a condition, with a deadline
    }
  }
  // An upload attempt happened and was refused at the TLS handshake: the proxy counted the refused
  // handshake, carehubd counted a failure and shows its error, nothing reached the server, and every
  // reading is still pending. Returns carehubd's last sync error.
  std::string expect_refused_and_pending(std::size_t n) {
    daemon().ctl({"sync", "now"});  // an attempt now, not at the end of a backoff
    EXPECT_TRUE(proxy_->wait_for([](const json& s) { return s["tls_handshake_failures"].get<int>() >= 1; }))
        << proxy_->stats().dump();
    json s;
    EXPECT_TRUE(wait_status([](const json& j) { return j["sync"]["consecutive_failures"].get<int>() >= 1; }, s)) << s.dump();
    const auto error = s["sync"]["last_error"].get<std::string>();
    RecordProperty("carehubd_sync_error", error);  // in --gtest_output=xml: what libcurl made of the refusal
    EXPECT_NE(error.find(proxy_->base_url_for("/fhir/R4")), std::string::npos) << "the error names the request: " << error;
    EXPECT_EQ(s["sync"]["state"], "backing off") << s.dump();
    EXPECT_EQ(s["buffer"]["pending"], n) << s.dump();
    // A bounded wait that must end unfinished: nothing can be uploaded, and carehubctl says why.
    auto r = daemon().ctl({"sync", "now", "--wait", "1"});
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_NE(r.err.find("last error"), std::string::npos) << r.err;
    EXPECT_EQ(status()["buffer"]["pending"], n);
    const auto p = proxy_->stats();
    EXPECT_EQ(p["forwarded"], 0) << "a request passed the proxy: " << p.dump();
    EXPECT_EQ(p["requests"], 0) << "a request was read over a refused connection: " << p.dump();
    EXPECT_EQ(peer_->count("Observation"), 0u);
    return error;
  }
  // Each uid is on the server exactly once, and the server holds nothing else.
  void expect_exactly_once(const std::vector<std::string>& uids) {
    for (const auto& uid : uids) {
      EXPECT_EQ(peer_->count_by_identifier("Observation", kIdSystem, "urn:uuid:" + uid), 1u) << uid;
    }
    EXPECT_EQ(peer_->count("Observation"), uids.size());
    EXPECT_EQ(status()["buffer"]["pending"], 0);
  }

  TempDir dir_;
  TestPki pki_{dir_};
  std::unique_ptr<FhirPeer> peer_;
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<DaemonProcess> d_;
};

TEST_F(TlsUpload, VerificationIsOnByDefaultSoAnUntrustedServerGetsNothingUntilItsCaIsConfigured) {
  start_peers(/*mutual=*/false);
  ASSERT_TRUE(daemon().start()) << daemon().log();  // no ca_file, no tls_verify: the system store, verifying
  EXPECT_EQ(log_line_with(daemon().log(), kVerifyOffWarning), "") << "verification is on, yet carehubd warned";
  const auto uids = add(heart_rates(12));
  ASSERT_EQ(uids.size(), 12u);

  const auto error = expect_refused_and_pending(uids.size());
  // libcurl's words for a chain it cannot verify, and the proxy's for the client's "unknown CA" alert.
  EXPECT_NE(error.find("certificate"), std::string::npos) << error;
  EXPECT_NE(proxy_->stats()["tls_last_error"].get<std::string>().find("UNKNOWN_CA"), std::string::npos)
      << proxy_->stats().dump();

  stop_daemon();
  daemon().config()["fhir"]["ca_file"] = pki_.ca_cert;
  ASSERT_TRUE(daemon().start()) << daemon().log();
  ASSERT_TRUE(sync());
  expect_exactly_once(uids);
  EXPECT_GE(proxy_->stats()["tls_handshakes"].get<int>(), 1) << "the upload did not go over TLS";
  EXPECT_EQ(status()["sync"]["last_error"], "");
}

TEST_F(TlsUpload, TlsVerifyFalseUploadsWithoutTheCaAndWarnsAtStart) {
  start_peers(/*mutual=*/false);
  daemon().config()["fhir"]["tls_verify"] = false;
  ASSERT_TRUE(daemon().start()) << daemon().log();
  const auto warning = log_line_with(daemon().log(), kVerifyOffWarning);
  EXPECT_TRUE(warning.starts_with("<4>")) << "expected a warning (<4>) naming /fhir/tls_verify at start; log:\n"
                                          << daemon().log();
  const auto uids = add(heart_rates(9));
  ASSERT_TRUE(sync());
  expect_exactly_once(uids);
  const auto p = proxy_->stats();
  EXPECT_GE(p["tls_handshakes"].get<int>(), 1) << p.dump();
  EXPECT_EQ(p["tls_handshake_failures"], 0) << p.dump();
}

TEST_F(TlsUpload, MutualTlsRefusesAHubWithoutACertificateThenItsCertificateDeliversExactlyOnce) {
  start_peers(/*mutual=*/true);
  daemon().config()["fhir"]["ca_file"] = pki_.ca_cert;  // the hub trusts the server; the server asks more
  ASSERT_TRUE(daemon().start()) << daemon().log();
  const auto uids = add(heart_rates(15));
  ASSERT_EQ(uids.size(), 15u);

  expect_refused_and_pending(uids.size());
  EXPECT_NE(proxy_->stats()["tls_last_error"].get<std::string>().find("PEER_DID_NOT_RETURN_A_CERTIFICATE"),
            std::string::npos)
      << proxy_->stats().dump();

  stop_daemon();
  daemon().config()["fhir"]["client_cert_file"] = pki_.client_cert;
  daemon().config()["fhir"]["client_key_file"] = pki_.client_key;
  const auto refused = proxy_->stats()["tls_handshake_failures"].get<int>();
  ASSERT_TRUE(daemon().start()) << daemon().log();
  ASSERT_TRUE(sync());
  expect_exactly_once(uids);
  EXPECT_EQ(proxy_->stats()["tls_handshake_failures"], refused) << "a handshake with the client certificate failed";
  EXPECT_NE(read_file(dir_.file("proxy.log")).find("client certificate: commonName=hub-test"), std::string::npos)
      << "the proxy never saw the hub's certificate:\n"
      << read_file(dir_.file("proxy.log"));
}

TEST_F(TlsUpload, MutualTlsRefusesACertificateFromAnUnrelatedCa) {
  start_peers(/*mutual=*/true);
  daemon().config()["fhir"]["ca_file"] = pki_.ca_cert;
  daemon().config()["fhir"]["client_cert_file"] = pki_.other_client_cert;  // same CN, wrong issuer
  daemon().config()["fhir"]["client_key_file"] = pki_.other_client_key;
  ASSERT_TRUE(daemon().start()) << daemon().log();
  const auto uids = add(heart_rates(7));
  ASSERT_EQ(uids.size(), 7u);

  expect_refused_and_pending(uids.size());
  EXPECT_NE(proxy_->stats()["tls_last_error"].get<std::string>().find("CERTIFICATE_VERIFY_FAILED"), std::string::npos)
      << proxy_->stats().dump();
}

// The proxy's faults work over TLS too: the duplicate trap (the server stored the bundle, the answer
// never came) on a mutually authenticated connection still ends with each reading once.
TEST_F(TlsUpload, MutualTlsThroughResetsAfterTheServerStoredItDeliversExactlyOnce) {
  start_peers(/*mutual=*/true);
  daemon().config()["fhir"]["ca_file"] = pki_.ca_cert;
  daemon().config()["fhir"]["client_cert_file"] = pki_.client_cert;
  daemon().config()["fhir"]["client_key_file"] = pki_.client_key;
  daemon().config()["fhir"]["bundle_size"] = 10;
  ASSERT_TRUE(daemon().start()) << daemon().log();
  proxy_->add_fault(json::array({{{"kind", "reset_after"}, {"count", 2}}}));
  const auto uids = add(heart_rates(25));
  ASSERT_TRUE(sync());
  EXPECT_EQ(proxy_->stats()["faults_applied"]["reset_after"], 2) << proxy_->stats().dump();
  expect_exactly_once(uids);
}

}  // namespace
}  // namespace carehub::test
