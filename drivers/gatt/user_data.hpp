#pragma once
// User Data Service (0x181C): the multi-user side of health devices. A device that keeps one memory per
// person gives each a user index (0-254); the collector registers a user with a consent code the person
// chose, and must give the index and code again (Consent) before the device shows or sends that user's
// data. Encoders for what the collector writes, decoders for what the device answers. Pure, fuzzed.
//
// User Control Point 0x2A9F (UDS 1.0 §3.4; write with response, answers by indication):
//   0x01 Register New User   operand: consent code uint16 (0..9999)
//   0x02 Consent             operand: user index uint8, consent code uint16
//   0x03 Delete User Data    no operand: the data of the user who consented last
//   0x04 List All Users, 0x05 Delete User(s)  (UDS 1.1; not written by carehub)
//   0x20 Response Code       request op code uint8, response value uint8, response parameter:
//                              Register New User + Success: the new user index uint8
//                              List All Users + Success: the number of users uint8
// Response values: 0x01 Success, 0x02 Op Code not supported, 0x03 Invalid Parameter, 0x04 Operation
// Failed, 0x05 User Not Authorized; 0x00 and 0x06-0xFF reserved.
// User Index 0x2A9A: uint8, the user whose data is shown now; 0xFF = unknown user (no consent yet).
// Database Change Increment 0x2A99: uint32, bumped by whoever changes that user's data.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "drivers/gatt/result.hpp"

namespace carehub::gatt {

namespace uuid {
inline constexpr std::uint16_t kUserDataService = 0x181C;
inline constexpr std::uint16_t kDatabaseChangeIncrement = 0x2A99;
inline constexpr std::uint16_t kUserIndex = 0x2A9A;
inline constexpr std::uint16_t kUserControlPoint = 0x2A9F;
}  // namespace uuid

namespace ucp {
inline constexpr std::uint8_t kRegisterNewUser = 0x01;
inline constexpr std::uint8_t kConsent = 0x02;
inline constexpr std::uint8_t kDeleteUserData = 0x03;
inline constexpr std::uint8_t kListAllUsers = 0x04;
inline constexpr std::uint8_t kDeleteUsers = 0x05;
inline constexpr std::uint8_t kResponseCode = 0x20;

inline constexpr std::uint8_t kSuccess = 0x01;
inline constexpr std::uint8_t kOpCodeNotSupported = 0x02;
inline constexpr std::uint8_t kInvalidParameter = 0x03;
inline constexpr std::uint8_t kOperationFailed = 0x04;
inline constexpr std::uint8_t kUserNotAuthorized = 0x05;
}  // namespace ucp

inline constexpr std::uint16_t kMaxConsentCode = 9999;
inline constexpr std::uint8_t kUnknownUserIndex = 0xFF;

// What the collector writes. A consent code above 9999 or the user index 0xFF (unknown user) is
// `malformed`: the device would refuse it with Invalid Parameter, the technician should hear it first.
Result<std::vector<std::uint8_t>> encode_register_new_user(std::uint16_t consent_code);
Result<std::vector<std::uint8_t>> encode_consent(std::uint8_t user_index, std::uint16_t consent_code);
std::vector<std::uint8_t> encode_delete_user_data();

struct UcpResponse {
  std::uint8_t request_op_code = 0;
  std::uint8_t response_value = 0;
  std::optional<std::uint8_t> user_index;       // Register New User, Success
  std::optional<std::uint8_t> number_of_users;  // List All Users, Success

  bool success() const { return response_value == ucp::kSuccess; }
};

// A User Control Point indication. Only Response Code (0x20) is what a device sends: a request op code
// is `unsupported`, a reserved op code or a Register New User success without its index `truncated`
// or `malformed`; a success that names the unknown user 0xFF as the new index is `malformed`.
Result<UcpResponse> decode_user_control_point_response(std::span<const std::uint8_t> packet);

// "register_new_user", "consent", "delete_user_data", "list_all_users", "delete_users", "response_code",
// or "reserved".
std::string_view ucp_op_code_name(std::uint8_t op_code);
// "success", "op_code_not_supported", "invalid_parameter", "operation_failed", "user_not_authorized",
// or "reserved".
std::string_view ucp_response_value_name(std::uint8_t response_value);

// User Index (exactly one byte; 0xFF = unknown user) and Database Change Increment (uint32).
Result<std::uint8_t> decode_user_index(std::span<const std::uint8_t> packet);
Result<std::uint32_t> decode_database_change_increment(std::span<const std::uint8_t> packet);

}  // namespace carehub::gatt
