// The uploader's exchange with the server: posting a batch Bundle (gzip, credentials), telling a refusal
// of the request from a refusal of its entries, resizing the bundle and isolating a refused entry.
#include "sync/uploader.hpp"

namespace carehub::sync {
namespace {

// Statuses by which a server refuses what a request carries (so an entry can be at fault), as opposed
// to refusing the request itself (credentials, address, method).
bool refusal_about_content(long status) { return status == 400 || status == 409 || status == 412 || status == 422; }

bool transient(long status) { return status == 408 || status == 429 || status >= 500; }

}  // namespace

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
    if (resp.error().code == Errc::timeout && units > 1) {
      // A slow link or a slow server: smaller bundles finish within the timeout.
      bundle_size_ = std::max<std::size_t>(1, units / 2);
      good_bundles_ = 0;
    }
    record_failure(resp.error().message, std::nullopt);
    return Exchange::failed;
  }
  if (transient(resp->status)) {
    std::optional<std::chrono::milliseconds> retry_after;
    // retry_after_seconds() bounds it (kMaxRetryAfter), so the conversion to milliseconds cannot overflow.
    if (auto s = retry_after_seconds(resp->header("retry-after"))) retry_after = std::chrono::seconds(*s);
    record_failure("HTTP " + std::to_string(resp->status) + " from " + options_.base_url, retry_after);
    return Exchange::failed;
  }
  if (resp->status >= 200 && resp->status < 300) {
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
  if (resp->status == 413 && units > 1) {
    bundle_size_ = std::max<std::size_t>(1, units / 2);
    good_bundles_ = 0;
    {
      std::lock_guard lock(mu_);
      status_.bundle_size = bundle_size_;
    }
    log_.notice("sync", "bundle-too-large", {{"status", 413}, {"entries", entries.size()}, {"bundle_size", bundle_size_}});
    return Exchange::retry_now;
  }
  if ((!refusal_about_content(resp->status) && resp->status != 413) || sent.compressed) {
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
    if (resp->status == 413) refusal = "HTTP 413: too large for the server even on its own. " + refusal;
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
