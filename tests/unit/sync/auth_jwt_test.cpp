// The JWT builder (sync/jwt.hpp) and private_key_jwt in the token source (sync/auth.hpp): every signature
// is checked here with OpenSSL directly, and claims are decoded from the token itself.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>

#include <deque>
#include <filesystem>
#include <fstream>

#include "sync/auth.hpp"
#include "sync/jwt.hpp"
#include "tests/unit/sync/auth_keys.hpp"

namespace carehub::sync {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const TimePoint kNow = from_epoch_ms(1795255200123);
constexpr const char* kTokenUrl = "https://auth.example.org/realms/care/protocol/openid-connect/token";

struct Parts {
  nlohmann::json header;
  nlohmann::json claims;
  std::string signing_input;
  std::string signature;
};

Parts split(const std::string& jwt) {
  const auto a = jwt.find('.');
  const auto b = jwt.find('.', a + 1);
  EXPECT_NE(b, std::string::npos) << jwt;
  EXPECT_EQ(jwt.find('='), std::string::npos) << "base64url has no padding";
  Parts p;
  p.header = nlohmann::json::parse(base64url_decode(jwt.substr(0, a)).value());
  p.claims = nlohmann::json::parse(base64url_decode(jwt.substr(a + 1, b - a - 1)).value());
  p.signing_input = jwt.substr(0, b);
  p.signature = base64url_decode(jwt.substr(b + 1)).value();
  return p;
}

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
Pkey load(const std::string& pem) {
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  return Pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
}

// OpenSSL's own verdict on a JOSE signature: RS384 as is, ES384 after turning r||s back into DER.
bool verifies(const std::string& pem, const Parts& p) {
  auto key = load(pem);
  std::string sig = p.signature;
  if (EVP_PKEY_is_a(key.get(), "EC")) {
    if (sig.size() != 96) return false;
    ECDSA_SIG* es = ECDSA_SIG_new();
    const auto* raw = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG_set0(es, BN_bin2bn(raw, 48, nullptr), BN_bin2bn(raw + 48, 48, nullptr));
    unsigned char* der = nullptr;
    const int len = i2d_ECDSA_SIG(es, &der);
    sig.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
  }
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(p.signing_input.data()), p.signing_input.size()) == 1;
}

TEST(Base64url, HasNoPaddingAndTheUrlAlphabet) {
  EXPECT_EQ(base64url(std::string("\xfb\xff", 2)), "-_8");
  EXPECT_EQ(base64url("a"), "YQ");
  EXPECT_EQ(base64url_decode("-_8").value(), std::string("\xfb\xff", 2));
  EXPECT_EQ(base64url_decode("YQ").value(), "a");
  EXPECT_EQ(base64url_decode("YWJj").value(), "abc");
  EXPECT_FALSE(base64url_decode("YQ=="));  // padding is not base64url
  EXPECT_FALSE(base64url_decode("Y"));
  EXPECT_FALSE(base64url_decode("a+b/"));
}

TEST(SigningKey, EcP384KeyHasTheRfc7638ThumbprintAsKidAndSignsEs384) {
  auto key = SigningKey::from_pem(test_keys::kEcPem, "ec.pem");
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->algorithm(), "ES384");
  EXPECT_EQ(key->kid(), test_keys::kEcKid);
  EXPECT_EQ(key->public_jwk(), (nlohmann::json{{"kty", "EC"}, {"crv", "P-384"}, {"x", test_keys::kEcX}, {"y", test_keys::kEcY},
                                               {"kid", test_keys::kEcKid}, {"alg", "ES384"}, {"use", "sig"}}));
  EXPECT_FALSE(key->public_jwk().contains("d")) << "the private part never leaves the key";
  auto jwt = key->sign({{"hello", "world"}});
  ASSERT_TRUE(jwt) << jwt.error().message;
  const auto p = split(*jwt);
  EXPECT_EQ(p.header, (nlohmann::json{{"alg", "ES384"}, {"kid", test_keys::kEcKid}, {"typ", "JWT"}}));
  EXPECT_EQ(p.claims, (nlohmann::json{{"hello", "world"}}));
  EXPECT_EQ(p.signature.size(), 96u) << "JOSE r||s, not DER";
  EXPECT_TRUE(verifies(test_keys::kEcPem, p));
  auto tampered = p;
  tampered.signing_input.back() ^= 1;
  EXPECT_FALSE(verifies(test_keys::kEcPem, tampered));
}

TEST(SigningKey, RsaKeySignsRs384) {
  auto key = SigningKey::from_pem(test_keys::kRsaPem, "rsa.pem");
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->algorithm(), "RS384");
  EXPECT_EQ(key->kid(), test_keys::kRsaKid);
  EXPECT_EQ(key->public_jwk()["e"], "AQAB");
  EXPECT_FALSE(key->public_jwk().contains("d"));
  auto jwt = key->sign({{"n", 1}});
  ASSERT_TRUE(jwt);
  const auto p = split(*jwt);
  EXPECT_EQ(p.header["alg"], "RS384");
  EXPECT_EQ(p.signature.size(), 256u);
  EXPECT_TRUE(verifies(test_keys::kRsaPem, p));
  // Another key's verdict on it: no.
  EXPECT_FALSE(verifies(test_keys::generate_pem("RSA"), p));
}

TEST(SigningKey, HeaderMembersCanBeReplaced) {
  auto key = SigningKey::from_pem(test_keys::kEcPem, "ec.pem");
  ASSERT_TRUE(key);
  const auto p = split(key->sign({{"a", 1}}, {{"kid", "other"}, {"jku", "https://hub.example/jwks"}}).value());
  EXPECT_EQ(p.header["kid"], "other");
  EXPECT_EQ(p.header["jku"], "https://hub.example/jwks");
  EXPECT_EQ(p.header["alg"], "ES384");
}

TEST(SigningKey, RefusesKeysSmartBackendServicesDoesNotSign) {
  struct Case {
    std::string pem;
    std::string says;
  };
  const std::vector<Case> cases = {
      {test_keys::generate_pem("EC", "P-256"), "ES384 needs P-384"},
      {test_keys::generate_pem("RSA", "", 1024), "RS384 needs at least 2048"},
      {test_keys::generate_pem("ED25519"), "signs with RSA (RS384) or EC P-384 (ES384)"},
      {"not a key", "no unencrypted PEM private key"},
      {"", "no unencrypted PEM private key"},
  };
  for (const auto& c : cases) {
    auto key = SigningKey::from_pem(c.pem, "/etc/k.pem");
    ASSERT_FALSE(key) << c.says;
    EXPECT_THAT(key.error().message, HasSubstr("/etc/k.pem"));
    EXPECT_THAT(key.error().message, HasSubstr(c.says));
  }
}

TEST(SigningKey, RefusesAnEncryptedKeyWithoutAskingForAPassphrase) {
  auto key = load(test_keys::kEcPem);
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  char pass[] = "pass";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), key.get(), EVP_aes_256_cbc(), pass, 4, nullptr, nullptr), 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  auto refused = SigningKey::from_pem(std::string(data, static_cast<std::size_t>(len)), "enc.pem");
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("no unencrypted PEM private key"));
}

TEST(ClientAssertion, CarriesTheSmartBackendServicesClaims) {
  auto key = SigningKey::from_pem(test_keys::kEcPem, "ec.pem");
  ASSERT_TRUE(key);
  const auto p = split(client_assertion(*key, "hub 1", kTokenUrl, kNow, "jti-1").value());
  EXPECT_EQ(p.claims, (nlohmann::json{{"iss", "hub 1"},
                                      {"sub", "hub 1"},
                                      {"aud", kTokenUrl},
                                      {"iat", 1795255200},
                                      {"exp", 1795255200 + 240},
                                      {"jti", "jti-1"}}));
  EXPECT_TRUE(verifies(test_keys::kEcPem, p));
  EXPECT_LE(kAssertionLifetime, 300s) << "SMART: at most five minutes";
}

TEST(ClientAssertion, JtiIsRandomAndUrlSafe) {
  const auto a = random_jti();
  EXPECT_EQ(a.size(), 22u);  // 128 bits
  EXPECT_NE(a, random_jti());
  EXPECT_EQ(base64url_decode(a).value().size(), 16u);
}

class KeyFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("carehub-jwt-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name) << content;
    return (dir_ / name).string();
  }
  std::filesystem::path dir_;
};

TEST_F(KeyFiles, AKeyIsReadWholeFromTheCredentialsDirectory) {
  write("fhir-jwt-key", test_keys::kEcPem);
  auto key = read_signing_key("fhir-jwt-key", dir_.string());
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->kid(), test_keys::kEcKid);
  // An absolute path ignores the credentials directory.
  EXPECT_TRUE(read_signing_key((dir_ / "fhir-jwt-key").string(), "/nonexistent"));
  auto missing = read_signing_key("absent", dir_.string());
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("cannot read the key file " + (dir_ / "absent").string()));
}

TEST_F(KeyFiles, JwksHoldsTheCurrentAndTheNextKeyOnce) {
  const auto ec = write("ec.pem", test_keys::kEcPem);
  const auto rsa = write("rsa.pem", test_keys::kRsaPem);
  auto jwks = jwks_from_files({ec, "", rsa, ec});
  ASSERT_TRUE(jwks) << jwks.error().message;
  ASSERT_EQ(jwks->at("keys").size(), 2u);
  EXPECT_EQ(jwks->at("keys")[0]["kid"], test_keys::kEcKid);
  EXPECT_EQ(jwks->at("keys")[1]["kid"], test_keys::kRsaKid);
  EXPECT_THAT(jwks->dump(), ::testing::Not(HasSubstr("PRIVATE")));
  EXPECT_FALSE(jwks_from_files({ec, (dir_ / "absent").string()}));
}

// The token endpoint as a script: answers in order, records the requests.
class Endpoint final : public HttpClient {
 public:
  Result<HttpResponse> send(const HttpRequest& request) override {
    requests.push_back(request);
    if (answers.empty()) return make_error(Errc::unavailable, "no more scripted answers");
    auto a = answers.front();
    answers.pop_front();
    return a;
  }
  void cancel() override {}
  std::deque<Result<HttpResponse>> answers;
  std::vector<HttpRequest> requests;
};

HttpResponse issued(const std::string& token) {
  return {200, R"({"access_token":")" + token + R"(","token_type":"Bearer","expires_in":300})", {}};
}

std::map<std::string, std::string> form(const std::string& body) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start <= body.size()) {
    auto end = body.find('&', start);
    if (end == std::string::npos) end = body.size();
    const auto pair = body.substr(start, end - start);
    const auto eq = pair.find('=');
    out[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
    start = end + 1;
  }
  return out;
}

struct JwtSource {
  JwtSource() {
    auto http = std::make_unique<Endpoint>();
    endpoint = http.get();
    ClientCredentials creds{kTokenUrl, "hub 1", "", "system/Observation.write", 30s};
    creds.signing_key = [this]() -> Result<SigningKey> { return SigningKey::from_pem(pem, "key.pem"); };
    source = std::make_unique<OAuth2ClientCredentials>(std::move(creds), std::move(http), clock);
  }
  ManualClock clock{kNow};
  std::string pem = test_keys::kEcPem;
  Endpoint* endpoint;
  std::unique_ptr<OAuth2ClientCredentials> source;
};

TEST(PrivateKeyJwt, AsksForATokenWithASignedAssertionAndNoSecret) {
  JwtSource s;
  s.endpoint->answers = {issued("t1")};
  EXPECT_EQ(s.source->token().value(), "t1");
  ASSERT_EQ(s.endpoint->requests.size(), 1u);
  const auto& r = s.endpoint->requests[0];
  for (const auto& [name, value] : r.headers) EXPECT_NE(name, "Authorization") << value;
  auto f = form(r.body);
  EXPECT_EQ(f["grant_type"], "client_credentials");
  EXPECT_EQ(f["scope"], "system%2FObservation.write");
  EXPECT_EQ(f["client_assertion_type"], "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer");
  const auto p = split(f["client_assertion"]);
  EXPECT_TRUE(verifies(test_keys::kEcPem, p));
  EXPECT_EQ(p.claims["iss"], "hub 1");
  EXPECT_EQ(p.claims["aud"], kTokenUrl);
  EXPECT_EQ(p.claims["iat"], 1795255200);
}

TEST(PrivateKeyJwt, EachTokenRequestHasAFreshJtiAndTheCurrentKey) {
  JwtSource s;
  s.endpoint->answers = {issued("t1"), issued("t2")};
  EXPECT_EQ(s.source->token().value(), "t1");
  // Rotation: the key source now gives another key; the next token request is signed with it.
  s.pem = test_keys::kRsaPem;
  EXPECT_EQ(s.source->refresh("t1").value(), "t2");
  ASSERT_EQ(s.endpoint->requests.size(), 2u);
  const auto first = split(form(s.endpoint->requests[0].body)["client_assertion"]);
  const auto second = split(form(s.endpoint->requests[1].body)["client_assertion"]);
  EXPECT_NE(first.claims["jti"], second.claims["jti"]);
  EXPECT_EQ(first.header["kid"], test_keys::kEcKid);
  EXPECT_EQ(second.header["kid"], test_keys::kRsaKid);
  EXPECT_TRUE(verifies(test_keys::kRsaPem, second));
}

TEST(PrivateKeyJwt, AnUnreadableKeyIsAnErrorAndNoRequest) {
  JwtSource s;
  s.pem = "garbage";
  auto t = s.source->token();
  ASSERT_FALSE(t);
  EXPECT_THAT(t.error().message, HasSubstr("private_key_jwt: key.pem: no unencrypted PEM private key"));
  EXPECT_TRUE(s.endpoint->requests.empty());
}

TEST(PrivateKeyJwt, InvalidClientPointsAtTheRegisteredKey) {
  JwtSource s;
  s.endpoint->answers = {HttpResponse{401, R"({"error":"invalid_client","error_description":"no registered key has kid x"})", {}}};
  auto t = s.source->token();
  ASSERT_FALSE(t);
  EXPECT_THAT(t.error().message, HasSubstr("invalid_client (no registered key has kid x)"));
  EXPECT_THAT(t.error().message, HasSubstr("carehubctl auth jwks"));
}

}  // namespace
}  // namespace carehub::sync
