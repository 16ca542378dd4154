// /sources/openhab: every problem named by its JSON path, the auth variants, the keys it knows.
#include "drivers/openhab/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace carehub::openhab {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

TEST(AClientConfig, ReportsEveryProblemWithItsJsonPath) {
  auto c = parse_client_config(json::parse(R"({"url":"ftp://x","auth":{"type":"bearer"},"retry_base_ms":5,
      "colour":1,"items":[{"name":"A","kind":"foo"}]})"),
                               "/sources/openhab");
  ASSERT_FALSE(c);
  const auto& m = c.error().message;
  EXPECT_THAT(m, HasSubstr("/sources/openhab/url: expected an http:// or https:// URL"));
  EXPECT_THAT(m, HasSubstr("/sources/openhab/auth/token_file"));
  EXPECT_THAT(m, HasSubstr("/sources/openhab/retry_base_ms"));
  EXPECT_THAT(m, HasSubstr("/sources/openhab/colour: unknown key"));
  EXPECT_THAT(m, HasSubstr("/sources/openhab/items/0/kind"));
}

TEST(AClientConfig, ReadsTheAuthVariantsWithoutTouchingTheSecretFiles) {
  auto c = parse_client_config(json::parse(R"({"url":"https://home.myopenhab.org","tls_verify":true,
      "auth":{"type":"cloud","username":"me@example.org","password_file":"/nonexistent/p","token_file":"/nonexistent/t"},
      "items":[{"name":"A","kind":"motion"}]})"),
                               "/sources/openhab");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->auth.kind, AuthKind::cloud);
  EXPECT_EQ(c->auth.token_file, "/nonexistent/t");
  EXPECT_TRUE(c->verify_tls);
}

TEST(AClientConfig, HasTheDocumentedDefaults) {
  auto c = parse_client_config(json::parse(R"({"url":"http://oh:8080//","items":[{"name":"A","kind":"motion"}]})"),
                               "/sources/openhab");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->url, "http://oh:8080") << "trailing slashes dropped";
  EXPECT_EQ(c->auth.kind, AuthKind::none);
  EXPECT_TRUE(c->verify_tls);
  EXPECT_EQ(c->keepalive_margin, std::chrono::seconds(5));
  EXPECT_EQ(c->silence_timeout, std::chrono::seconds(120));
  EXPECT_EQ(c->backoff.base, std::chrono::milliseconds(1000));
  EXPECT_EQ(c->backoff.cap, std::chrono::milliseconds(60000));
  EXPECT_EQ(c->connect_timeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(c->request_timeout, std::chrono::milliseconds(30000));
}

TEST(AClientConfig, NamesEveryKeyItKnowsWhenOneIsUnknown) {
  auto c = parse_client_config(json::parse(R"({"url":"http://oh:8080","colour":1,
      "auth":{"type":"bearer","token_file":"t","token":"x"},"items":[{"name":"A","kind":"motion"}]})"),
                               "/sources/openhab");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message,
            "/sources/openhab/colour: unknown key (expected one of: url, auth, tls_verify, ca_file, "
            "keepalive_margin_s, silence_timeout_s, retry_base_ms, retry_cap_ms, connect_timeout_ms, "
            "request_timeout_ms, items, tags, groups)\n"
            "/sources/openhab/auth/token: unknown key (expected one of: type, token_file, username, password_file)");
}

TEST(AClientConfig, MustMapSomething) {
  auto c = parse_client_config(json::parse(R"({"url":"http://oh:8080"})"), "/sources/openhab");
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message, HasSubstr("/sources/openhab: maps no item (add items, tags or groups)"));
}

}  // namespace
}  // namespace carehub::openhab
