#include "sync/classify.hpp"

#include "sync/bundle.hpp"

namespace carehub::sync {
namespace {

// Statuses by which a server refuses what a request carries (so an entry can be at fault), as opposed
// to refusing the request itself (credentials, address, method).
bool refusal_about_content(long status) { return status == 400 || status == 409 || status == 412 || status == 422; }

}  // namespace

bool transient_status(long status) { return status == 408 || status == 429 || status >= 500; }

Classification classify(const HttpResponse& response) {
  const long status = response.status;
  if (transient_status(status)) {
    Classification c{Verdict::retry, Refusal::none, std::nullopt};
    if (auto s = retry_after_seconds(response.header("retry-after"))) c.retry_after = std::chrono::seconds(*s);
    return c;
  }
  if (status >= 200 && status < 300) return {Verdict::ok, Refusal::none, std::nullopt};
  if (status == 413) return {Verdict::error, Refusal::too_large, std::nullopt};
  if (refusal_about_content(status)) return {Verdict::error, Refusal::content, std::nullopt};
  return {Verdict::error, Refusal::request, std::nullopt};
}

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::ok: return "ok";
    case Verdict::retry: return "retry";
    case Verdict::error: return "error";
  }
  return "unknown";
}

std::string_view to_string(Refusal r) {
  switch (r) {
    case Refusal::none: return "none";
    case Refusal::too_large: return "too_large";
    case Refusal::content: return "content";
    case Refusal::request: return "request";
  }
  return "unknown";
}

}  // namespace carehub::sync
