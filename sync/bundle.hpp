#pragma once
// Building batch Bundles and reading the per-entry outcome of a batch-response. Pure, so every status
// the server can answer is unit-tested.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace carehub::sync {

struct BundleEntry {
  nlohmann::json resource;
  std::string if_none_exist;  // conditional create: a retry or a resend never duplicates
  std::string update{};       // "DetectedIssue/12": replace that resource (PUT) instead of creating one
};

// A batch (not a transaction): the server answers each entry on its own, so one bad entry cannot
// take the others down with it.
nlohmann::json batch_bundle(const std::vector<BundleEntry>& entries);

enum class EntryFate { synced, retry, dead };

struct EntryOutcome {
  EntryFate fate = EntryFate::retry;
  int status = 0;
  std::string server_id;  // "Observation/123" from response.location, when synced
  std::string reason;     // OperationOutcome JSON or a description, when not synced
};

// Maps a batch-response to one outcome per request entry, in order. 2xx: synced; 408, 429 and 5xx:
// retry; other 4xx: dead (the entry itself is wrong). A response that does not match the request
// (wrong type, wrong entry count) is an error: the caller retries the whole bundle.
Result<std::vector<EntryOutcome>> read_batch_response(const nlohmann::json& response, std::size_t entries);

// Retry-After in seconds (delta form); HTTP-dates and garbage yield nullopt.
std::optional<long> retry_after_seconds(const std::string& header);

}  // namespace carehub::sync
