// Any bytes as a token endpoint's answer (RFC 6749 §5.1/5.2), under a 2xx and an error status: a token
// with a lifetime within kMaxTokenLifetime, or an error; never a crash, never undefined behaviour on a
// huge expires_in (UBSan is on in fuzz builds).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sync/auth.hpp"

namespace cs = carehub::sync;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  for (long status : {200L, 400L}) {
    auto t = cs::parse_token_response(status, body);
    if (!t) {
      if (t.error().message.empty()) std::abort();
      continue;
    }
    if (status != 200 || t->access_token.empty()) std::abort();
    if (t->expires_in.count() < 0 || t->expires_in > cs::kMaxTokenLifetime) std::abort();
  }
  return 0;
}
