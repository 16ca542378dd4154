#pragma once
// Record Access Control Point (0x2A52) responses, as indicated by a glucose meter, pulse oximeter or
// other record-keeping sensor after the collector asked for its stored records.
//
// Layout (GATT Specification Supplement 3.178 Record Access Control Point; Glucose Service 1.0 for the
// operand sizes): op code uint8, operator uint8, operand.
//   0x05 Number of Stored Records Response: operator 0x00 (Null), operand uint16 number of records
//   0x06 Response Code: operator 0x00 (Null), operand = request op code uint8, response code value uint8
// Request op codes (0x01-0x04, 0x07) are what the collector writes, never what it receives: they are
// `unsupported` here, as is 0x08 Combined Report Response. Op code 0x00 and 0x09-0xFF are reserved and a
// response with a non-Null operator breaks the rule above: both `malformed`.
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

#include "drivers/gatt/result.hpp"

namespace carehub::gatt {

struct RacpNumberOfRecords {
  std::uint16_t count = 0;
};

struct RacpResponseCode {
  std::uint8_t request_op_code = 0;  // the op code this answers; see racp_op_code_name()
  std::uint8_t response_code = 0;    // see racp_response_code_name()

  bool success() const { return response_code == 0x01; }
};

// "report_stored_records", "delete_stored_records", "abort_operation", "report_number_of_stored_records",
// "number_of_stored_records_response", "response_code", "combined_report", "combined_report_response",
// or "reserved".
std::string_view racp_op_code_name(std::uint8_t op_code);
// "success", "op_code_not_supported", "invalid_operator", "operator_not_supported", "invalid_operand",
// "no_records_found", "abort_unsuccessful", "procedure_not_completed", "operand_not_supported",
// "server_busy", or "reserved".
std::string_view racp_response_code_name(std::uint8_t response_code);

Result<std::variant<RacpNumberOfRecords, RacpResponseCode>> decode_record_access_response(
    std::span<const std::uint8_t> packet);

}  // namespace carehub::gatt
