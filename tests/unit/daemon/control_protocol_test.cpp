#include "daemon/control_protocol.hpp"

#include <gtest/gtest.h>

namespace carehub::daemon {
namespace {

TEST(ControlProtocol, ARequestRoundTrips) {
  const auto line = encode_request({7, "measure.add", {{"readings", nlohmann::json::array()}}});
  EXPECT_EQ(line.back(), '\n');
  auto r = parse_request(line.substr(0, line.size() - 1));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, 7);
  EXPECT_EQ(r->cmd, "measure.add");
  EXPECT_TRUE(r->args.contains("readings"));
}

TEST(ControlProtocol, MalformedRequestsGetClearErrors) {
  EXPECT_EQ(parse_request("{\"cmd\":").error().message, "request is not valid JSON (at byte 8)");
  EXPECT_EQ(parse_request("[1]").error().message, "request: expected an object, found an array");
  EXPECT_EQ(parse_request("{}").error().message, "request /cmd: required, but missing");
  EXPECT_EQ(parse_request(R"({"cmd":1})").error().message, "request /cmd: expected a string, found number 1");
  EXPECT_NE(parse_request(R"({"cmd":"status","args":[]})").error().message.find("/args: expected an object"), std::string::npos);
  EXPECT_NE(parse_request(R"({"cmd":"status","extra":1})").error().message.find("/extra: unknown key"), std::string::npos);
}

// Issue 12: a request nested 200,000 deep (400 KB, under the 1 MiB cap) parsed, then the copy of `args`
// recursed until the stack overflowed: one local client could crash carehubd.
TEST(ControlProtocol, RefusesADeeplyNestedRequestWithoutCrashing) {
  const std::string line = R"({"id":1,"cmd":"measure.add","args":{"readings":)" + std::string(200'000, '[') +
                           std::string(200'000, ']') + "}}";
  ASSERT_LT(line.size(), kMaxRequestBytes);
  auto r = parse_request(line);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(r.error().message, "request: nesting deeper than 64");
  auto deep_id = parse_request(R"({"cmd":"status","id":)" + std::string(200'000, '{') + std::string(200'000, '}') + "}");
  EXPECT_FALSE(deep_id.has_value());
}

TEST(ControlProtocol, RefusesANumberBeyondADouble) {
  EXPECT_EQ(parse_request(R"({"id":1e999,"cmd":"status"})").error().message,
            "request: a number beyond the range of a double");
}

TEST(ControlProtocol, TheClientRefusesADeeplyNestedResponse) {
  auto r = parse_response(R"({"ok":true,"result":)" + std::string(100'000, '[') + std::string(100'000, ']') + "}");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::internal);
}

TEST(ControlProtocol, ResponsesCarryResultsOrErrorsBackToTheClient) {
  auto ok = parse_response(ok_response(3, {{"x", 1}}));
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["x"], 1);
  auto bad = parse_response(error_response(3, Error{Errc::timeout, "too slow"}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::timeout);
  EXPECT_EQ(bad.error().message, "too slow");
  EXPECT_FALSE(parse_response("garbage"));
}

TEST(ControlProtocol, InvalidUtf8InAMessageDoesNotBreakTheResponse) {
  const auto line = error_response(nullptr, "invalid-argument", std::string("bad \xff byte"));
  auto parsed = nlohmann::json::parse(line, nullptr, false);
  EXPECT_FALSE(parsed.is_discarded());
}

}  // namespace
}  // namespace carehub::daemon
