// Any bytes as the FHIR server's answer to a batch: the body through read_batch_response_body (the
// function the uploader maps a response with) for 1..4 request entries, and as a Retry-After header. One
// outcome per entry or an error, never a crash; a 412's explanation stays JSON; Retry-After stays bounded.
// Differential: the body reader drops the server's copies of the resources as it parses
// (sync/bundle_response.cpp); what it answers must be what read_batch_response makes of the whole parse,
// and what it refuses, refused in parse_peer_json's words.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/json_check.hpp"
#include "sync/bundle.hpp"

namespace cs = carehub::sync;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::size_t entries = 1 + data[0] % 4u;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto outcomes = cs::read_batch_response_body(body, entries);
  if (auto whole = carehub::parse_peer_json(body, "FHIR batch-response")) {
    const auto expected = cs::read_batch_response(*whole, entries);
    if (expected.has_value() != outcomes.has_value()) std::abort();
    if (expected && outcomes) {
      for (std::size_t i = 0; i < entries; ++i) {
        const auto& a = (*expected)[i];
        const auto& b = (*outcomes)[i];
        if (a.fate != b.fate || a.status != b.status || a.server_id != b.server_id || a.reason != b.reason) std::abort();
      }
    } else if (expected.error().message != outcomes.error().message) {
      std::abort();
    }
  } else if (outcomes || outcomes.error().message != whole.error().message) {
    std::abort();
  }
  if (outcomes) {
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
