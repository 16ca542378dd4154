#pragma once
// What the server's answer to a whole request means, from the answer alone: Fluent Bit's OK / RETRY /
// ERROR. Pure, so every status the uploader meets is one row of a table (classify_test.cpp). What the
// uploader does about it (back off, shrink the bundle, isolate an entry, suspect a reading) is
// uploader_exchange.cpp's; the entries of a 2xx batch-response are read_batch_response's (bundle.hpp).
#include <chrono>
#include <optional>
#include <string_view>

#include "sync/http_client.hpp"

namespace carehub::sync {

enum class Verdict {
  ok,     // 2xx: the server answered each entry, in the body
  retry,  // the server is busy or failing: the same request again after a backoff
  error,  // the server refused the request: sending it again unchanged will not help
};

// Why the server refused a request (Verdict::error): it decides what the uploader tries instead.
enum class Refusal {
  none,       // not refused
  too_large,  // 413: a smaller bundle may go
  content,    // 400, 409, 412, 422: something the request carries; an entry may be at fault
  request,    // any other status (401, 403, 404, 3xx, 425...): the request itself, never an entry
};

struct Classification {
  Verdict verdict = Verdict::error;
  Refusal refusal = Refusal::none;
  // With Verdict::retry: the server's Retry-After (delta seconds, at most kMaxRetryAfter) when it sent one.
  std::optional<std::chrono::seconds> retry_after;
};

// The status decides (and Retry-After, for a retry); the body is not read: a whole-request 4xx is
// refused whatever its OperationOutcome says.
Classification classify(const HttpResponse& response);

// 408, 429 and 5xx: about the server's state, not what was sent. The same for a batch-response's entries.
bool transient_status(long status);

std::string_view to_string(Verdict v);
std::string_view to_string(Refusal r);

}  // namespace carehub::sync
