#include "drivers/gatt/record_access.hpp"

#include <gtest/gtest.h>

#include "tests/unit/drivers/gatt/packets.hpp"

namespace carehub::gatt {
namespace {

using testing::bytes;

TEST(ARecordAccessResponse, ReportsTheNumberOfStoredRecords) {
  const auto r = decode_record_access_response(bytes("05 00 0A 00"));
  ASSERT_TRUE(r) << r.error().detail;
  ASSERT_TRUE(std::holds_alternative<RacpNumberOfRecords>(*r));
  EXPECT_EQ(std::get<RacpNumberOfRecords>(*r).count, 10);
}

TEST(ARecordAccessResponse, ReportsWhichRequestSucceeded) {
  const auto r = decode_record_access_response(bytes("06 00 01 01"));
  ASSERT_TRUE(r);
  const auto& code = std::get<RacpResponseCode>(*r);
  EXPECT_EQ(code.request_op_code, 0x01);
  EXPECT_EQ(racp_op_code_name(code.request_op_code), "report_stored_records");
  EXPECT_TRUE(code.success());
}

TEST(ARecordAccessResponse, ReportsWhyARequestFailed) {
  const auto r = decode_record_access_response(bytes("06 00 01 06"));
  ASSERT_TRUE(r);
  const auto& code = std::get<RacpResponseCode>(*r);
  EXPECT_FALSE(code.success());
  EXPECT_EQ(racp_response_code_name(code.response_code), "no_records_found");
}

TEST(ARecordAccessResponse, NamesEveryResponseCodeAndCallsTheRestReserved) {
  EXPECT_EQ(racp_response_code_name(0x02), "op_code_not_supported");
  EXPECT_EQ(racp_response_code_name(0x05), "invalid_operand");
  EXPECT_EQ(racp_response_code_name(0x09), "operand_not_supported");
  EXPECT_EQ(racp_response_code_name(0x0A), "server_busy");
  EXPECT_EQ(racp_response_code_name(0x00), "reserved");
  EXPECT_EQ(racp_response_code_name(0x0B), "reserved");
}

TEST(ARecordAccessResponse, RejectsARequestOpCodeAsUnsupported) {
  const auto r = decode_record_access_response(bytes("01 01"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::unsupported);
  EXPECT_EQ(r.error().detail,
            "record access control point: op code 0x01 (report_stored_records) at offset 0 is a request; only "
            "responses 0x05 and 0x06 are decoded");
}

TEST(ARecordAccessResponse, RejectsACombinedReportResponseAsUnsupported) {
  const auto r = decode_record_access_response(bytes("08 00 0A 00"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::unsupported);
}

TEST(ARecordAccessResponse, RejectsAReservedOpCodeAsMalformed) {
  for (const char* hex : {"00 00 00 00", "09 00 00 00", "FF"}) {
    const auto r = decode_record_access_response(bytes(hex));
    ASSERT_FALSE(r) << hex;
    EXPECT_EQ(r.error().kind, ErrorKind::malformed) << hex;
  }
}

TEST(ARecordAccessResponse, RejectsAResponseWhoseOperatorIsNotNull) {
  const auto r = decode_record_access_response(bytes("05 01 0A 00"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::malformed);
  EXPECT_EQ(r.error().detail,
            "record access control point: response operator must be 0x00 (null), got 0x01 at offset 1");
}

TEST(ARecordAccessResponse, MissingItsResponseCodeValueIsTruncated) {
  const auto r = decode_record_access_response(bytes("06 00 01"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::truncated);
  EXPECT_EQ(r.error().detail,
            "record access control point: response code value needs 1 byte at offset 3, only 0 remain (packet is 3 "
            "bytes)");
}

}  // namespace
}  // namespace carehub::gatt
