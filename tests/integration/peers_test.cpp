// The test peers themselves, so carehub's sync tests can trust them: the FHIR peer's OAuth2 token
// endpoint and bearer check, its rejection rules, and every fault of the fault-injecting proxy. Only the
// test support classes and the libcurl client (sync::make_curl_client) are used: no carehubd.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "sync/http_client.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fault_proxy.hpp"
#include "tests/support/fhir_peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::test {
namespace {

using nlohmann::json;
constexpr const char* kIdSystem = "urn:ietf:rfc:3986";
constexpr const char* kFhirJson = "application/fhir+json";
// Characters that RFC 6749's form encoding of Basic credentials must survive.
constexpr const char* kClientId = "hub 1";
constexpr const char* kClientSecret = "s3:cr+t/%";

json observation(const std::string& id_value) {
  return {{"resourceType", "Observation"},
          {"status", "final"},
          {"identifier", {{{"system", kIdSystem}, {"value", id_value}}}},
          {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", "8867-4"}}}}}},
          {"subject", {{"reference", "Patient/peer-patient"}}},
          {"effectiveDateTime", "2026-11-21T10:00:00Z"},
          {"valueQuantity", {{"value", 72}, {"unit", "/min"}, {"system", "http://unitsofmeasure.org"}, {"code", "/min"}}}};
}

std::string if_none_exist(const std::string& id_value) { return std::string("identifier=") + kIdSystem + "|" + id_value; }

json bundle(const std::string& type, const std::vector<std::string>& id_values) {
  json entries = json::array();
  for (const auto& v : id_values) {
    entries.push_back({{"resource", observation(v)},
                       {"request", {{"method", "POST"}, {"url", "Observation"}, {"ifNoneExist", if_none_exist(v)}}}});
  }
  return {{"resourceType", "Bundle"}, {"type", type}, {"entry", entries}};
}

sync::HttpRequest fhir_request(const std::string& method, const std::string& url, const std::string& body = {}) {
  return {method, url, {{"Accept", kFhirJson}, {"Content-Type", kFhirJson}}, body};
}

std::unique_ptr<sync::HttpClient> client(std::chrono::milliseconds request_timeout = std::chrono::seconds(30)) {
  sync::CurlOptions options;
  options.connect_timeout = std::chrono::seconds(5);
  options.request_timeout = request_timeout;
  return sync::make_curl_client(options);
}

// One request on a new client (so a new connection: libcurl resends on reused ones, see below).
Result<sync::HttpResponse> send_fresh(const sync::HttpRequest& req) { return client()->send(req); }

json body_of(const sync::HttpResponse& r) { return json::parse(r.body, nullptr, false); }

std::string with_log(const TempDir& dir, const std::string& name) { return "\n--- " + name + ":\n" + read_file(dir.file(name)); }

// ---- OAuth2 ----------------------------------------------------------------------------------------

class FhirPeerAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    FhirPeerOptions options;
    options.client_id = kClientId;
    options.client_secret = kClientSecret;
    options.token_ttl_s = 300;
    peer_ = std::make_unique<FhirPeer>(dir_.file("fhir.log"), options);
  }
  sync::HttpRequest token_request(const std::string& form, const std::string& authorization = {}) const {
    sync::HttpRequest req{"POST", peer_->token_url(), {{"Content-Type", "application/x-www-form-urlencoded"}}, form};
    if (!authorization.empty()) req.headers.emplace_back("Authorization", authorization);
    return req;
  }
  sync::HttpRequest metadata(const std::string& token) const {
    auto req = fhir_request("GET", peer_->base_url() + "/metadata");
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
    return req;
  }
  json tokens() { return peer_->stats()["tokens"]; }

  TempDir dir_;
  std::unique_ptr<FhirPeer> peer_;
};

TEST_F(FhirPeerAuth, IssuesBearerTokensToTheClientByHttpBasicOrByBodyParameters) {
  auto basic = send_fresh(token_request("grant_type=client_credentials&scope=system%2FObservation.write",
                                        basic_authorization(kClientId, kClientSecret)));
  ASSERT_TRUE(basic) << basic.error().message;
  ASSERT_EQ(basic->status, 200) << basic->body;
  EXPECT_EQ(basic->header("cache-control"), "no-store");
  EXPECT_EQ(basic->header("content-type").rfind("application/json", 0), 0u) << basic->header("content-type");
  const auto b = body_of(*basic);
  EXPECT_EQ(b["token_type"], "Bearer");
  EXPECT_EQ(b["expires_in"], 300);
  EXPECT_EQ(b["scope"], "system/Observation.write");  // the optional scope comes back as asked
  ASSERT_TRUE(b["access_token"].is_string());

  auto in_body = send_fresh(token_request("grant_type=client_credentials&client_id=hub+1&client_secret=s3%3Acr%2Bt%2F%25"));
  ASSERT_TRUE(in_body) << in_body.error().message;
  ASSERT_EQ(in_body->status, 200) << in_body->body;
  EXPECT_FALSE(body_of(*in_body).contains("scope"));
  EXPECT_NE(body_of(*in_body)["access_token"], b["access_token"]);

  // Both tokens work.
  for (const auto& token : {b["access_token"].get<std::string>(), body_of(*in_body)["access_token"].get<std::string>()}) {
    auto r = send_fresh(metadata(token));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200) << r->body;
  }
  EXPECT_EQ(tokens()["issued"], 2);
  EXPECT_EQ(tokens()["rejected_requests"], 0);
}

TEST_F(FhirPeerAuth, RefusesBadTokenRequestsWithTheRfc6749Errors) {
  struct Case {
    const char* what;
    sync::HttpRequest req;
    long status;
    const char* error;
  };
  const auto good = basic_authorization(kClientId, kClientSecret);
  std::vector<Case> cases{
      {"wrong secret (Basic)", token_request("grant_type=client_credentials", basic_authorization(kClientId, "nope")),
       401, "invalid_client"},
      {"wrong secret (body)", token_request("grant_type=client_credentials&client_id=hub+1&client_secret=nope"), 401,
       "invalid_client"},
      {"no client authentication", token_request("grant_type=client_credentials"), 401, "invalid_client"},
      {"password grant", token_request("grant_type=password&username=a&password=b", good), 400,
       "unsupported_grant_type"},
      {"no grant_type", token_request("scope=x", good), 400, "invalid_request"},
      {"two authentication methods", token_request("grant_type=client_credentials&client_secret=x", good), 400,
       "invalid_request"},
      {"JSON instead of a form", {"POST", peer_->token_url(), {{"Content-Type", "application/json"}, {"Authorization", good}},
                                  R"({"grant_type":"client_credentials"})"},
       400, "invalid_request"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto r = send_fresh(c.req);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, c.status) << r->body;
    EXPECT_EQ(body_of(*r)["error"], c.error) << r->body;
    EXPECT_TRUE(body_of(*r)["error_description"].is_string()) << r->body;
    EXPECT_EQ(r->header("cache-control"), "no-store");
    if (c.status == 401) {
      EXPECT_EQ(r->header("www-authenticate").rfind("Basic ", 0), 0u) << r->header("www-authenticate");
    }
  }
  EXPECT_EQ(tokens()["issued"], 0);
}

TEST_F(FhirPeerAuth, FhirRequestsWithoutAValidBearerTokenGet401WithAChallengeAndAnOperationOutcome) {
  auto none = send_fresh(metadata(""));
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->header("www-authenticate").rfind("Bearer ", 0), 0u) << none->header("www-authenticate");
  EXPECT_EQ(body_of(*none)["resourceType"], "OperationOutcome") << none->body;

  auto bogus = send_fresh(metadata("not-a-token-this-peer-issued"));
  ASSERT_TRUE(bogus) << bogus.error().message;
  EXPECT_EQ(bogus->status, 401);
  EXPECT_NE(bogus->header("www-authenticate").find("error=\"invalid_token\""), std::string::npos)
      << bogus->header("www-authenticate");
  EXPECT_EQ(body_of(*bogus)["resourceType"], "OperationOutcome");

  // A POST without a token creates nothing.
  auto post = send_fresh(fhir_request("POST", peer_->base_url() + "/Observation", observation("no-token").dump()));
  ASSERT_TRUE(post) << post.error().message;
  EXPECT_EQ(post->status, 401);

  auto ok = send_fresh(metadata(peer_->fetch_token()));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(tokens()["rejected_requests"], 3);
  EXPECT_EQ(peer_->count_by_identifier("Observation", kIdSystem, "no-token"), 0u);
}

TEST_F(FhirPeerAuth, RotatedTokensAreRefusedAndANewTokenWorks) {
  const auto old_token = peer_->fetch_token();
  auto before = send_fresh(metadata(old_token));
  ASSERT_TRUE(before) << before.error().message;
  ASSERT_EQ(before->status, 200);

  EXPECT_EQ(peer_->expire_tokens(), 1);
  auto after = send_fresh(metadata(old_token));
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->status, 401);
  EXPECT_NE(after->header("www-authenticate").find("error=\"invalid_token\""), std::string::npos);

  auto fresh = send_fresh(metadata(peer_->fetch_token()));
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_EQ(fresh->status, 200);
  EXPECT_EQ(tokens()["issued"], 2);
  EXPECT_EQ(tokens()["rejected_requests"], 1);
}

TEST_F(FhirPeerAuth, TokensExpireByTheirLifetimeOnThePeersClock) {
  const auto token = peer_->fetch_token();
  peer_->advance_token_clock(299.5);
  auto inside = send_fresh(metadata(token));
  ASSERT_TRUE(inside) << inside.error().message;
  EXPECT_EQ(inside->status, 200);

  peer_->advance_token_clock(0.5);  // 300 s: the token's lifetime is over
  auto expired = send_fresh(metadata(token));
  ASSERT_TRUE(expired) << expired.error().message;
  EXPECT_EQ(expired->status, 401);
  EXPECT_NE(expired->header("www-authenticate").find("expired"), std::string::npos) << expired->header("www-authenticate");
}

TEST_F(FhirPeerAuth, TheSupportLookUpsFetchTheirOwnTokens) {
  peer_->put("Patient/peer-patient", {{"resourceType", "Patient"}, {"id", "peer-patient"}});
  EXPECT_EQ(peer_->count("Patient"), 1u);
  peer_->expire_tokens();  // the look-ups' token too
  EXPECT_EQ(peer_->get("Patient/peer-patient")["id"], "peer-patient");
  EXPECT_EQ(tokens()["issued"], 2);
  EXPECT_EQ(tokens()["rejected_requests"], 0);  // it did not try the revoked one
}

TEST(FhirPeerWithoutAuth, HasNoTokenEndpointAndNeedsNoToken) {
  TempDir dir;
  FhirPeer peer(dir.file("fhir.log"));
  auto token = send_fresh({"POST", peer.token_url(), {{"Content-Type", "application/x-www-form-urlencoded"}},
                           "grant_type=client_credentials"});
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(token->status, 404);
  auto r = send_fresh(fhir_request("GET", peer.base_url() + "/metadata"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_THROW(peer.expire_tokens(), std::runtime_error);  // 409: nothing to expire
  EXPECT_EQ(peer.stats()["tokens"]["issued"], 0);
}

// ---- rejection rules -------------------------------------------------------------------------------

class FhirPeerRejection : public ::testing::Test {
 protected:
  void SetUp() override {
    peer_ = std::make_unique<FhirPeer>(dir_.file("fhir.log"));
    peer_->put("Patient/peer-patient", {{"resourceType", "Patient"}, {"id", "peer-patient"}});
  }
  std::size_t count(const std::string& id_value) { return peer_->count_by_identifier("Observation", kIdSystem, id_value); }
  TempDir dir_;
  std::unique_ptr<FhirPeer> peer_;
};

TEST_F(FhirPeerRejection, RejectsExactlyTheEntriesCarryingTheIdentifierInABatch) {
  peer_->reject(std::string(kIdSystem) + "|obs-b", 422);
  peer_->reject(std::string(kIdSystem) + "|obs-d", 503);
  auto r = send_fresh(fhir_request("POST", peer_->base_url(), bundle("batch", {"obs-a", "obs-b", "obs-c", "obs-d"}).dump()));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->status, 200) << r->body;
  const auto b = body_of(*r);
  ASSERT_EQ(b["type"], "batch-response");
  ASSERT_EQ(b["entry"].size(), 4u);
  EXPECT_EQ(b["entry"][0]["response"]["status"], "201");
  EXPECT_EQ(b["entry"][1]["response"]["status"], "422");
  EXPECT_EQ(b["entry"][2]["response"]["status"], "201");
  EXPECT_EQ(b["entry"][3]["response"]["status"], "503");
  const auto& outcome = b["entry"][1]["response"]["outcome"];
  EXPECT_EQ(outcome["resourceType"], "OperationOutcome");
  EXPECT_NE(outcome["issue"][0]["details"]["text"].get<std::string>().find("obs-b"), std::string::npos) << outcome;
  EXPECT_FALSE(b["entry"][1]["response"].contains("location"));

  EXPECT_EQ(count("obs-a"), 1u);
  EXPECT_EQ(count("obs-b"), 0u);
  EXPECT_EQ(count("obs-c"), 1u);
  EXPECT_EQ(count("obs-d"), 0u);
  EXPECT_EQ(peer_->stats()["rejections"], (json{{"rules", 2}, {"rejected", 2}}));
}

TEST_F(FhirPeerRejection, RejectsSingleCreatesAndFailsAWholeTransactionUntilCleared) {
  peer_->reject(std::string(kIdSystem) + "|obs-b", 422);
  const auto url = peer_->base_url() + "/Observation";

  auto plain = send_fresh(fhir_request("POST", url, observation("obs-b").dump()));
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->status, 422) << plain->body;
  EXPECT_EQ(body_of(*plain)["resourceType"], "OperationOutcome");

  auto conditional_req = fhir_request("POST", url, observation("obs-b").dump());
  conditional_req.headers.emplace_back("If-None-Exist", if_none_exist("obs-b"));
  auto conditional = send_fresh(conditional_req);
  ASSERT_TRUE(conditional) << conditional.error().message;
  EXPECT_EQ(conditional->status, 422) << conditional->body;

  // All or nothing: the valid entry is not kept either.
  auto tx = send_fresh(fhir_request("POST", peer_->base_url(), bundle("transaction", {"obs-a", "obs-b"}).dump()));
  ASSERT_TRUE(tx) << tx.error().message;
  EXPECT_EQ(tx->status, 422) << tx->body;
  EXPECT_EQ(count("obs-a"), 0u);
  EXPECT_EQ(count("obs-b"), 0u);
  EXPECT_EQ(peer_->stats()["rejections"]["rejected"], 3);

  peer_->clear_rejections();
  auto again = send_fresh(conditional_req);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->status, 201) << again->body;
  EXPECT_EQ(count("obs-b"), 1u);
  EXPECT_EQ(peer_->stats()["rejections"]["rules"], 0);
}

TEST_F(FhirPeerRejection, RefusesABadRuleWithAClearError) {
  try {
    peer_->reject("no-bar-in-here", 422);
    FAIL() << "a rule without system|value was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("system|value"), std::string::npos) << e.what();
  }
  EXPECT_THROW(peer_->reject(std::string(kIdSystem) + "|x", 200), std::runtime_error);  // not an error status
  EXPECT_EQ(peer_->stats()["rejections"]["rules"], 0);
}

// ---- the fault proxy ------------------------------------------------------------------------------

class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    peer_ = std::make_unique<FhirPeer>(dir_.file("fhir.log"));
    peer_->put("Patient/peer-patient", {{"resourceType", "Patient"}, {"id", "peer-patient"}});
    proxy_ = std::make_unique<FaultProxy>(dir_.file("proxy.log"), peer_->port());
  }
  std::string via_proxy(const std::string& path) const { return proxy_->base_url_for("/fhir/R4" + path); }
  sync::HttpRequest create(const std::string& id_value) const {
    auto req = fhir_request("POST", via_proxy("/Observation"), observation(id_value).dump());
    req.headers.emplace_back("If-None-Exist", if_none_exist(id_value));
    return req;
  }
  std::size_t count(const std::string& id_value) { return peer_->count_by_identifier("Observation", kIdSystem, id_value); }
  long peer_requests() { return peer_->stats()["requests"].get<long>(); }
  std::string logs() const { return with_log(dir_, "proxy.log"); }

  TempDir dir_;
  std::unique_ptr<FhirPeer> peer_;
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(FaultProxyTest, ForwardsRequestsFaithfullyOnOneKeptAliveConnection) {
  auto c = client();
  auto direct = send_fresh(fhir_request("GET", peer_->base_url() + "/metadata"));
  ASSERT_TRUE(direct) << direct.error().message;

  auto meta = c->send(fhir_request("GET", via_proxy("/metadata")));
  ASSERT_TRUE(meta) << meta.error().message << logs();
  EXPECT_EQ(meta->status, 200);
  EXPECT_EQ(body_of(*meta)["fhirVersion"], "4.0.1");
  EXPECT_EQ(meta->body.size(), direct->body.size());

  // A gzip body with Content-Encoding passes through untouched: the server inflates it.
  auto gz = run_process({"/bin/gzip", "-c"}, observation("obs-gzip").dump());
  ASSERT_EQ(gz.exit_code, 0) << gz.err;
  auto req = fhir_request("POST", via_proxy("/Observation"), gz.out);
  req.headers.emplace_back("Content-Encoding", "gzip");
  auto created = c->send(req);
  ASSERT_TRUE(created) << created.error().message << logs();
  EXPECT_EQ(created->status, 201) << created->body;
  EXPECT_EQ(created->header("location").rfind(proxy_->base_url_for("/fhir/R4/Observation/"), 0), 0u)
      << "the Host header is forwarded as sent: " << created->header("location");

  auto again = c->send(create("obs-gzip"));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->status, 200);  // the conditional create found it

  const auto s = proxy_->stats();
  EXPECT_EQ(s["requests"], 3);
  EXPECT_EQ(s["forwarded"], 3);
  EXPECT_EQ(s["connections"], 1) << "keep-alive: one client connection for three requests";
  EXPECT_EQ(count("obs-gzip"), 1u);
}

// A raw socket, for what libcurl never sends: a chunked request body.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed");
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void write_all(const std::string& data) {
    for (std::size_t off = 0; off < data.size();) {
      const auto n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      off += static_cast<std::size_t>(n);
    }
  }
  // One response with a Content-Length body: its head and body, within `timeout`.
  std::string read_response(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string in;
    for (;;) {
      const auto head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        auto lower = in.substr(0, head_end);
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        const auto cl = lower.find("content-length:");
        const std::size_t length = cl == std::string::npos ? 0 : std::stoul(lower.substr(cl + 15));
        if (in.size() >= head_end + 4 + length) return in;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return in;
      char buf[4096];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return in;
      in.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
};

TEST_F(FaultProxyTest, ForwardsChunkedRequestBodies) {
  const auto body = observation("obs-chunked").dump();
  const auto half = body.size() / 2;
  auto hex = [](std::size_t n) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%zx", n);
    return std::string(buf);
  };
  RawConnection conn(proxy_->port());
  conn.write_all("POST /fhir/R4/Observation HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/fhir+json\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n" +
                 hex(half) + "\r\n" + body.substr(0, half) + "\r\n" + hex(body.size() - half) + ";ext=1\r\n" +
                 body.substr(half) + "\r\n0\r\n\r\n");
  const auto response = conn.read_response();
  EXPECT_EQ(response.rfind("HTTP/1.1 201 ", 0), 0u) << response << logs();
  EXPECT_EQ(count("obs-chunked"), 1u);
}

TEST_F(FaultProxyTest, StatusFaultsAnswerWithoutForwardingThenTrafficFlowsAgain) {
  proxy_->add_fault({{"kind", "status"}, {"count", 2}, {"status", 503}, {"headers", {{"Retry-After", "2"}}}, {"body", "busy"}});
  EXPECT_EQ(proxy_->stats()["pending_faults"], 2);
  const auto before = peer_requests();
  auto c = client();
  for (int i = 0; i < 2; ++i) {
    auto r = c->send(create("obs-status"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(r->header("retry-after"), "2");
    EXPECT_EQ(r->body, "busy");
  }
  EXPECT_EQ(peer_requests(), before) << "the 503s must not reach the server";
  EXPECT_EQ(count("obs-status"), 0u);

  auto third = c->send(create("obs-status"));
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_EQ(third->status, 201);
  const auto s = proxy_->stats();
  EXPECT_EQ(s["faults_applied"]["status"], 2);
  EXPECT_EQ(s["forwarded"], 1);
  EXPECT_EQ(s["pending_faults"], 0);
}

TEST_F(FaultProxyTest, ResetBeforeForwardingFailsTheClientAndTheServerNeverSeesIt) {
  proxy_->add_fault({{"kind", "reset_before"}});
  auto r = send_fresh(create("obs-reset-before"));
  ASSERT_FALSE(r) << "HTTP " << r->status;
  EXPECT_EQ(r.error().code, Errc::unavailable) << r.error().message;
  EXPECT_EQ(count("obs-reset-before"), 0u);
  EXPECT_EQ(proxy_->stats()["forwarded"], 0);
  EXPECT_EQ(proxy_->stats()["faults_applied"]["reset_before"], 1);
}

TEST_F(FaultProxyTest, ResetAfterTheServerAnsweredFailsTheClientButTheResourceExists) {
  proxy_->add_fault({{"kind", "reset_after"}});
  auto r = send_fresh(create("obs-reset-after"));
  ASSERT_FALSE(r) << "HTTP " << r->status;
  EXPECT_EQ(r.error().code, Errc::unavailable) << r.error().message;
  EXPECT_EQ(count("obs-reset-after"), 1u) << "the duplicate trap: the server processed it";

  // The retry a careful client makes (a conditional create) finds it instead of duplicating it.
  auto retry = send_fresh(create("obs-reset-after"));
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_EQ(retry->status, 200);
  EXPECT_EQ(count("obs-reset-after"), 1u);
}

TEST_F(FaultProxyTest, ResetMidResponseFailsTheClientAfterPartOfTheBody) {
  proxy_->add_fault({{"kind", "reset_mid_response"}});
  auto r = send_fresh(create("obs-reset-mid"));
  ASSERT_FALSE(r) << "HTTP " << r->status;
  EXPECT_EQ(r.error().code, Errc::unavailable) << r.error().message;
  EXPECT_EQ(count("obs-reset-mid"), 1u);
  EXPECT_NE(read_file(dir_.file("proxy.log")).find("client reset after"), std::string::npos) << logs();
}

TEST_F(FaultProxyTest, AStallMidResponseEndsInTheClientsTimeout) {
  proxy_->add_fault({{"kind", "stall_mid_response"}});
  auto c = client(std::chrono::seconds(1));
  const auto started = std::chrono::steady_clock::now();
  auto r = c->send(create("obs-stall"));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(r) << "HTTP " << r->status;
  EXPECT_EQ(r.error().code, Errc::timeout) << r.error().message;
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(10));
  EXPECT_EQ(count("obs-stall"), 1u);
  // The stall ends when the client gives up and closes.
  EXPECT_TRUE(proxy_->wait_for([](const json& s) { return s["stalled"] == 0; })) << proxy_->stats() << logs();
  EXPECT_EQ(proxy_->stats()["faults_applied"]["stall_mid_response"], 1);
}

TEST_F(FaultProxyTest, AReleasedStallDeliversTheWholeResponse) {
  auto direct = send_fresh(fhir_request("GET", peer_->base_url() + "/metadata"));
  ASSERT_TRUE(direct) << direct.error().message;
  proxy_->add_fault({{"kind", "stall_mid_response"}});

  std::optional<Result<sync::HttpResponse>> got;
  std::thread waiter([&] { got.emplace(client()->send(fhir_request("GET", via_proxy("/metadata")))); });
  const bool stalled = proxy_->wait_for([](const json& s) { return s["stalled"] == 1; });
  const int released = stalled ? proxy_->release() : 0;
  waiter.join();
  ASSERT_TRUE(stalled) << proxy_->stats() << logs();
  EXPECT_EQ(released, 1);
  ASSERT_TRUE(got && *got) << (got ? got->error().message : "no result");
  EXPECT_EQ((*got)->status, 200);
  EXPECT_EQ((*got)->body.size(), direct->body.size());
  EXPECT_EQ(body_of(**got)["resourceType"], "CapabilityStatement");
}

TEST_F(FaultProxyTest, DownRefusesConnectionsUntilUp) {
  auto kept = client();
  auto first = kept->send(fhir_request("GET", via_proxy("/metadata")));
  ASSERT_TRUE(first) << first.error().message;

  proxy_->set_down();
  EXPECT_EQ(proxy_->stats()["down"], true);
  auto refused = send_fresh(create("obs-down"));
  ASSERT_FALSE(refused) << "HTTP " << refused->status;
  EXPECT_EQ(refused.error().code, Errc::unavailable);
  EXPECT_NE(refused.error().message.find("onnect"), std::string::npos) << "connection refused: " << refused.error().message;
  auto on_kept = kept->send(create("obs-down"));  // the kept-alive connection went down with the server
  EXPECT_FALSE(on_kept) << "HTTP " << on_kept->status;
  EXPECT_EQ(count("obs-down"), 0u);

  proxy_->set_up();
  auto back = send_fresh(create("obs-down"));
  ASSERT_TRUE(back) << back.error().message << logs();
  EXPECT_EQ(back->status, 201);
  auto kept_again = kept->send(create("obs-down"));
  ASSERT_TRUE(kept_again) << kept_again.error().message;
  EXPECT_EQ(kept_again->status, 200);
}

TEST_F(FaultProxyTest, ACountedDownRefusesThatManyConnectionsThenServes) {
  proxy_->set_down(2);
  for (int i = 0; i < 2; ++i) {
    auto r = send_fresh(create("obs-down-2"));
    ASSERT_FALSE(r) << "attempt " << i << ": HTTP " << r->status;
    EXPECT_EQ(r.error().code, Errc::unavailable);
  }
  auto third = send_fresh(create("obs-down-2"));
  ASSERT_TRUE(third) << third.error().message << logs();
  EXPECT_EQ(third->status, 201);
  const auto s = proxy_->stats();
  EXPECT_EQ(s["refused_connections"], 2);
  EXPECT_EQ(s["faults_applied"]["down"], 2);
  EXPECT_EQ(s["requests"], 1) << "refused connections carry no request";
}

TEST_F(FaultProxyTest, AnUnreachableUpstreamIsA502NamingIt) {
  peer_->stop();
  auto r = send_fresh(create("obs-no-upstream"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 502);
  EXPECT_NE(r->body.find("upstream 127.0.0.1:"), std::string::npos) << r->body;
  EXPECT_EQ(proxy_->stats()["forwarded"], 0);
}

TEST_F(FaultProxyTest, FaultsApplyToTheNextRequestsInTheOrderGiven) {
  proxy_->add_fault(json::array({{{"kind", "status"}, {"status", 500}},
                                 {{"kind", "reset_before"}},
                                 {{"kind", "status"}, {"status", 429}, {"count", 2}}}));
  EXPECT_EQ(proxy_->stats()["pending_faults"], 4);
  auto r1 = send_fresh(create("obs-order"));
  ASSERT_TRUE(r1) << r1.error().message;
  EXPECT_EQ(r1->status, 500);
  EXPECT_FALSE(send_fresh(create("obs-order")));
  for (int i = 0; i < 2; ++i) {
    auto r = send_fresh(create("obs-order"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 429);
  }
  EXPECT_EQ(proxy_->stats()["pending_faults"], 0);
  auto last = send_fresh(create("obs-order"));
  ASSERT_TRUE(last) << last.error().message;
  EXPECT_EQ(last->status, 201);

  proxy_->add_fault({{"kind", "reset_after"}, {"count", 3}});
  EXPECT_EQ(proxy_->clear(), 3);
  EXPECT_EQ(proxy_->stats()["pending_faults"], 0);
}

TEST_F(FaultProxyTest, RefusesABadFaultAndAddsNothing) {
  try {
    proxy_->add_fault(json::array({{{"kind", "status"}}, {{"kind", "explode"}}}));
    FAIL() << "an unknown kind was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("faults[1]: unknown kind"), std::string::npos) << e.what();
  }
  EXPECT_THROW(proxy_->add_fault({{"kind", "status"}, {"stauts", 503}}), std::runtime_error);  // a typo
  EXPECT_THROW(proxy_->add_fault({{"kind", "reset_after"}, {"count", 0}}), std::runtime_error);
  EXPECT_EQ(proxy_->stats()["pending_faults"], 0);
}

// What libcurl does on a kept-alive connection that dies before the first response byte: it sends the
// request again on a new connection, without telling the caller. Through reset_after that means the
// server processes the request twice and the client sees one success: only a conditional create keeps
// that from becoming a duplicate. (A fresh connection is not retried: the tests above use one each.)
TEST_F(FaultProxyTest, LibcurlSilentlyResendsWhenAReusedConnectionDiesBeforeAnyResponseByte) {
  auto c = client();
  auto warm = c->send(fhir_request("GET", via_proxy("/metadata")));
  ASSERT_TRUE(warm) << warm.error().message;
  const auto before = peer_requests();

  proxy_->add_fault({{"kind", "reset_after"}});
  auto r = c->send(create("obs-resent"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200) << "the resend found the resource the first attempt created";
  EXPECT_EQ(peer_requests() - before, 2);
  EXPECT_EQ(count("obs-resent"), 1u);
  EXPECT_EQ(proxy_->stats()["faults_applied"]["reset_after"], 1);
}

TEST(FaultProxyArguments, RefusesNonLoopbackAddresses) {
  const auto proxy = (source_dir() / "tests" / "peers" / "proxy" / "proxy.py").string();
  auto upstream = run_process({"/usr/bin/python3", proxy, "--upstream", "10.1.2.3:80"});
  EXPECT_NE(upstream.exit_code, 0);
  EXPECT_NE(upstream.err.find("loopback"), std::string::npos) << upstream.err;
  EXPECT_EQ(upstream.out, "");
  auto bind = run_process({"/usr/bin/python3", proxy, "--upstream", "127.0.0.1:80", "--host", "0.0.0.0"});
  EXPECT_NE(bind.exit_code, 0);
  EXPECT_NE(bind.err.find("loopback"), std::string::npos) << bind.err;
}

}  // namespace
}  // namespace carehub::test
