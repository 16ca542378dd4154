// The uploader's exchange with the server: posting a batch Bundle (gzip, credentials), then acting on
// what the answer means (classify.hpp): back off, resize the bundle (bundle_size.hpp), isolate a refused
// entry, or suspect a reading sent alone.
#include "sync/classify.hpp"
#include "sync/uploader.hpp"

namespace carehub::sync {
BodyCoding::Sent Uploader::post_bundle(const nlohmann::json& bundle) {
  HttpRequest req;
  req.method = "POST";
  req.url = options_.base_url;
  req.headers = {{"Content-Type", "application/fhir+json"}, {"Accept", "application/fhir+json"}};
  req.body = bundle.dump();
  const bool was_gzip = coding_.gzip();
  auto sent = coding_.send(req, [this](HttpRequest r) { return send_authorized(std::move(r)); });
  if (was_gzip && !coding_.gzip()) {
    counters_.add("sync_gzip_refused");
    {
      std::lock_guard lock(mu_);
      status_.gzip = false;
      status_.gzip_refused = coding_.refusal();
    }
    log_.notice("sync", "gzip-refused",
                {{"action", "sending uncompressed bodies"}, {"url", options_.base_url}, {"answer", coding_.refusal()}});
  }
  return sent;
}

Uploader::Exchange Uploader::exchange(const std::vector<BundleEntry>& entries, std::size_t units,
                                      std::vector<EntryOutcome>& outcomes, std::string& refusal) {
  {
    std::lock_guard lock(mu_);
    status_.in_flight = entries.size();
    status_.last_attempt = clock_.now();
  }
  auto sent = post_bundle(batch_bundle(entries));
  auto& resp = sent.response;
  if (!resp) {
    // A slow link or a slow server: smaller bundles finish within the timeout.
    if (resp.error().code == Errc::timeout) bundle_size_.shrink(units);
    record_failure(resp.error().message, std::nullopt);
    return Exchange::failed;
  }
  const auto answer = classify(*resp);
  switch (answer.verdict) {
    case Verdict::retry: {
      std::optional<std::chrono::milliseconds> retry_after;
      // retry_after_seconds() bounds it (kMaxRetryAfter), so the conversion to milliseconds cannot overflow.
      if (answer.retry_after) retry_after = *answer.retry_after;
      record_failure("HTTP " + std::to_string(resp->status) + " from " + options_.base_url, retry_after);
      return Exchange::failed;
    }
    case Verdict::ok: {
      // Through the one safe parse: a deep outcome or a 1e999 is refused before anything recurses into it.
      auto parsed = read_batch_response_body(resp->body, entries.size());
      if (!parsed) {
        counters_.add("sync_bad_responses");  // unreadable, too deep, or not a batch-response for this bundle
        record_failure(parsed.error().message, std::nullopt);
        return Exchange::failed;
      }
      outcomes = std::move(*parsed);
      return Exchange::ok;
    }
    case Verdict::error: break;
  }
  if (answer.refusal == Refusal::too_large && bundle_size_.shrink(units)) {
    {
      std::lock_guard lock(mu_);
      status_.bundle_size = bundle_size_.current();
    }
    log_.notice("sync", "bundle-too-large",
                {{"status", 413}, {"entries", entries.size()}, {"bundle_size", bundle_size_.current()}});
    return Exchange::retry_now;
  }
  if (answer.refusal == Refusal::request || sent.compressed) {
    // 401 after a fresh token, 403 (credentials), 404 (wrong base URL), 3xx...: the request, not any
    // entry, is at fault; so is a refused gzip body when compression is forced on (it may be the
    // coding). Dead-lettering here would throw away the whole buffer over an expired token.
    record_failure("HTTP " + std::to_string(resp->status) + " from " + options_.base_url +
                       (sent.compressed ? " to a gzip body: " : ": ") + resp->body.substr(0, 300),
                   std::nullopt);
    return Exchange::failed;
  }
  if (units == 1) {
    // The whole request, carrying one unit, plain, was refused. The unit is suspect: it is the culprit
    // only if the server takes other requests (see suspects_).
    refusal = resp->body.substr(0, kMaxReasonBytes);
    if (answer.refusal == Refusal::too_large) refusal = "HTTP 413: too large for the server even on its own. " + refusal;
    return Exchange::refused;
  }
  // The server refused the bundle as a whole (4xx) without saying which entry: send these one at a time
  // so the culprit is isolated and the rest go through. Not the server's health: no backoff.
  log_.warning("sync", "bundle-refused",
               {{"status", resp->status}, {"entries", entries.size()}, {"action", "sending readings one by one"}});
  isolate_remaining_ = units;
  return Exchange::retry_now;
}

}  // namespace carehub::sync
