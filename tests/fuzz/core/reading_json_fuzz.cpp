// Any bytes as a reading line: either a valid reading (which must then survive a round trip through
// reading_to_json unchanged) or an error, never a crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/reading_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const auto received = carehub::from_epoch_ms(1'790'000'000'000);
  auto r = carehub::parse_reading_json(line, received);
  if (!r) return 0;
  if (!carehub::validate(*r)) std::abort();  // parsed means valid
  auto again = carehub::reading_from_json(carehub::reading_to_json(*r), received);
  if (!again || carehub::reading_uid(*again) != carehub::reading_uid(*r)) std::abort();
  return 0;
}
