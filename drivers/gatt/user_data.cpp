#include "drivers/gatt/user_data.hpp"

#include <string>

#include "drivers/gatt/byte_reader.hpp"

namespace carehub::gatt {
namespace {

DecodeError bad(std::string detail) { return DecodeError{ErrorKind::malformed, std::move(detail)}; }

std::uint8_t lo(std::uint16_t v) { return static_cast<std::uint8_t>(v & 0xFF); }
std::uint8_t hi(std::uint16_t v) { return static_cast<std::uint8_t>(v >> 8); }

std::optional<DecodeError> check_consent(std::uint16_t code) {
  if (code <= kMaxConsentCode) return std::nullopt;
  return bad("user data: consent code " + std::to_string(code) + " is outside 0..9999");
}

}  // namespace

Result<std::vector<std::uint8_t>> encode_register_new_user(std::uint16_t consent_code) {
  if (auto e = check_consent(consent_code)) return *e;
  return std::vector<std::uint8_t>{ucp::kRegisterNewUser, lo(consent_code), hi(consent_code)};
}

Result<std::vector<std::uint8_t>> encode_consent(std::uint8_t user_index, std::uint16_t consent_code) {
  if (user_index == kUnknownUserIndex) return bad("user data: user index 255 is the unknown user, not a user");
  if (auto e = check_consent(consent_code)) return *e;
  return std::vector<std::uint8_t>{ucp::kConsent, user_index, lo(consent_code), hi(consent_code)};
}

std::vector<std::uint8_t> encode_delete_user_data() { return {ucp::kDeleteUserData}; }

Result<UcpResponse> decode_user_control_point_response(std::span<const std::uint8_t> packet) {
  ByteReader in(packet, "user control point");
  const auto op = in.u8("op code");
  if (!in.ok()) return *in.error();
  if (op >= ucp::kRegisterNewUser && op <= ucp::kDeleteUsers) {
    return DecodeError{ErrorKind::unsupported,
                       "user control point: op code " + std::to_string(op) + " (" + std::string(ucp_op_code_name(op)) +
                           ") is a request, not something a device sends"};
  }
  if (op != ucp::kResponseCode) return bad("user control point: reserved op code " + std::to_string(op));
  UcpResponse r;
  r.request_op_code = in.u8("request op code");
  r.response_value = in.u8("response value");
  if (in.ok() && r.success()) {
    // The parameter exists only for these two requests; a later spec may append more: ignored.
    if (r.request_op_code == ucp::kRegisterNewUser) r.user_index = in.u8("user index");
    else if (r.request_op_code == ucp::kListAllUsers) r.number_of_users = in.u8("number of users");
  }
  if (!in.ok()) return *in.error();
  if (r.user_index && *r.user_index == kUnknownUserIndex) {
    return bad("user control point: a new user registered as index 255, the unknown user");
  }
  return r;
}

std::string_view ucp_op_code_name(std::uint8_t op_code) {
  switch (op_code) {
    case ucp::kRegisterNewUser: return "register_new_user";
    case ucp::kConsent: return "consent";
    case ucp::kDeleteUserData: return "delete_user_data";
    case ucp::kListAllUsers: return "list_all_users";
    case ucp::kDeleteUsers: return "delete_users";
    case ucp::kResponseCode: return "response_code";
    default: return "reserved";
  }
}

std::string_view ucp_response_value_name(std::uint8_t response_value) {
  switch (response_value) {
    case ucp::kSuccess: return "success";
    case ucp::kOpCodeNotSupported: return "op_code_not_supported";
    case ucp::kInvalidParameter: return "invalid_parameter";
    case ucp::kOperationFailed: return "operation_failed";
    case ucp::kUserNotAuthorized: return "user_not_authorized";
    default: return "reserved";
  }
}

Result<std::uint8_t> decode_user_index(std::span<const std::uint8_t> packet) {
  ByteReader in(packet, "user index");
  const auto index = in.u8("user index");
  if (!in.ok()) return *in.error();
  return index;
}

Result<std::uint32_t> decode_database_change_increment(std::span<const std::uint8_t> packet) {
  ByteReader in(packet, "database change increment");
  const auto v = in.u32("increment");
  if (!in.ok()) return *in.error();
  return v;
}

}  // namespace carehub::gatt
