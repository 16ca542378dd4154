#include "sync/uploader.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/thread_name.hpp"

namespace carehub::sync {

Uploader::Uploader(std::unique_ptr<StoreReader> reader, Pipeline& pipeline, std::unique_ptr<HttpClient> http,
                   const Clock& clock, Logger& log, Counters& counters, UploaderOptions options)
    : reader_(std::move(reader)),
      pipeline_(pipeline),
      http_(std::move(http)),
      clock_(clock),
      log_(log),
      counters_(counters),
      options_(std::move(options)),
      bundle_size_(options_.bundle_size),
      coding_(options_.compression),
      patients_(options_.base_url) {
  status_.enabled = !options_.base_url.empty();
  status_.bundle_size = bundle_size_.current();
  status_.gzip = coding_.gzip();
}

Uploader::~Uploader() { stop(); }

void Uploader::start() {
  if (!status_.enabled || thread_.joinable()) return;
  {
    // The first pass runs at once: it looks up the Patient, so a wrong /hub/patient shows in status
    // at start (and after a reload, which starts a new uploader), not only once a reading waits on it.
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  thread_ = std::thread([this] {
    name_this_thread("uploader");
    // Uploads can wait a little; the writer (readings' commits) and the alert publisher must not wait for
    // them on a 2-core hub. Unprivileged (raising niceness needs no capability); if refused, all the same.
    if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kThreadNice) != 0) {
      log_.debug("sync", "uploader-priority-unchanged", {{"error", std::strerror(errno)}});
    }
    run();
  });
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

void Uploader::wake(std::size_t readings) {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
    waiting_readings_ += readings;
  }
  cv_.notify_all();
}

void Uploader::alerts_changed() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
    alert_woken_ = true;
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
    if (!backing_off && !hold_for_window(lock)) return;
    woken_ = false;
    alert_woken_ = false;
    waiting_readings_ = 0;
    skip_backoff_ = false;
    next_window_mono_.reset();
    const auto serving = idle_requests_;
    // Someone waits for idle: drain to the end, window or not.
    const bool waited_on = serving > idle_through_;
    lock.unlock();
    Pass pass = Pass::failed;
    for (;;) {  // drain while it goes well
      pass = upload_once();
      if (pass == Pass::failed || pass == Pass::idle) break;
      // A short bundle took all there was: what comes next starts a window (none: look again at once).
      if (pass == Pass::short_bundle && options_.upload_window.count() > 0 && !waited_on) break;
      std::lock_guard check(mu_);
      if (stopping_) break;
    }
    lock.lock();
    caught_up_ = pass == Pass::idle || pass == Pass::short_bundle;
    if (pass == Pass::idle) {
      idle_through_ = serving;
      idle_cv_.notify_all();
    }
  }
}

bool Uploader::hold_for_window(std::unique_lock<std::mutex>& lock) {
  // Only readings that trickle in after the uploader caught up wait; a backlog, an alert, `sync now`,
  // wait_idle() and a bundle's worth go at once.
  const auto window = options_.upload_window;
  const auto must_go = [&] { return stopping_ || skip_backoff_ || alert_woken_ || waiting_readings_ >= bundle_size_.current(); };
  if (window.count() <= 0 || !caught_up_ || !woken_ || must_go()) return !stopping_;
  const auto closes = clock_.monotonic() + window;
  status_.window_closes = clock_.now() + window;
  const auto waiting = waiting_readings_;
  lock.unlock();  // the log's sink may call status()
  log_.debug("sync", "upload-window", {{"readings", waiting}, {"window_ms", window.count()}});
  lock.lock();
  clock_.wait_until(lock, cv_, closes, must_go);
  status_.window_closes.reset();
  return !stopping_;
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
  status_.bundle_size = bundle_size_.current();  // a timeout may have shrunk it
  next_attempt_mono_ = clock_.monotonic() + delay;
  status_.next_attempt = clock_.now() + delay;
  status_.in_flight = 0;
  log_.rate_limited(LogLevel::warning, "sync", "sync-failure", "upload-failed",
                    {{"failures", status_.consecutive_failures}, {"retry_in_ms", delay.count()}, {"error", error}});
}

void Uploader::record_success(std::size_t bundle_entries) {
  // Grow back towards the configured size once bundles of this size keep going through (alerts, sent
  // one by one, pass 0: they say nothing about the size the server takes).
  if (bundle_size_.went_through(bundle_entries)) {
    log_.info("sync", "bundle-size-grown", {{"bundle_size", bundle_size_.current()}});
  }
  std::lock_guard lock(mu_);
  status_.consecutive_failures = 0;
  status_.next_attempt.reset();
  status_.last_success = clock_.now();
  status_.last_error.clear();
  status_.in_flight = 0;
  status_.bundle_size = bundle_size_.current();
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


void Uploader::set_config_error(const std::string& error) {
  std::lock_guard lock(mu_);
  if (error.empty() && !status_.config_error.empty()) {
    log_.notice("sync", "configuration-error-cleared", {{"was", status_.config_error}});
  }
  status_.config_error = error;
}

Result<bool> Uploader::patient_exists(const std::string& patient) {
  // Unassigned readings are never pending for upload (invariant 7); nothing to look up.
  if (patient.empty()) return true;
  const bool known_missing = patients_.missing().contains(patient);
  auto exists = patients_.exists(patient, [this](HttpRequest req) { return send_authorized(std::move(req)); });
  if (exists && !*exists && !known_missing) {
    counters_.add("sync_config_errors");
    set_config_error(missing_patients_error(patients_.missing()));
    log_.rate_limited(LogLevel::error, "sync", "patient-missing-" + patient, "patient-missing",
                      {{"patient", patient}, {"action", "its readings and alerts stay pending; check /hub/patient"}});
  }
  return exists;
}

}  // namespace carehub::sync
