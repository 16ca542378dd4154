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
  EXPECT_EQ(parse_request("{\"cmd\":").error().message, "request is not valid JSON");
  EXPECT_EQ(parse_request("[1]").error().message, "request: expected an object, found an array");
  EXPECT_EQ(parse_request("{}").error().message, "request /cmd: required, but missing");
  EXPECT_EQ(parse_request(R"({"cmd":1})").error().message, "request /cmd: expected a string, found number 1");
  EXPECT_NE(parse_request(R"({"cmd":"status","args":[]})").error().message.find("/args: expected an object"), std::string::npos);
  EXPECT_NE(parse_request(R"({"cmd":"status","extra":1})").error().message.find("/extra: unknown key"), std::string::npos);
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
