// private_key_jwt end to end against the FHIR peer's token endpoint (tests/peers/fhir/token.mjs): the hub's
// assertion is accepted, each defect in an assertion is refused with its own invalid_client reason, and a
// reading buffered while the server no longer knows the hub's old key arrives once the hub signs with the
// new one (key rotation).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "sync/auth.hpp"
#include "sync/fhir_mapping.hpp"
#include "sync/jwt.hpp"
#include "tests/support/fhir_peer.hpp"
#include "tests/unit/sync/auth_keys.hpp"
#include "tests/unit/sync/uploader_fixture.hpp"

namespace carehub::sync {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
constexpr const char* kClient = "hub-1";
constexpr const char* kAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

void write_file(const std::string& path, const std::string& content) { std::ofstream(path, std::ios::trunc) << content; }

SigningKey key_of(const std::string& pem) { return SigningKey::from_pem(pem, "test key").value(); }

nlohmann::json jwks_of(const std::vector<SigningKey>& keys) {
  nlohmann::json set = {{"keys", nlohmann::json::array()}};
  for (const auto& k : keys) set["keys"].push_back(k.public_jwk());
  return set;
}

// The FHIR peer with OAuth2 on; its client may authenticate with a JWT signed by a key in `jwks`. (The
// peer also knows a secret, which only the test's own look-ups use: the hub here has none.)
class JwtPeer {
 public:
  JwtPeer(const std::string& dir, const nlohmann::json& jwks) {
    write_file(dir + "/jwks.json", jwks.dump());
    carehub::test::FhirPeerOptions options;
    options.client_id = kClient;
    options.client_secret = "for-the-test-look-ups-only";
    options.extra_args = {"--jwks", dir + "/jwks.json"};
    peer = std::make_unique<carehub::test::FhirPeer>(dir + "/fhir.log", options);
  }
  // Key rotation on the server's side: the registered keys become exactly `jwks`.
  void register_keys(const nlohmann::json& jwks) {
    const auto origin = peer->token_url().substr(0, peer->token_url().find("/oauth2/token"));
    auto resp = http->send({"POST", origin + "/__control/jwks", {{"Content-Type", "application/json"}}, jwks.dump()});
    ASSERT_TRUE(resp) << resp.error().message;
    ASSERT_EQ(resp->status, 200) << resp->body;
  }
  // POSTs a token request carrying `assertion`; the answer's JSON.
  std::pair<long, nlohmann::json> ask(const std::string& assertion, const std::string& type = kAssertionType) {
    auto resp = http->send({"POST",
                            peer->token_url(),
                            {{"Content-Type", "application/x-www-form-urlencoded"}},
                            "grant_type=client_credentials&client_assertion_type=" + form_encode(type) +
                                "&client_assertion=" + form_encode(assertion)});
    if (!resp) return {0, resp.error().message};
    return {resp->status, nlohmann::json::parse(resp->body, nullptr, false)};
  }
  std::unique_ptr<carehub::test::FhirPeer> peer;
  std::unique_ptr<HttpClient> http = make_curl_client({});
};

class PeerTokenEndpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("carehub-jwt-peer-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    peer_ = std::make_unique<JwtPeer>(dir_.string(), jwks_of({registered_}));
  }
  void TearDown() override {
    peer_.reset();
    std::filesystem::remove_all(dir_);
  }
  // The claims the hub sends now, which tests then spoil one at a time.
  nlohmann::json good_claims(const std::string& jti) const {
    const auto iat = to_epoch_ms(SystemClock().now()) / 1000;
    return {{"iss", kClient}, {"sub", kClient}, {"aud", peer_->peer->token_url()}, {"iat", iat}, {"exp", iat + 240}, {"jti", jti}};
  }
  std::filesystem::path dir_;
  SigningKey registered_ = key_of(test_keys::kEcPem);
  SigningKey unregistered_ = key_of(test_keys::kRsaPem);
  std::unique_ptr<JwtPeer> peer_;
};

TEST_F(PeerTokenEndpoint, IssuesATokenForTheHubsAssertionAndItOpensTheFhirApi) {
  ManualClock hub_clock{SystemClock().now()};
  const auto key_file = (dir_ / "fhir-jwt-key").string();
  write_file(key_file, test_keys::kEcPem);
  ClientCredentials creds{peer_->peer->token_url(), kClient, "", "system/*.write", 30s};
  creds.signing_key = signing_key_file(key_file);
  OAuth2ClientCredentials source(std::move(creds), make_curl_client({}), hub_clock);
  auto token = source.token();
  ASSERT_TRUE(token) << token.error().message;
  auto resp = peer_->http->send({"GET", peer_->peer->base_url() + "/Patient", {{"Authorization", "Bearer " + *token}}, ""});
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200) << resp->body;
  EXPECT_EQ(peer_->peer->stats()["tokens"]["jwt_accepted"], 1);
}

TEST_F(PeerTokenEndpoint, RefusesEachDefectWithItsReason) {
  const auto kid = registered_.kid();
  const auto unsigned_header = [&](const std::string& alg) {
    return base64url(nlohmann::json{{"alg", alg}, {"kid", kid}, {"typ", "JWT"}}.dump()) + "." +
           base64url(good_claims("j-" + alg).dump());
  };
  const auto spoiled = [&](const std::string& jti, const std::string& claim, const nlohmann::json& value) {
    auto c = good_claims(jti);
    if (value.is_null()) c.erase(claim);
    else c[claim] = value;
    return registered_.sign(c).value();
  };
  const auto now = good_claims("")["iat"].get<std::int64_t>();
  struct Case {
    std::string defect;
    std::string assertion;
    std::string reason;
    std::string type = kAssertionType;
  };
  const std::vector<Case> cases = {
      {"signed by a key the server does not hold", unregistered_.sign(good_claims("j1")).value(),
       "no registered key has kid \"" + unregistered_.kid() + "\""},
      {"another key's signature under the registered kid", unregistered_.sign(good_claims("j2"), {{"kid", kid}, {"alg", "ES384"}}).value(),
       "signature does not verify against registered key " + kid},
      {"alg none", unsigned_header("none") + ".", "alg \"none\" is not allowed"},
      {"alg HS256", unsigned_header("HS256") + "." + base64url("mac"), "alg \"HS256\" is not allowed"},
      {"RS384 claimed for an EC key", unsigned_header("RS384") + "." + base64url("sig"), "not a key for RS384"},
      {"payload changed after signing", [&] {
         const auto jwt = registered_.sign(good_claims("j3")).value();
         return jwt.substr(0, jwt.find('.') + 1) + base64url(good_claims("j3-changed").dump()) + jwt.substr(jwt.rfind('.'));
       }(),
       "signature does not verify against registered key " + kid},
      {"audience of another server", spoiled("j4", "aud", "https://other.example/token"), "aud must be this token URL"},
      {"expired", spoiled("j5", "exp", now - 10), "assertion expired"},
      {"lives an hour", spoiled("j6", "exp", now + 3600), "more than 300 s after iat"},
      {"iss not the client", spoiled("j7", "iss", "hub-2"), "iss and sub must both be the client id"},
      {"sub not the client", spoiled("j8", "sub", "hub-2"), "iss and sub must both be the client id"},
      {"no jti", spoiled("j9", "jti", nullptr), "jti is missing"},
      {"not a JWT", "abc", "not a JWS in compact form"},
      {"wrong assertion type", registered_.sign(good_claims("j10")).value(), "client_assertion_type must be",
       "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.defect);
    const auto [status, body] = peer_->ask(c.assertion, c.type);
    EXPECT_EQ(status, 401);
    EXPECT_EQ(body.value("error", ""), "invalid_client");
    EXPECT_THAT(body.value("error_description", ""), HasSubstr(c.reason));
  }
  const auto stats = peer_->peer->stats()["tokens"];
  EXPECT_EQ(stats["issued"], 0);
  EXPECT_EQ(stats["jwt_refused"], cases.size());
}

TEST_F(PeerTokenEndpoint, RefusesAReplayedAssertion) {
  const auto assertion = registered_.sign(good_claims("once")).value();
  EXPECT_EQ(peer_->ask(assertion).first, 200);
  const auto [status, body] = peer_->ask(assertion);
  EXPECT_EQ(status, 401);
  EXPECT_THAT(body.value("error_description", ""), HasSubstr("jti once was already used (replay)"));
}

TEST_F(PeerTokenEndpoint, TheHubSaysWhatToCheckWhenItsKeyIsUnknown) {
  ManualClock hub_clock{SystemClock().now()};
  ClientCredentials creds{peer_->peer->token_url(), kClient, "", "", 30s};
  creds.signing_key = [] { return SigningKey::from_pem(test_keys::kRsaPem, "rsa"); };
  OAuth2ClientCredentials source(std::move(creds), make_curl_client({}), hub_clock);
  auto token = source.token();
  ASSERT_FALSE(token);
  EXPECT_THAT(token.error().message, HasSubstr("invalid_client (no registered key has kid"));
  EXPECT_THAT(token.error().message, HasSubstr("carehubctl auth jwks"));
}

// Rotation without losing a reading: the server drops the hub's old key while a reading waits; the token
// request is refused, the reading stays buffered, and once the hub's key file holds the new key (what a
// reload naming the new credential gives) the next pass authenticates and the reading arrives.
class JwtRotation : public fixture::UploaderTest {
 protected:
  void SetUp() override {
    UploaderTest::SetUp();
    peer_ = std::make_unique<JwtPeer>(dir.path().string(), jwks_of({old_key_}));
    peer_->peer->put("Patient/p1", {{"resourceType", "Patient"}, {"id", "p1"}});
    key_file_ = dir.file("fhir-jwt-key");
    write_file(key_file_, test_keys::kEcPem);
  }
  void TearDown() override {
    UploaderTest::TearDown();
    peer_.reset();
  }
  void start_jwt_uploader() {
    auto o = options();
    o.base_url = peer_->peer->base_url();
    ClientCredentials creds{peer_->peer->token_url(), kClient, "", "system/*.write", 30s};
    creds.signing_key = signing_key_file(key_file_);
    o.auth = std::make_shared<OAuth2ClientCredentials>(std::move(creds), make_curl_client({}), hub_clock_);
    auto reader = StoreReader::open(store_options);
    ASSERT_TRUE(reader.has_value()) << reader.error().message;
    uploader = std::make_unique<Uploader>(std::move(*reader), *pipeline, make_curl_client({}), clock, log, counters, std::move(o));
    uploader->start();
  }
  std::size_t arrived(const std::string& uid) {
    return peer_->peer->count_by_identifier("Observation", std::string(fhir::kIdentifierSystem), fhir::observation_identifier(uid));
  }
  ManualClock hub_clock_{SystemClock().now()};  // the assertions' iat and exp, judged on the peer's wall clock
  SigningKey old_key_ = key_of(test_keys::kEcPem);
  SigningKey new_key_ = key_of(test_keys::kRsaPem);
  std::string key_file_;
  std::unique_ptr<JwtPeer> peer_;
};

TEST_F(JwtRotation, AReadingWaitingAcrossTheRotationArrives) {
  start_jwt_uploader();
  const auto before = ingest({fixture::heart_rate(71, 0)});
  uploader->wake();
  ASSERT_TRUE(uploader->wait_idle(fixture::kPatience));
  ASSERT_EQ(arrived(before[0]), 1u);

  // The server drops the old key (and the tokens it bought) before the hub has switched.
  peer_->register_keys(jwks_of({new_key_}));
  peer_->peer->expire_tokens();
  const auto during = ingest({fixture::heart_rate(72, 1)});
  uploader->wake();
  ASSERT_TRUE(wait_event([&] { return logged("no registered key has kid"); }));
  EXPECT_EQ(arrived(during[0]), 0u);
  EXPECT_EQ(counts().pending, 1) << "the reading waits in the buffer";

  // The hub now signs with the new key; the next pass gets a token and sends what waited.
  write_file(key_file_, test_keys::kRsaPem);
  uploader->sync_now();
  ASSERT_TRUE(uploader->wait_idle(fixture::kPatience));
  EXPECT_EQ(arrived(during[0]), 1u);
  EXPECT_EQ(arrived(before[0]), 1u);
  EXPECT_EQ(counts().pending, 0);
  const auto tokens = peer_->peer->stats()["tokens"];
  EXPECT_EQ(tokens["jwt_accepted"], 2);
  EXPECT_GE(tokens["jwt_refused"], 1);
}

}  // namespace
}  // namespace carehub::sync
