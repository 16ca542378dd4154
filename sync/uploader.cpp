#include "sync/uploader.hpp"

#include <map>
#include <set>
#include <tuple>

#include "sync/alert_mapping.hpp"
#include "sync/fhir_mapping.hpp"
#include "sync/gzip.hpp"

namespace carehub::sync {
namespace {

// Statuses by which a server refuses what a request carries (so an entry can be at fault), as opposed
// to refusing the request itself (credentials, address, method).
bool refusal_about_content(long status) { return status == 400 || status == 409 || status == 412 || status == 422; }

bool transient(long status) { return status == 408 || status == 429 || status >= 500; }

// Below this, compressing costs more than the bytes it saves.
constexpr std::size_t kGzipMin = 1024;
// Alerts per pass; each goes in a bundle of its own after its evidence.
constexpr std::size_t kAlertsPerPass = 20;
// Pending rows looked at per query while collecting a bundle (open aggregation windows are skipped).
constexpr std::size_t kScanPage = 500;

std::string id_part(const std::string& reference) {
  const auto slash = reference.find('/');
  return slash == std::string::npos ? reference : reference.substr(slash + 1);
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
      options_(std::move(options)),
      bundle_size_(std::max<std::size_t>(1, options_.bundle_size)),
      gzip_(options_.compression != Compression::off) {
  status_.enabled = !options_.base_url.empty();
  status_.bundle_size = bundle_size_;
  status_.gzip = gzip_;
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
  // A request in flight must not hold up shutdown; conditional create makes resending it safe.
  http_->cancel();
  if (options_.auth) options_.auth->cancel();
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
    // Wait for work: a commit or `sync now`, the backoff deadline, or an aggregation window closing.
    const bool backing_off = status_.consecutive_failures > 0;
    if (backing_off && !skip_backoff_) {
      clock_.wait_until(lock, cv_, next_attempt_mono_, [&] { return stopping_ || skip_backoff_; });
    } else if (!woken_ && next_window_mono_) {
      clock_.wait_until(lock, cv_, *next_window_mono_, [&] { return stopping_ || woken_; });
    } else if (!woken_) {
      cv_.wait_for(lock, std::chrono::seconds(30), [&] { return stopping_ || woken_; });
    }
    if (stopping_) return;
    woken_ = false;
    skip_backoff_ = false;
    next_window_mono_.reset();
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
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::lock_guard lock(mu_);
  if (stopping_) return;  // the request was cancelled by stop(): not the server's failure
  counters_.add("sync_failures");
  ++status_.consecutive_failures;
  auto delay = backoff_delay(options_.backoff, status_.consecutive_failures, unit(rng_));
  // The server knows its load best, but an absurd Retry-After must not park clinical data for days.
  if (retry_after && *retry_after > delay) delay = std::min<std::chrono::milliseconds>(*retry_after, std::chrono::hours(1));
  status_.last_error = error;
  status_.bundle_size = bundle_size_;  // a timeout may have shrunk it
  next_attempt_mono_ = clock_.monotonic() + delay;
  status_.next_attempt = clock_.now() + delay;
  status_.in_flight = 0;
  log_.rate_limited(LogLevel::warning, "sync", "sync-failure", "upload-failed",
                    {{"failures", status_.consecutive_failures}, {"retry_in_ms", delay.count()}, {"error", error}});
}

void Uploader::record_success(std::size_t bundle_entries) {
  // Grow back towards the configured size once bundles of this size keep going through (alerts, sent
  // one by one, pass 0: they say nothing about the size the server takes).
  if (bundle_entries > 0 && bundle_entries >= bundle_size_ && bundle_size_ < options_.bundle_size && ++good_bundles_ >= kGrowAfter) {
    bundle_size_ = std::min(options_.bundle_size, bundle_size_ * 2);
    good_bundles_ = 0;
    log_.info("sync", "bundle-size-grown", {{"bundle_size", bundle_size_}});
  }
  std::lock_guard lock(mu_);
  status_.consecutive_failures = 0;
  status_.next_attempt.reset();
  status_.last_success = clock_.now();
  status_.last_error.clear();
  status_.in_flight = 0;
  status_.bundle_size = bundle_size_;
}

Result<HttpResponse> Uploader::send_authorized(HttpRequest req) {
  std::string token;
  if (options_.auth) {
    auto t = options_.auth->token();
    if (!t) return t.error();
    token = *t;
  }
  auto with_token = [&req](const std::string& t) {
    HttpRequest r = req;
    if (!t.empty()) r.headers.emplace_back("Authorization", "Bearer " + t);
    return r;
  };
  auto resp = http_->send(with_token(token));
  if (resp && resp->status == 401 && options_.auth) {
    // Expired or revoked before its time: one new token, one retry. A second 401 is the operator's.
    counters_.add("sync_token_refreshes");
    auto fresh = options_.auth->refresh(token);
    if (!fresh) return fresh.error();
    resp = http_->send(with_token(*fresh));
  }
  return resp;
}

Result<HttpResponse> Uploader::post_bundle(const nlohmann::json& bundle) {
  HttpRequest req;
  req.method = "POST";
  req.url = options_.base_url;
  req.headers = {{"Content-Type", "application/fhir+json"}, {"Accept", "application/fhir+json"}};
  const auto body = bundle.dump();
  if (gzip_ && body.size() >= kGzipMin) {
    if (auto z = gzip_compress(body)) {
      HttpRequest zipped = req;
      zipped.headers.emplace_back("Content-Encoding", "gzip");
      zipped.body = std::move(*z);
      auto resp = send_authorized(std::move(zipped));
      if (!resp || resp->status != 415 || options_.compression == Compression::on) return resp;
      // RFC 7694: 415 to a coded body means the coding is not accepted. Send plain from now on.
      gzip_ = false;
      {
        std::lock_guard lock(mu_);
        status_.gzip = false;
      }
      log_.notice("sync", "gzip-refused", {{"action", "sending uncompressed bodies"}, {"url", options_.base_url}});
    }
  }
  req.body = body;
  return send_authorized(std::move(req));
}

Result<std::string> Uploader::ensure_device(const std::string& device_id) {
  if (auto it = device_refs_.find(device_id); it != device_refs_.end()) return it->second;
  BundleEntry entry;
  if (device_id == options_.hub_id) {
    entry = {fhir::hub_device(options_.hub_id), fhir::hub_if_none_exist(options_.hub_id), {}};
  } else {
    Device d;
    if (auto it = registry_.find(device_id); it != registry_.end()) d = it->second;
    else d.id = device_id;  // not registered (e.g. a stream mapped by configuration): its id identifies it
    entry = {fhir::sensor_device(d, options_.hub_id), fhir::device_if_none_exist(d, options_.hub_id), {}};
  }
  auto resp = post_bundle(batch_bundle({entry}));
  if (!resp) return resp.error();
  if (resp->status < 200 || resp->status >= 300) {
    return make_error(Errc::unavailable, "creating Device " + device_id + ": HTTP " + std::to_string(resp->status) +
                                             " " + resp->body.substr(0, 200));
  }
  auto outcomes = read_batch_response_body(resp->body, 1);
  if (!outcomes) {
    counters_.add("sync_bad_responses");
    return make_error(Errc::unavailable, "creating Device " + device_id + ": " + outcomes.error().message);
  }
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

Uploader::Exchange Uploader::exchange(const std::vector<BundleEntry>& entries, std::vector<EntryOutcome>& outcomes) {
  {
    std::lock_guard lock(mu_);
    status_.in_flight = entries.size();
    status_.last_attempt = clock_.now();
  }
  auto resp = post_bundle(batch_bundle(entries));
  if (!resp) {
    if (resp.error().code == Errc::timeout && entries.size() > 1) {
      // A slow link or a slow server: smaller bundles finish within the timeout.
      bundle_size_ = std::max<std::size_t>(1, entries.size() / 2);
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
  if (resp->status == 413 && entries.size() > 1) {
    bundle_size_ = std::max<std::size_t>(1, entries.size() / 2);
    good_bundles_ = 0;
    {
      std::lock_guard lock(mu_);
      status_.bundle_size = bundle_size_;
    }
    log_.notice("sync", "bundle-too-large", {{"status", 413}, {"entries", entries.size()}, {"bundle_size", bundle_size_}});
    return Exchange::retry_now;
  }
  if (!refusal_about_content(resp->status) && resp->status != 413) {
    // 401 after a fresh token, 403 (credentials), 404 (wrong base URL), 3xx...: the request, not any
    // entry, is at fault. Dead-lettering here would throw away the whole buffer over an expired token.
    record_failure("HTTP " + std::to_string(resp->status) + " from " + options_.base_url + ": " + resp->body.substr(0, 300),
                   std::nullopt);
    return Exchange::failed;
  }
  if (entries.size() == 1) {
    // The whole request was refused for its only entry: that entry is at fault.
    std::string reason = resp->body;
    if (resp->status == 413) reason = "HTTP 413: too large for the server even on its own. " + reason;
    outcomes.push_back({EntryFate::dead, static_cast<int>(resp->status), "", reason});
    return Exchange::ok;
  }
  // The server refused the bundle as a whole (4xx) without saying which entry: send these one at a time
  // so the culprit is isolated and the rest go through. Not the server's health: no backoff.
  log_.warning("sync", "bundle-refused",
               {{"status", resp->status}, {"entries", entries.size()}, {"action", "sending entries one by one"}});
  isolate_remaining_ = entries.size();
  return Exchange::retry_now;
}

bool Uploader::upload_once(bool& idle) {
  if (auto devices = reader_->devices()) {
    for (auto& d : *devices) registry_[d.id] = std::move(d);
  }
  // Alerts jump the queue: a clinician must not wait for a week's backlog to see one.
  if (!upload_alerts()) return false;

  std::optional<TimePoint> next_window_close;
  auto units = collect_units(next_window_close);
  if (!units) {
    record_failure("reading the buffer: " + units.error().message, std::nullopt);
    return false;
  }
  if (units->empty()) {
    idle = true;
    std::lock_guard lock(mu_);
    if (next_window_close) {
      const auto wait = std::max(*next_window_close - clock_.now(), TimePoint::duration::zero());
      next_window_mono_ = clock_.monotonic() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait);
    }
    return true;
  }
  return send_units(std::move(*units));
}

Result<std::vector<Uploader::Unit>> Uploader::collect_units(std::optional<TimePoint>& next_window_close) {
  const std::size_t limit = isolate_remaining_ > 0 ? 1 : bundle_size_;
  if (isolate_remaining_ > 0) --isolate_remaining_;
  const auto now = clock_.now();
  std::vector<Unit> units;
  std::set<std::tuple<std::string, std::string, Kind, std::int64_t>> windows_taken;  // patient, device, kind, start
  std::int64_t after = 0;
  while (units.size() < limit) {
    // Without aggregation every pending row is sendable: read no more than a bundle.
    const std::size_t page = options_.aggregate.empty() ? limit - units.size() : kScanPage;
    auto pending = reader_->readings({SyncState::pending, after, page, false});
    if (!pending) return pending.error();
    for (auto& s : *pending) {
      after = s.seq;
      if (units.size() >= limit) break;
      const auto* rule = matching_rule(options_.aggregate, s.reading);
      if (!rule) {
        units.push_back({{std::move(s)}, std::nullopt});
        continue;
      }
      const auto w = window_of(s.reading.time, rule->period);
      if (!window_closed(w, rule->period, now)) {
        const auto closes = w.end + rule->period;
        if (!next_window_close || closes < *next_window_close) next_window_close = closes;
        continue;
      }
      const auto key = std::make_tuple(s.reading.patient, s.reading.device, s.reading.kind, to_epoch_ms(w.start));
      if (!windows_taken.insert(key).second) continue;
      ReadingQuery q{SyncState::pending, 0, 1'000'000, false};
      q.device = s.reading.device;
      q.kind = s.reading.kind;
      q.from = w.start;
      q.to = w.end;
      auto members = reader_->readings(q);
      if (!members) return members.error();
      std::erase_if(*members, [&](const StoredReading& m) { return m.reading.patient != s.reading.patient; });
      if (!members->empty()) units.push_back({std::move(*members), w});
    }
    if (pending->size() < page) break;
  }
  return units;
}

bool Uploader::send_units(std::vector<Unit> units) {
  auto hub = ensure_device(options_.hub_id);
  if (!hub) {
    record_failure(hub.error().message, std::nullopt);
    return false;
  }
  // Readings whose Device the server refuses are dead-lettered with its reason; the rest go on.
  std::vector<Unit> sending;
  std::vector<std::pair<std::int64_t, std::string>> refused;
  std::vector<BundleEntry> entries;
  for (auto& u : units) {
    const auto& first = u.members.front();
    fhir::References refs{"", *hub};
    if (first.reading.device != kManualDevice) {
      auto sensor = ensure_device(first.reading.device);
      if (!sensor && sensor.error().code == Errc::invalid_argument) {
        for (const auto& m : u.members) refused.emplace_back(m.seq, sensor.error().message);
        continue;
      }
      if (!sensor) {
        record_failure(sensor.error().message, std::nullopt);
        return false;
      }
      refs.sensor = *sensor;
    }
    if (u.window) {
      entries.push_back({aggregate_observation(u.members, *u.window, refs),
                         fhir::observation_if_none_exist(aggregate_uid(u.members)), {}});
    } else {
      entries.push_back({fhir::observation(first, refs), fhir::observation_if_none_exist(first.uid), {}});
    }
    sending.push_back(std::move(u));
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
    log_.warning("sync", "dead-lettered", {{"readings", refused.size()}, {"reason", refused.front().second}});
    if (entries.empty()) return true;
  }

  std::vector<EntryOutcome> outcomes;
  switch (exchange(entries, outcomes)) {
    case Exchange::failed: return false;
    case Exchange::retry_now: return true;
    case Exchange::ok: break;
  }
  const auto now = clock_.now();
  std::size_t synced = 0, dead = 0, retry = 0;
  auto applied = pipeline_
                     .apply([&](StoreWriter& w) -> Result<void> {
                       for (std::size_t i = 0; i < outcomes.size(); ++i) {
                         const auto& o = outcomes[i];
                         for (const auto& m : sending[i].members) {
                           Result<void> r;
                           switch (o.fate) {
                             case EntryFate::synced: r = w.mark_synced(m.seq, o.server_id, now); break;
                             case EntryFate::dead: r = w.mark_dead(m.seq, o.reason); break;
                             case EntryFate::retry: r = w.mark_attempt(m.seq); break;
                           }
                           if (!r) return r;
                         }
                       }
                       return {};
                     })
                     .get();
  if (!applied) {
    record_failure("recording sync outcomes: " + applied.error().message, std::nullopt);
    return false;
  }
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto n = sending[i].members.size();
    if (outcomes[i].fate == EntryFate::synced) synced += n;
    else if (outcomes[i].fate == EntryFate::dead) dead += n;
    else retry += n;
  }
  counters_.add("sync_synced", synced);
  counters_.add("sync_dead", dead);
  if (dead > 0) {
    log_.warning("sync", "dead-lettered", {{"readings", dead}, {"reason", "the server refused them; see carehubctl sync dead"}});
  }
  if (retry > 0) {
    record_failure(std::to_string(retry) + " entries answered with a transient error", std::nullopt);
    return false;
  }
  record_success(entries.size());
  return true;
}

bool Uploader::upload_alerts() {
  auto alerts = reader_->alerts_to_sync(kAlertsPerPass);
  if (!alerts) {
    record_failure("reading alerts: " + alerts.error().message, std::nullopt);
    return false;
  }
  for (const auto& a : *alerts) {
    // The evidence first: the server must hold the Observations the alert cites (HAPI refuses references
    // to resources it does not have), and they are the clinician's reason to look.
    ReadingQuery q;
    q.uids = a.alert.readings;
    q.limit = a.alert.readings.size() + 1;
    auto evidence = reader_->readings(q);
    if (!evidence) {
      record_failure("reading an alert's evidence: " + evidence.error().message, std::nullopt);
      return false;
    }
    std::vector<Unit> unsent;
    for (const auto& s : *evidence) {
      if (s.state == SyncState::pending) unsent.push_back({{s}, std::nullopt});
    }
    if (!unsent.empty()) {
      if (!send_units(std::move(unsent))) return false;
      evidence = reader_->readings(q);
      if (!evidence) {
        record_failure("reading an alert's evidence: " + evidence.error().message, std::nullopt);
        return false;
      }
    }
    auto hub = ensure_device(options_.hub_id);
    if (!hub) {
      record_failure(hub.error().message, std::nullopt);
      return false;
    }
    fhir::AlertReferences refs{*hub, {}};
    for (const auto& s : *evidence) {
      // Dead-lettered evidence is not on the server; the alert still goes, citing what is there.
      if (s.state == SyncState::synced && !s.server_id.empty()) refs.observations.push_back(s.server_id);
    }
    BundleEntry entry{fhir::detected_issue(a.alert, refs), fhir::detected_issue_if_none_exist(a.alert.id), a.server_id};
    if (!a.server_id.empty()) entry.resource["id"] = id_part(a.server_id);
    std::vector<EntryOutcome> outcomes;
    switch (exchange({entry}, outcomes)) {
      case Exchange::failed: return false;
      case Exchange::retry_now: return true;  // cannot happen for one entry; handled for completeness
      case Exchange::ok: break;
    }
    const auto& o = outcomes.front();
    if (o.fate == EntryFate::retry) {
      record_failure("alert " + a.alert.id + ": entry status " + std::to_string(o.status), std::nullopt);
      return false;
    }
    const auto server_id = o.server_id.empty() ? a.server_id : o.server_id;
    auto applied = pipeline_
                       .apply([&](StoreWriter& w) -> Result<void> {
                         if (o.fate == EntryFate::synced) return w.mark_alert_synced(a.alert.id, a.revision, server_id);
                         return w.mark_alert_dead(a.alert.id, a.revision, o.reason);
                       })
                       .get();
    if (!applied) {
      record_failure("recording an alert's sync: " + applied.error().message, std::nullopt);
      return false;
    }
    if (o.fate == EntryFate::synced) {
      counters_.add("sync_alerts");
    } else {
      counters_.add("sync_alerts_dead");
      log_.error("sync", "alert-refused", {{"alert", a.alert.id}, {"status", o.status}, {"reason", "see carehubctl sync dead"}});
    }
    record_success(0);
  }
  return true;
}

}  // namespace carehub::sync
