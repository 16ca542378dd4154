#include "sync/auth.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>

namespace carehub::sync {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const TimePoint kNow = from_epoch_ms(1795255200000);

// Answers the token requests it is given, in order, and records them.
class ScriptedTokenEndpoint final : public HttpClient {
 public:
  explicit ScriptedTokenEndpoint(std::deque<Result<HttpResponse>> answers) : answers_(std::move(answers)) {}
  Result<HttpResponse> send(const HttpRequest& request) override {
    requests->push_back(request);
    if (answers_.empty()) return make_error(Errc::unavailable, "no more scripted answers");
    auto a = answers_.front();
    answers_.pop_front();
    return a;
  }
  void cancel() override {}
  std::shared_ptr<std::vector<HttpRequest>> requests = std::make_shared<std::vector<HttpRequest>>();

 private:
  std::deque<Result<HttpResponse>> answers_;
};

Result<HttpResponse> token(const std::string& value, int expires_in) {
  return HttpResponse{200,
                      R"({"access_token":")" + value + R"(","token_type":"Bearer","expires_in":)" +
                          std::to_string(expires_in) + "}",
                      {}};
}

std::string header(const HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

struct Fixture {
  explicit Fixture(std::deque<Result<HttpResponse>> answers) {
    auto endpoint = std::make_unique<ScriptedTokenEndpoint>(std::move(answers));
    requests = endpoint->requests;
    source = std::make_unique<OAuth2ClientCredentials>(
        ClientCredentials{"https://auth.example.org/realms/care/protocol/openid-connect/token", "hub 1", "s3cr:t", "fhir",
                          30s},
        std::move(endpoint), clock);
  }
  ManualClock clock{kNow};
  std::shared_ptr<std::vector<HttpRequest>> requests;
  std::unique_ptr<OAuth2ClientCredentials> source;
};

TEST(OAuth2ClientCredentials, AsksForAClientCredentialsGrantWithBasicAuth) {
  Fixture f({token("t1", 300)});
  EXPECT_EQ(f.source->token().value(), "t1");
  ASSERT_EQ(f.requests->size(), 1u);
  const auto& r = f.requests->front();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://auth.example.org/realms/care/protocol/openid-connect/token");
  EXPECT_EQ(r.body, "grant_type=client_credentials&scope=fhir");
  EXPECT_EQ(header(r, "Content-Type"), "application/x-www-form-urlencoded");
  // RFC 6749 2.3.1: form-encode id and secret, then Base64 "hub+1:s3cr%3At".
  EXPECT_EQ(header(r, "Authorization"), "Basic aHViKzE6czNjciUzQXQ=");
}

TEST(OAuth2ClientCredentials, CachesTheTokenUntilShortlyBeforeItExpires) {
  Fixture f({token("t1", 300), token("t2", 300)});
  EXPECT_EQ(f.source->token().value(), "t1");
  f.clock.advance(269s);
  EXPECT_EQ(f.source->token().value(), "t1");
  EXPECT_EQ(f.requests->size(), 1u);
  f.clock.advance(1s);  // 30 s before expiry
  EXPECT_EQ(f.source->token().value(), "t2");
  EXPECT_EQ(f.requests->size(), 2u);
}

TEST(OAuth2ClientCredentials, RefreshesARejectedTokenOnlyOnce) {
  Fixture f({token("t1", 300), token("t2", 300)});
  EXPECT_EQ(f.source->token().value(), "t1");
  EXPECT_EQ(f.source->refresh("t1").value(), "t2");
  // A second request that was refused with t1 gets t2 without another fetch.
  EXPECT_EQ(f.source->refresh("t1").value(), "t2");
  EXPECT_EQ(f.requests->size(), 2u);
}

TEST(OAuth2ClientCredentials, ReportsTheEndpointsErrorWithoutTheSecret) {
  Fixture f({Result<HttpResponse>(HttpResponse{
      401, R"({"error":"invalid_client","error_description":"Invalid client credentials"})", {}})});
  auto t = f.source->token();
  ASSERT_FALSE(t.has_value());
  EXPECT_THAT(t.error().message, HasSubstr("invalid_client"));
  EXPECT_THAT(t.error().message, HasSubstr("check the client id and secret"));
  EXPECT_THAT(t.error().message, ::testing::Not(HasSubstr("s3cr")));
}

TEST(OAuth2ClientCredentials, RetriesAfterATransportFailure) {
  Fixture f({Result<HttpResponse>(make_error(Errc::unavailable, "connection refused")), token("t1", 300)});
  EXPECT_FALSE(f.source->token().has_value());
  EXPECT_EQ(f.source->token().value(), "t1");
}

TEST(ParseTokenResponse, ReadsTokenAndLifetime) {
  auto t = parse_token_response(200, R"({"access_token":"abc","token_type":"bearer","expires_in":60})");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->access_token, "abc");
  EXPECT_EQ(t->expires_in, 60s);
}

TEST(ParseTokenResponse, RefusesMalformedAnswers) {
  EXPECT_FALSE(parse_token_response(200, "not json").has_value());
  EXPECT_FALSE(parse_token_response(200, R"({"token_type":"Bearer"})").has_value());
  EXPECT_FALSE(parse_token_response(200, R"({"access_token":5})").has_value());
  auto mac = parse_token_response(200, R"({"access_token":"a","token_type":"mac"})");
  ASSERT_FALSE(mac.has_value());
  EXPECT_THAT(mac.error().message, HasSubstr("not a Bearer token"));
  EXPECT_THAT(parse_token_response(400, R"({"error":"unsupported_grant_type"})").error().message,
              HasSubstr("unsupported_grant_type"));
  EXPECT_THAT(parse_token_response(502, "<html>").error().message, HasSubstr("HTTP 502"));
}

TEST(ParseTokenResponse, TreatsAMissingLifetimeAsUnknown) {
  EXPECT_EQ(parse_token_response(200, R"({"access_token":"a"})")->expires_in, 0s);
}

// Issue 12: static_cast<long long>(1e300) is undefined behaviour; the lifetime is clamped first.
TEST(ParseTokenResponse, ClampsAHugeLifetimeBeforeConvertingIt) {
  for (const char* huge : {"1e300", "1.7976931348623157e308", "9223372036854775807", "18446744073709551615", "3e10"}) {
    auto t = parse_token_response(200, std::string(R"({"access_token":"a","expires_in":)") + huge + "}");
    ASSERT_TRUE(t.has_value()) << huge;
    EXPECT_EQ(t->expires_in, kMaxTokenLifetime) << huge;
  }
}

TEST(ParseTokenResponse, RoundsASubSecondLifetimeUpInsteadOfForgettingIt) {
  auto t = parse_token_response(200, R"({"access_token":"a","expires_in":0.5})");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->expires_in, 1s) << "0.5 s must not read as 'the endpoint did not say' (a year)";
  EXPECT_EQ(parse_token_response(200, R"({"access_token":"a","expires_in":-1e300})")->expires_in, 0s);
}

TEST(ParseTokenResponse, RefusesHostileJsonWithAClearError) {
  auto overflow = parse_token_response(200, R"({"access_token":"a","expires_in":1e999})");
  ASSERT_FALSE(overflow.has_value());
  EXPECT_THAT(overflow.error().message, HasSubstr("token response: a number beyond the range of a double"));
  auto deep = parse_token_response(200, R"({"access_token":"a","x":)" + std::string(100'000, '[') +
                                            std::string(100'000, ']') + "}");
  ASSERT_FALSE(deep.has_value());
  EXPECT_THAT(deep.error().message, HasSubstr("token response: nesting deeper than 64"));
  EXPECT_THAT(parse_token_response(401, std::string(100'000, '[')).error().message, HasSubstr("HTTP 401"));
}

TEST(OAuth2ClientCredentials, RenewsAHugeLifetimeTokenWithinTheClamp) {
  Fixture f({HttpResponse{200, R"({"access_token":"t1","expires_in":1e300})", {}}, token("t2", 300)});
  EXPECT_EQ(f.source->token().value(), "t1");
  f.clock.advance(kMaxTokenLifetime - 31s);  // renewed 30 s (early) before the clamped lifetime ends
  EXPECT_EQ(f.source->token().value(), "t1");
  f.clock.advance(1s);
  EXPECT_EQ(f.source->token().value(), "t2");
}

TEST(StaticToken, GivesItsTokenAndCannotRefresh) {
  StaticToken t("abc");
  EXPECT_EQ(t.token().value(), "abc");
  auto r = t.refresh("abc");
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("401"));
}

TEST(FormEncode, EscapesReservedCharacters) {
  EXPECT_EQ(form_encode("a b:c/d~e_f.g-h"), "a+b%3Ac%2Fd~e_f.g-h");
  EXPECT_EQ(form_encode("é"), "%C3%A9");
}

}  // namespace
}  // namespace carehub::sync
