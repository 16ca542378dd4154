#include "sync/uploader.hpp"

#include "sync/fhir_mapping.hpp"

namespace carehub::sync {
namespace {

// Statuses by which a server refuses what a request carries (so an entry can be at fault), as opposed
// to refusing the request itself (credentials, address, method).
bool refusal_about_content(long status) {
  return status == 400 || status == 409 || status == 412 || status == 413 || status == 422;
}

}  // namespace

Uploader::Uploader(std::unique_ptr<StoreReader> reader, Pipeline& pipeline, std::unique_ptr<HttpClient> http,
                   const Clock& clock, Logger& log, Counters& counters, UploaderOptions options)
    : reader_(std::move(reader)),
      pipeline_(pipeline),
      http_(std::move(http)),
      clock_(clock),
      log_(log),
      counters_(counters),
      options_(std::move(options)) {
  status_.enabled = !options_.base_url.empty();
}

Uploader::~Uploader() { stop(); }

void Uploader::start() {
  if (!status_.enabled || thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void Uploader::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  idle_cv_.notify_all();
  http_->cancel();  // a request in flight must not hold up shutdown; conditional create makes it safe
  if (thread_.joinable()) thread_.join();
}

void Uploader::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void Uploader::sync_now() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
    skip_backoff_ = true;
  }
  cv_.notify_all();
}

bool Uploader::wait_idle(std::chrono::milliseconds timeout) {
  if (!status_.enabled) return false;
  std::unique_lock lock(mu_);
  // Idle must be seen by a pass that started after this call, or readings committed just before it
  // could still be waiting.
  const auto mine = ++idle_requests_;
  woken_ = true;
  skip_backoff_ = true;
  cv_.notify_all();
  return idle_cv_.wait_for(lock, timeout, [&] { return stopping_ || idle_through_ >= mine; }) && !stopping_;
}

SyncStatus Uploader::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void Uploader::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    // Wait for work: woken by a commit or `sync now`, or the backoff deadline.
    const bool backing_off = status_.consecutive_failures > 0;
    if (backing_off && !skip_backoff_) {
      clock_.wait_until(lock, cv_, next_attempt_mono_, [&] { return stopping_ || skip_backoff_; });
    } else if (!woken_) {
      cv_.wait_for(lock, std::chrono::seconds(30), [&] { return stopping_ || woken_; });
    }
    if (stopping_) return;
    woken_ = false;
    skip_backoff_ = false;
    const auto serving = idle_requests_;
    lock.unlock();
    bool idle = false;
    bool ok = false;
    for (;;) {  // drain while it goes well
      ok = upload_once(idle);
      if (!ok || idle) break;
      std::lock_guard check(mu_);
      if (stopping_) break;
    }
    lock.lock();
    if (ok && idle) {
      idle_through_ = serving;
      idle_cv_.notify_all();
    }
  }
}

void Uploader::record_failure(const std::string& error, std::optional<std::chrono::milliseconds> retry_after) {
  counters_.add("sync_failures");
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::lock_guard lock(mu_);
  ++status_.consecutive_failures;
  auto delay = backoff_delay(options_.backoff, status_.consecutive_failures, unit(rng_));
  // The server knows its load best, but an absurd Retry-After must not park clinical data for days.
  if (retry_after && *retry_after > delay) delay = std::min<std::chrono::milliseconds>(*retry_after, std::chrono::hours(1));
  status_.last_error = error;
  next_attempt_mono_ = clock_.monotonic() + delay;
  status_.next_attempt = clock_.now() + delay;
  status_.in_flight = 0;
  log_.rate_limited(LogLevel::warning, "sync", "sync-failure",
                    "upload failed (" + std::to_string(status_.consecutive_failures) + " in a row), next try in " +
                        std::to_string(delay.count()) + " ms: " + error);
}

Result<HttpResponse> Uploader::post_bundle(const nlohmann::json& bundle) {
  HttpRequest req;
  req.method = "POST";
  req.url = options_.base_url;
  req.headers = {{"Content-Type", "application/fhir+json"}, {"Accept", "application/fhir+json"}};
  if (!options_.bearer_token.empty()) req.headers.emplace_back("Authorization", "Bearer " + options_.bearer_token);
  req.body = bundle.dump();
  return http_->send(req);
}

Result<std::string> Uploader::ensure_device(const std::string& device_id) {
  if (auto it = device_refs_.find(device_id); it != device_refs_.end()) return it->second;
  BundleEntry entry;
  if (device_id == options_.hub_id) {
    entry = {fhir::hub_device(options_.hub_id), fhir::hub_if_none_exist(options_.hub_id)};
  } else {
    Device d;
    if (auto it = registry_.find(device_id); it != registry_.end()) d = it->second;
    else d.id = device_id;  // not registered (e.g. a stream mapped by configuration): its id identifies it
    entry = {fhir::sensor_device(d), fhir::device_if_none_exist(d)};
  }
  auto resp = post_bundle(batch_bundle({entry}));
  if (!resp) return resp.error();
  if (resp->status < 200 || resp->status >= 300) {
    return make_error(Errc::unavailable, "creating Device " + device_id + ": HTTP " + std::to_string(resp->status) +
                                             " " + resp->body.substr(0, 200));
  }
  auto body = nlohmann::json::parse(resp->body, nullptr, false);
  auto outcomes = read_batch_response(body, 1);
  if (!outcomes) return make_error(Errc::unavailable, "creating Device " + device_id + ": " + outcomes.error().message);
  const auto& o = outcomes->front();
  if (o.fate == EntryFate::dead) {
    // The server refuses this Device itself: its readings cannot be accepted until someone fixes it.
    return make_error(Errc::invalid_argument, "the server refused Device " + device_id + " (status " +
                                                  std::to_string(o.status) + "): " + o.reason);
  }
  if (o.fate != EntryFate::synced || o.server_id.empty()) {
    return make_error(Errc::unavailable, "creating Device " + device_id + ": entry status " + std::to_string(o.status) +
                                             " " + o.reason);
  }
  device_refs_[device_id] = o.server_id;
  return o.server_id;
}

bool Uploader::upload_once(bool& idle) {
  const std::size_t limit = isolate_remaining_ > 0 ? 1 : options_.bundle_size;
  if (isolate_remaining_ > 0) --isolate_remaining_;
  auto pending = reader_->readings({SyncState::pending, 0, limit, false});
  if (!pending) {
    record_failure("reading the buffer: " + pending.error().message, std::nullopt);
    return false;
  }
  if (pending->empty()) {
    idle = true;
    return true;
  }
  if (auto devices = reader_->devices()) {
    for (auto& d : *devices) registry_[d.id] = std::move(d);
  }
  {
    std::lock_guard lock(mu_);
    status_.in_flight = pending->size();
    status_.last_attempt = clock_.now();
  }
  auto hub = ensure_device(options_.hub_id);
  if (!hub) {
    record_failure(hub.error().message, std::nullopt);
    return false;
  }
  // Readings whose Device the server refuses are dead-lettered with its reason; the rest go on.
  std::vector<StoredReading> sending;
  std::vector<std::pair<std::int64_t, std::string>> refused;
  std::vector<BundleEntry> entries;
  for (auto& s : *pending) {
    fhir::References refs{"", *hub};
    if (s.reading.device != kManualDevice) {
      auto sensor = ensure_device(s.reading.device);
      if (!sensor && sensor.error().code == Errc::invalid_argument) {
        refused.emplace_back(s.seq, sensor.error().message);
        continue;
      }
      if (!sensor) {
        record_failure(sensor.error().message, std::nullopt);
        return false;
      }
      refs.sensor = *sensor;
    }
    entries.push_back({fhir::observation(s, refs), fhir::observation_if_none_exist(s.uid)});
    sending.push_back(std::move(s));
  }
  if (!refused.empty()) {
    auto r = pipeline_
                 .apply([&refused](StoreWriter& w) -> Result<void> {
                   for (const auto& [seq, reason] : refused) {
                     if (auto m = w.mark_dead(seq, reason); !m) return m;
                   }
                   return {};
                 })
                 .get();
    if (!r) {
      record_failure("recording refused readings: " + r.error().message, std::nullopt);
      return false;
    }
    counters_.add("sync_dead", refused.size());
    log_.warning("sync", std::to_string(refused.size()) + " reading(s) dead-lettered: " + refused.front().second);
    if (entries.empty()) return true;
  }
  auto resp = post_bundle(batch_bundle(entries));
  if (!resp) {
    record_failure(resp.error().message, std::nullopt);
    return false;
  }
  if (resp->status == 429 || resp->status == 503 || resp->status >= 500 || resp->status == 408) {
    std::optional<std::chrono::milliseconds> retry_after;
    if (auto s = retry_after_seconds(resp->header("retry-after"))) retry_after = std::chrono::seconds(*s);
    record_failure("HTTP " + std::to_string(resp->status) + " from " + options_.base_url, retry_after);
    return false;
  }
  std::vector<EntryOutcome> outcomes;
  if (resp->status >= 200 && resp->status < 300) {
    auto body = nlohmann::json::parse(resp->body, nullptr, false);
    auto parsed = read_batch_response(body, entries.size());
    if (!parsed) {
      record_failure(parsed.error().message, std::nullopt);
      return false;
    }
    outcomes = std::move(*parsed);
  } else if (!refusal_about_content(resp->status)) {
    // 401/403 (credentials), 404 (wrong base URL), 3xx...: the request, not any entry, is at fault.
    // Dead-lettering here would throw away the whole buffer over an expired token.
    record_failure("HTTP " + std::to_string(resp->status) + " from " + options_.base_url + ": " + resp->body.substr(0, 300),
                   std::nullopt);
    return false;
  } else if (entries.size() == 1) {
    // The whole request was refused for its only entry: that entry is at fault.
    outcomes.push_back({EntryFate::dead, static_cast<int>(resp->status), "", resp->body});
  } else {
    // The server refused the bundle as a whole (4xx) without saying which entry: send these one at a
    // time so the culprit is isolated and the rest go through. Not the server's health: no backoff.
    log_.warning("sync", "HTTP " + std::to_string(resp->status) + " for a bundle of " + std::to_string(entries.size()) +
                             "; sending its entries one by one to isolate the refused one");
    isolate_remaining_ = entries.size();
    return true;
  }

  const auto now = clock_.now();
  std::size_t synced = 0, dead = 0, retry = 0;
  auto applied = pipeline_
                     .apply([&](StoreWriter& w) -> Result<void> {
                       for (std::size_t i = 0; i < outcomes.size(); ++i) {
                         const auto seq = sending[i].seq;
                         const auto& o = outcomes[i];
                         Result<void> r;
                         switch (o.fate) {
                           case EntryFate::synced: r = w.mark_synced(seq, o.server_id, now); break;
                           case EntryFate::dead: r = w.mark_dead(seq, o.reason); break;
                           case EntryFate::retry: r = w.mark_attempt(seq); break;
                         }
                         if (!r) return r;
                       }
                       return {};
                     })
                     .get();
  if (!applied) {
    record_failure("recording sync outcomes: " + applied.error().message, std::nullopt);
    return false;
  }
  for (const auto& o : outcomes) {
    if (o.fate == EntryFate::synced) ++synced;
    else if (o.fate == EntryFate::dead) ++dead;
    else ++retry;
  }
  counters_.add("sync_synced", synced);
  counters_.add("sync_dead", dead);
  if (dead > 0) log_.warning("sync", std::to_string(dead) + " reading(s) dead-lettered: the server refused them; see `carehubctl sync dead`");
  if (retry > 0) {
    record_failure(std::to_string(retry) + " entries answered with a transient error", std::nullopt);
    return false;
  }
  std::lock_guard lock(mu_);
  status_.consecutive_failures = 0;
  status_.next_attempt.reset();
  status_.last_success = now;
  status_.last_error.clear();
  status_.in_flight = 0;
  return true;
}

}  // namespace carehub::sync
