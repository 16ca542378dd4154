// Any bytes as carehubd.json: a Config or an error naming a path, never a crash or an exception.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = carehub::daemon::parse_config(text, "fuzz.json");
  if (!c && c.error().message.rfind("fuzz.json", 0) != 0) std::abort();  // every error names the file
  return 0;
}
