// Any bytes through parse_peer_json, the one safe parse of peer JSON: never throws, and what it accepts
// is no deeper than the limit, so copying, comparing and dumping it (all recursive in nlohmann) are safe.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json_check.hpp"

namespace {

std::size_t depth_of(const nlohmann::json& j, std::size_t limit) {
  if (limit == 0) return 1;  // deeper than the caller's bound: stop counting
  std::size_t deepest = 0;
  if (j.is_array() || j.is_object()) {
    for (const auto& child : j) deepest = std::max(deepest, depth_of(child, limit - 1));
    return deepest + 1;
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the depth limit (1..64), so the boundary is reached with short inputs too.
  const carehub::JsonLimits limits{1 + data[0] % 64u, 0};
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto parsed = carehub::parse_peer_json(text, "fuzz", limits);
  if (!parsed) {
    if (parsed.error().message.rfind("fuzz", 0) != 0) std::abort();  // every error names its source
    return 0;
  }
  if (depth_of(*parsed, limits.max_depth + 1) > limits.max_depth) std::abort();
  const nlohmann::json copy = *parsed;
  const auto text_again = copy.dump();
  auto again = carehub::parse_peer_json(text_again, "fuzz", limits);
  if (!again || *again != copy) std::abort();  // what was accepted is accepted again, unchanged
  return 0;
}
