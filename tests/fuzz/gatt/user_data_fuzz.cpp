// libFuzzer target for the User Data Service and Device Information decoders (drivers/gatt/user_data.hpp,
// device_info.hpp): what a multi-user device answers and how it describes itself is peer input. Byte 0
// selects the decoder (modulo 6), the rest is the value. Seeds: tests/fuzz/corpus/user_data_fuzz/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "drivers/gatt/device_info.hpp"
#include "drivers/gatt/user_data.hpp"

namespace {

using namespace carehub::gatt;

void check(bool condition) {
  if (!condition) std::abort();
}

template <class R>
void check_error(const R& r) {
  if (!r) check(!r.error().detail.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {
      const auto r = decode_user_control_point_response(rest);
      check_error(r);
      if (r) {
        check(!r->user_index || (r->success() && *r->user_index != kUnknownUserIndex));
        check(!ucp_response_value_name(r->response_value).empty());
      }
      break;
    }
    case 1: check_error(decode_user_index(rest)); break;
    case 2: check_error(decode_database_change_increment(rest)); break;
    case 3: {
      const auto s = decode_info_string(rest);
      check_error(s);
      if (s) {
        check(s->size() <= kMaxInfoString);
        for (unsigned char c : *s) check(c >= 0x20 && c != 0x7F);
      }
      break;
    }
    case 4: {
      const auto id = decode_system_id(rest);
      check_error(id);
      if (id) check(id->size() == 16);
      break;
    }
    default: {
      const auto b = decode_battery_level(rest);
      check_error(b);
      if (b) check(*b >= 0 && *b <= 100);
      // The encoders: whatever two bytes say, a request is either refused or well formed.
      if (rest.size() >= 3) {
        const auto code = static_cast<std::uint16_t>(rest[1] | (rest[2] << 8));
        const auto c = encode_consent(rest[0], code);
        check(c ? c->size() == 4 && (*c)[0] == ucp::kConsent : code > kMaxConsentCode || rest[0] == kUnknownUserIndex);
      }
      break;
    }
  }
  return 0;
}
