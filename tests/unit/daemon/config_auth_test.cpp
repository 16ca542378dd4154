// /fhir/oauth2's client authentication (issue 18): a shared secret or, recommended, a signing key
// (private_key_jwt), exactly one of them; the next key of a rotation only beside a current one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/config.hpp"

namespace carehub::daemon {
namespace {

using ::testing::HasSubstr;

Result<Config> with_oauth2(const std::string& oauth2) {
  return parse_config(R"({"hub":{"id":"h","patient":"Patient/p"},"store":{"path":"b.db"},
    "fhir":{"base_url":"https://fhir.example/R4","oauth2":{"token_url":"https://auth.example/token","client_id":"hub-1")" +
                          oauth2 + "}}}",
                      "kit.json");
}

TEST(ConfigAuth, ASigningKeyAndTheNextOneAreRead) {
  auto c = with_oauth2(R"(,"private_key_file":"fhir-jwt-key","next_private_key_file":"fhir-jwt-key-next")");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->oauth2_private_key_file, "fhir-jwt-key");
  EXPECT_EQ(c->oauth2_next_private_key_file, "fhir-jwt-key-next");
  EXPECT_TRUE(c->oauth2_secret_file.empty());
  ASSERT_TRUE(c->oauth2);
  EXPECT_EQ(c->oauth2->client_id, "hub-1");
}

TEST(ConfigAuth, TheSecretStillWorksAlone) {
  auto c = with_oauth2(R"(,"client_secret_file":"fhir-client-secret")");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->oauth2_secret_file, "fhir-client-secret");
  EXPECT_TRUE(c->oauth2_private_key_file.empty());
}

TEST(ConfigAuth, ExactlyOneOfSecretAndKey) {
  for (const auto* both_or_neither : {R"(,"client_secret_file":"s","private_key_file":"k")", ""}) {
    auto c = with_oauth2(both_or_neither);
    ASSERT_FALSE(c) << both_or_neither;
    EXPECT_THAT(c.error().message, HasSubstr("kit.json: /fhir/oauth2: give exactly one of client_secret_file"));
  }
}

TEST(ConfigAuth, TheNextKeyNeedsACurrentKey) {
  auto c = with_oauth2(R"(,"client_secret_file":"s","next_private_key_file":"k2")");
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message, HasSubstr("/fhir/oauth2/next_private_key_file: needs /fhir/oauth2/private_key_file"));
}

}  // namespace
}  // namespace carehub::daemon
