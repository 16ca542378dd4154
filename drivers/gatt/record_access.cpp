#include "drivers/gatt/record_access.hpp"

#include <array>
#include <cstdio>
#include <string>

#include "drivers/gatt/byte_reader.hpp"

namespace carehub::gatt {
namespace {

constexpr std::uint8_t kNumberOfRecordsResponse = 0x05;
constexpr std::uint8_t kResponseCode = 0x06;
constexpr std::uint8_t kCombinedReportResponse = 0x08;
constexpr std::uint8_t kNullOperator = 0x00;

constexpr std::array<std::string_view, 9> kOpCodeNames = {"reserved",
                                                          "report_stored_records",
                                                          "delete_stored_records",
                                                          "abort_operation",
                                                          "report_number_of_stored_records",
                                                          "number_of_stored_records_response",
                                                          "response_code",
                                                          "combined_report",
                                                          "combined_report_response"};

constexpr std::array<std::string_view, 11> kResponseCodeNames = {
    "reserved",         "success",          "op_code_not_supported", "invalid_operator",
    "operator_not_supported", "invalid_operand", "no_records_found", "abort_unsuccessful",
    "procedure_not_completed", "operand_not_supported", "server_busy"};

std::string hex_byte(std::uint8_t b) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", unsigned{b});
  return text;
}

}  // namespace

std::string_view racp_op_code_name(std::uint8_t op_code) {
  return op_code < kOpCodeNames.size() ? kOpCodeNames[op_code] : "reserved";
}

std::string_view racp_response_code_name(std::uint8_t response_code) {
  return response_code < kResponseCodeNames.size() ? kResponseCodeNames[response_code] : "reserved";
}

Result<std::variant<RacpNumberOfRecords, RacpResponseCode>> decode_record_access_response(
    std::span<const std::uint8_t> packet) {
  ByteReader r(packet, "record access control point");
  const std::uint8_t op_code = r.u8("op code");
  if (!r.ok()) {
    return *r.error();
  }
  if (op_code != kNumberOfRecordsResponse && op_code != kResponseCode) {
    const std::string name = "op code " + hex_byte(op_code);
    if (op_code == 0x00 || op_code > kCombinedReportResponse) {
      r.fail(ErrorKind::malformed, name + " at offset 0 is reserved");
    } else if (op_code == kCombinedReportResponse) {
      r.fail(ErrorKind::unsupported, name + " (combined_report_response) at offset 0 is not decoded");
    } else {
      r.fail(ErrorKind::unsupported, name + " (" + std::string(racp_op_code_name(op_code)) +
                                         ") at offset 0 is a request; only responses 0x05 and 0x06 are decoded");
    }
    return *r.error();
  }
  const std::uint8_t op = r.u8("operator");
  if (r.ok() && op != kNullOperator) {
    r.fail(ErrorKind::malformed, "response operator must be 0x00 (null), got " + hex_byte(op) + " at offset 1");
  }
  std::variant<RacpNumberOfRecords, RacpResponseCode> out;
  if (op_code == kNumberOfRecordsResponse) {
    out = RacpNumberOfRecords{r.u16("number of records")};
  } else {
    RacpResponseCode code;
    code.request_op_code = r.u8("request op code");
    code.response_code = r.u8("response code value");
    out = code;
  }
  if (!r.ok()) {
    return *r.error();
  }
  return out;
}

}  // namespace carehub::gatt
