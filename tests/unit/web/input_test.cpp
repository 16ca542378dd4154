// Where browser input enters carehub-web: addresses, origins, bodies, cookies, query parameters.
#include <gtest/gtest.h>

#include "web/server/access.hpp"
#include "web/server/request_input.hpp"

namespace carehub::web {
namespace {

TEST(Access, LoopbackIsOnly127Slash8AndColonColon1) {
  for (auto a : {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"}) EXPECT_TRUE(is_loopback(a)) << a;
  for (auto a : {"192.168.1.20", "10.0.0.1", "::ffff:192.168.1.2", "fe80::1", "0.0.0.0", "", "localhost", "127.0.0.1 "}) {
    EXPECT_FALSE(is_loopback(a)) << a;
  }
}

TEST(Access, ARequestFromTheHomeNetworkWithoutTlsIsRefused) {
  EXPECT_FALSE(transport_allowed("192.168.1.20", false));
  EXPECT_FALSE(transport_allowed("fd00::5", false));
  EXPECT_TRUE(transport_allowed("192.168.1.20", true));
  EXPECT_TRUE(transport_allowed("127.0.0.1", false));
  EXPECT_TRUE(transport_allowed("::1", false));
}

TEST(Access, OnlyOurOwnOriginMayChangeThings) {
  EXPECT_TRUE(origin_allowed("", "127.0.0.1:8080", false));
  EXPECT_TRUE(origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", false));
  EXPECT_TRUE(origin_allowed("https://hub.local:8443", "hub.local:8443", true));
  EXPECT_FALSE(origin_allowed("http://evil.example", "127.0.0.1:8080", false));
  EXPECT_FALSE(origin_allowed("null", "127.0.0.1:8080", false));
  EXPECT_FALSE(origin_allowed("http://hub.local:8443", "hub.local:8443", true));  // scheme counts
  EXPECT_FALSE(origin_allowed("http://127.0.0.1:8080", "", false));
}

TEST(Access, AnUnpairedHomeNetworkDisplayGetsNoPatientData) {
  EXPECT_EQ(display_access("127.0.0.1", false), DisplayAccess::local);
  EXPECT_EQ(display_access("192.168.1.20", false), DisplayAccess::unpaired);
  EXPECT_EQ(display_access("192.168.1.20", true), DisplayAccess::paired);
}

TEST(Access, ListenAddressesAreCheckedWithAReason) {
  auto a = parse_host_port("127.0.0.1:8080");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  auto b = parse_host_port("[::1]:0");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  for (auto bad : {"", "8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "host:80", "127.0.0.1:8a", "[::1:80"}) {
    auto r = parse_host_port(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().message.find("expected ADDRESS:PORT"), std::string::npos);
    }
  }
}

TEST(RequestInput, BodiesAreBoundedInSizeAndDepthAndMustBeObjects) {
  auto empty = parse_json_body("", "");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->is_object());
  auto ok = parse_json_body(R"({"reason":"phoned"})", "application/json; charset=utf-8");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ((*ok)["reason"], "phoned");
  EXPECT_EQ(parse_json_body(R"({"a":1})", "text/plain").error().message, "body: expected Content-Type application/json");
  EXPECT_EQ(parse_json_body("[1]", "application/json").error().message, "body: expected an object, found an array");
  EXPECT_EQ(parse_json_body("{\"a\":", "application/json").error().code, Errc::invalid_argument);
  const std::string deep = "{\"a\":" + std::string(20, '[') + std::string(20, ']') + "}";
  auto too_deep = parse_json_body(deep, "application/json");
  ASSERT_FALSE(too_deep);
  EXPECT_NE(too_deep.error().message.find("nesting deeper than 16"), std::string::npos) << too_deep.error().message;
  const std::string big = "{\"a\":\"" + std::string(kMaxBodyBytes, 'x') + "\"}";
  auto too_big = parse_json_body(big, "application/json");
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, Errc::full);
  EXPECT_FALSE(parse_json_body("{\"a\":1e999}", "application/json"));
  EXPECT_FALSE(parse_json_body("{\"a\":\"\xff\"}", "application/json"));
}

TEST(RequestInput, CookiesAreFoundByExactName) {
  EXPECT_EQ(cookie_value("a=1; carehub_session=abc; b=2", "carehub_session"), "abc");
  EXPECT_EQ(cookie_value("carehub_session=abc", "carehub_session"), "abc");
  EXPECT_FALSE(cookie_value("xcarehub_session=abc", "carehub_session"));
  EXPECT_FALSE(cookie_value("", "carehub_session"));
  EXPECT_FALSE(cookie_value("carehub_session", "carehub_session"));
  EXPECT_FALSE(cookie_value("carehub_session=" + std::string(300, 'a'), "carehub_session"));
}

TEST(RequestInput, QueryIntegersAndIdsNameWhatIsWrong) {
  EXPECT_EQ(*query_integer("days", "", false, 1, 90, 30), 30);
  EXPECT_EQ(*query_integer("days", "7", true, 1, 90, 30), 7);
  for (auto bad : {"0", "91", "7d", "", "-1", "99999999999999999999"}) {
    auto r = query_integer("days", bad, true, 1, 90, 30);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message, "query parameter days: expected an integer from 1 to 90");
  }
  EXPECT_TRUE(valid_id("hf5:Patient-1:abc.def_1"));
  EXPECT_FALSE(valid_id(""));
  EXPECT_FALSE(valid_id("a/b"));
  EXPECT_FALSE(valid_id("a b"));
  EXPECT_FALSE(valid_id(std::string(129, 'a')));
}

}  // namespace
}  // namespace carehub::web
