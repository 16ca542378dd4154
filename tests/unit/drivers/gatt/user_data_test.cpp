#include "drivers/gatt/user_data.hpp"

#include <gtest/gtest.h>

#include "tests/unit/drivers/gatt/packets.hpp"

namespace carehub::gatt {
namespace {

using testing::bytes;

TEST(AUserControlPointRequest, RegistersANewUserWithItsConsentCodeLittleEndian) {
  const auto r = encode_register_new_user(1234);  // 0x04D2
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(*r, bytes("01 D2 04"));
}

TEST(AUserControlPointRequest, GivesConsentWithTheUserIndexThenTheCode) {
  const auto r = encode_consent(2, 9999);  // 0x270F
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, bytes("02 02 0F 27"));
  EXPECT_EQ(encode_delete_user_data(), bytes("03"));
}

TEST(AUserControlPointRequest, RefusesAConsentCodeAbove9999AndTheUnknownUser) {
  const auto big = encode_register_new_user(10000);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().kind, ErrorKind::malformed);
  EXPECT_NE(big.error().detail.find("0..9999"), std::string::npos) << big.error().detail;
  EXPECT_FALSE(encode_consent(1, 10000));
  const auto unknown = encode_consent(0xFF, 1);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().detail.find("unknown user"), std::string::npos);
}

TEST(AUserControlPointResponse, ANewUserComesWithItsIndex) {
  const auto r = decode_user_control_point_response(bytes("20 01 01 03"));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_TRUE(r->success());
  EXPECT_EQ(r->request_op_code, ucp::kRegisterNewUser);
  EXPECT_EQ(r->user_index, std::optional<std::uint8_t>(3));
  EXPECT_FALSE(r->number_of_users);
}

TEST(AUserControlPointResponse, AWrongConsentCodeIsUserNotAuthorized) {
  const auto r = decode_user_control_point_response(bytes("20 02 05"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->success());
  EXPECT_EQ(ucp_response_value_name(r->response_value), "user_not_authorized");
  EXPECT_EQ(ucp_op_code_name(r->request_op_code), "consent");
  EXPECT_FALSE(r->user_index) << "a failed request carries no parameter";
}

TEST(AUserControlPointResponse, ARegisteredUserWithoutItsIndexIsTruncated) {
  const auto r = decode_user_control_point_response(bytes("20 01 01"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::truncated);
  EXPECT_NE(r.error().detail.find("user index"), std::string::npos) << r.error().detail;
}

TEST(AUserControlPointResponse, ANewUserNamedTheUnknownUserIsMalformed) {
  const auto r = decode_user_control_point_response(bytes("20 01 01 FF"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::malformed);
}

TEST(AUserControlPointResponse, RequestsAndReservedOpCodesAreNotResponses) {
  EXPECT_EQ(decode_user_control_point_response(bytes("01 D2 04")).error().kind, ErrorKind::unsupported);
  EXPECT_EQ(decode_user_control_point_response(bytes("07")).error().kind, ErrorKind::malformed);
  EXPECT_EQ(decode_user_control_point_response({}).error().kind, ErrorKind::truncated);
  EXPECT_EQ(decode_user_control_point_response(bytes("20 01")).error().kind, ErrorKind::truncated);
}

TEST(AUserControlPointResponse, ListAllUsersCountsThemAndLaterFieldsAreIgnored) {
  const auto r = decode_user_control_point_response(bytes("20 04 01 02 AA BB"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->number_of_users, std::optional<std::uint8_t>(2));
}

TEST(AUserIndex, IsOneByteAndTheDatabaseIncrementFour) {
  EXPECT_EQ(*decode_user_index(bytes("02")), 2);
  EXPECT_EQ(*decode_user_index(bytes("FF")), kUnknownUserIndex);
  EXPECT_EQ(decode_user_index({}).error().kind, ErrorKind::truncated);
  EXPECT_EQ(*decode_database_change_increment(bytes("01 02 00 00")), 0x0201u);
  EXPECT_EQ(decode_database_change_increment(bytes("01 02 00")).error().kind, ErrorKind::truncated);
}

}  // namespace
}  // namespace carehub::gatt
