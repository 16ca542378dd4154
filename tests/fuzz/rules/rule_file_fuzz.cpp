// Any bytes as a decision-support rule file: a RuleSet or an error naming the file, never a crash or an
// exception. A rule file that parses must also survive a round of evaluation-independent checks: every
// rule has an id and a kind (what the engine relies on without checking again).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rules/rule_set.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto set = carehub::rules::parse_rules(text, "fuzz-rules.json");
  if (!set) {
    if (set.error().message.find("fuzz-rules.json") == std::string::npos) std::abort();  // errors name the file
    return 0;
  }
  for (const auto& r : set->rules) {
    if (r.id.empty()) std::abort();
  }
  return 0;
}
