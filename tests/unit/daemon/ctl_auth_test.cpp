// `carehubctl auth jwks` (issue 18): asks carehubd (the only one that can read the signing key) and prints
// the JWK Set as it came, ready to register with the authorization server; a hub without a key says why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "tests/support/command_line.hpp"

namespace carehub::ctl {
namespace {

using ::testing::HasSubstr;

// The answer every request gets, and which commands were sent.
struct Ran : test::CtlRun {
  std::vector<std::string> commands;
};

Ran carehubctl(std::vector<std::string> args, const Result<nlohmann::json>& answer) {
  Ran ran;
  static_cast<test::CtlRun&>(ran) =
      test::run_carehubctl(std::move(args), [&](const std::string& cmd, const nlohmann::json&) -> Result<nlohmann::json> {
        ran.commands.push_back(cmd);
        return answer;
      });
  return ran;
}

TEST(CarehubctlAuth, PrintsTheJwkSetCarehubdDerived) {
  const nlohmann::json jwks = {{"keys",
                                {{{"kty", "EC"}, {"crv", "P-384"}, {"x", "eA"}, {"y", "eQ"}, {"kid", "k1"}, {"alg", "ES384"}, {"use", "sig"}}}}};
  const auto ran = carehubctl({"auth", "jwks"}, jwks);
  ASSERT_EQ(ran.rc, 0) << ran.err;
  EXPECT_EQ(ran.commands, std::vector<std::string>{"auth.jwks"});
  EXPECT_EQ(nlohmann::json::parse(ran.out), jwks) << "printed as JSON a server can import";
}

TEST(CarehubctlAuth, SaysWhyWhenTheHubHasNoKey) {
  const auto ran = carehubctl({"auth", "jwks"},
                              make_error(Errc::unavailable, "the hub signs no JWT: /fhir/oauth2/private_key_file is not set"));
  EXPECT_EQ(ran.rc, 1);
  EXPECT_THAT(ran.err, HasSubstr("/fhir/oauth2/private_key_file is not set"));
  EXPECT_EQ(ran.out, "");
}

TEST(CarehubctlAuth, NeedsASubcommand) {
  const auto ran = carehubctl({"auth"}, nlohmann::json::object());
  EXPECT_EQ(ran.rc, 2);
  EXPECT_TRUE(ran.commands.empty());
}

}  // namespace
}  // namespace carehub::ctl
