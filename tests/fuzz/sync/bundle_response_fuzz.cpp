// Any bytes as the FHIR server's answer to a batch: the body through read_batch_response_body (the
// function the uploader maps a response with) for 1..4 request entries, and as a Retry-After header. One
// outcome per entry or an error, never a crash; a 412's explanation stays JSON; Retry-After stays bounded.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sync/bundle.hpp"

namespace cs = carehub::sync;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::size_t entries = 1 + data[0] % 4u;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (auto outcomes = cs::read_batch_response_body(body, entries)) {
    if (outcomes->size() != entries) std::abort();
    for (const auto& o : *outcomes) {
      if (o.fate != cs::EntryFate::synced && o.reason.empty()) std::abort();  // a refusal says why
      if (o.status == 412 && nlohmann::json::parse(o.reason, nullptr, false).is_discarded()) std::abort();
    }
  } else if (outcomes.error().message.empty()) {
    std::abort();
  }
  if (auto s = cs::retry_after_seconds(std::string(body))) {
    if (*s < 0 || *s > cs::kMaxRetryAfter.count()) std::abort();
  }
  return 0;
}
