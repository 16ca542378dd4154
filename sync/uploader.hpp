#pragma once
// The hub's single uploader: takes pending readings oldest first, posts them as conditional creates in
// batch Bundles, and records each entry's outcome through the pipeline (the only writer). It owns retry
// timing; the mapping and the HTTP adapter only report outcomes.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/log.hpp"
#include "core/pipeline.hpp"
#include "core/store.hpp"
#include "core/backoff.hpp"
#include "sync/bundle.hpp"
#include "sync/http_client.hpp"

namespace carehub::sync {

struct UploaderOptions {
  std::string base_url;  // ".../fhir/R4"; empty: uploading is off and readings stay buffered
  std::string hub_id;
  std::size_t bundle_size = 100;
  BackoffPolicy backoff;
  std::string bearer_token;  // static token, if configured
};

struct SyncStatus {
  bool enabled = false;
  std::size_t in_flight = 0;
  int consecutive_failures = 0;
  std::optional<TimePoint> last_success;
  std::optional<TimePoint> last_attempt;
  std::string last_error;
  std::optional<TimePoint> next_attempt;  // set while backing off
};

class Uploader {
 public:
  Uploader(std::unique_ptr<StoreReader> reader, Pipeline& pipeline, std::unique_ptr<HttpClient> http,
           const Clock& clock, Logger& log, Counters& counters, UploaderOptions options);
  ~Uploader();
  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;

  void start();
  void stop();
  // New readings committed: look at the queue now (cheap; coalesces).
  void wake();
  // `carehubctl sync now`: skip any backoff wait and try at once.
  void sync_now();
  // Blocks until a pass finds nothing pending, or the timeout passes. True when idle.
  bool wait_idle(std::chrono::milliseconds timeout);

  SyncStatus status() const;

 private:
  void run();
  // One pass: false when it failed and the loop should back off.
  bool upload_once(bool& idle);
  Result<std::string> ensure_device(const std::string& device_id);
  Result<HttpResponse> post_bundle(const nlohmann::json& bundle);
  void record_failure(const std::string& error, std::optional<std::chrono::milliseconds> retry_after);

  std::unique_ptr<StoreReader> reader_;
  Pipeline& pipeline_;
  std::unique_ptr<HttpClient> http_;
  const Clock& clock_;
  Logger& log_;
  Counters& counters_;
  const UploaderOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  bool stopping_ = false;
  bool woken_ = false;
  bool skip_backoff_ = false;
  std::uint64_t idle_requests_ = 0;  // wait_idle() calls so far
  std::uint64_t idle_through_ = 0;   // the newest request a pass that ended idle had seen
  SyncStatus status_;
  std::chrono::steady_clock::time_point next_attempt_mono_{};

  // Upload-thread state.
  std::unordered_map<std::string, std::string> device_refs_;  // device id -> "Device/<server id>"
  std::unordered_map<std::string, Device> registry_;
  std::size_t isolate_remaining_ = 0;  // entries to send one per bundle after a refused bundle
  std::mt19937_64 rng_{std::random_device{}()};
  std::thread thread_;
};

}  // namespace carehub::sync
