#pragma once
// Building batch Bundles and reading the per-entry outcome of a batch-response. Pure, so every status
// the server can answer is unit-tested.
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace carehub::sync {

struct BundleEntry {
  nlohmann::json resource;
  std::string if_none_exist;  // conditional create: a retry or a resend never duplicates
  // A PUT instead of a create: "DetectedIssue?identifier=urn:carehub:alert|<id>" is an R4 conditional
  // update (creates when nothing matches, replaces the one match otherwise).
  std::string update{};
  // Bundle.entry.fullUrl ("urn:uuid:…"); R4 wants one on every PUT entry of a batch.
  std::string full_url{};
};

// A batch (not a transaction): the server answers each entry on its own, so one bad entry cannot
// take the others down with it.
nlohmann::json batch_bundle(const std::vector<BundleEntry>& entries);

enum class EntryFate {
  synced,
  retry,
  dead,
  // Refused because a resource the entry references (its Patient, a Device) does not exist on the server
  // (HAPI's referential integrity, HAPI-1094). Not the entry's fault but the configuration's, or the
  // server's (expunged): the entry stays pending, never dead-lettered.
  missing_reference,
};

struct EntryOutcome {
  EntryFate fate = EntryFate::retry;
  int status = 0;
  std::string server_id;  // "Observation/123" from response.location, when synced
  std::string reason;     // OperationOutcome JSON or a description, when not synced
};

// The most of a server's OperationOutcome kept as a dead letter's reason: it is stored with every
// refused reading, and a peer may send megabytes. A longer one is kept as an OperationOutcome whose
// diagnostics hold its start and say how long it was.
inline constexpr std::size_t kMaxReasonBytes = 64 * 1024;

// Maps a batch-response to one outcome per request entry, in order. 2xx: synced; 408, 429 and 5xx:
// retry; a 4xx whose OperationOutcome says a referenced resource does not exist: missing_reference;
// other 4xx: dead (the entry itself is wrong). A response that does not match the request
// (wrong type, wrong entry count) is an error: the caller retries the whole bundle.
Result<std::vector<EntryOutcome>> read_batch_response(const nlohmann::json& response, std::size_t entries);
// The same from the response body as the server sent it (bundle_response.cpp), with parse_peer_json's
// bounds and error messages (depth and numbers bounded), so a hostile outcome is refused before anything
// recurses into it. The server's copies of the resources are not kept, but for their resourceType and id.
Result<std::vector<EntryOutcome>> read_batch_response_body(std::string_view body, std::size_t entries);

// True when an OperationOutcome (as JSON text) says a resource the request referenced does not exist:
// HAPI's "HAPI-1094: Resource Patient/x not found, specified in path: Observation.subject" (also
// without the code, as older HAPI and the local peer word it).
bool says_reference_missing(std::string_view outcome);

// The longest Retry-After taken as said; a longer one (or one too long to count) reads as this. The
// uploader waits at most an hour anyway; the bound keeps every later conversion far from overflow.
inline constexpr std::chrono::seconds kMaxRetryAfter{86400};

// Retry-After in seconds (delta form), at most kMaxRetryAfter; HTTP-dates and garbage yield nullopt.
std::optional<long> retry_after_seconds(const std::string& header);

}  // namespace carehub::sync
