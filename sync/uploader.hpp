#pragma once
// The hub's single uploader. Each request is one batch Bundle carrying, in this order: the newest revision
// of each alert the server lags behind on (once the Observations it cites are there), the pending
// readings those alerts cite, then pending readings oldest first (spot measurements one by one, configured
// high-rate streams as one aggregate per period), up to the bundle size. Alerts ride with the readings
// rather than jumping the queue in requests of their own: neither waits, and no bundle is split for them.
// Readings go as conditional creates, alerts as conditional updates; each entry's outcome is recorded
// through the pipeline (the only writer), one operation per request. It owns retry timing, the upload
// window, credentials, request compression and the bundle size; the mappings and the HTTP adapter only
// report outcomes.
//
// The upload window: once caught up, readings that trickle in wait up to upload_window for company, so a
// request carries many instead of one (the server and the hub each pay per request). The window never
// holds back an alert revision, a full bundle, a backlog being drained, `sync now` or wait_idle().
//
// What is dead-lettered: only a reading the server refused for itself (a per-entry 4xx, or a whole-request
// refusal of a request carrying that reading alone, plain, while other requests go through). A refusal of
// the request as a whole (the coding, credentials, the address, a proxy) or a missing Patient/Device is a
// failure to back off from: everything stays pending.
//
// The code is in uploader.cpp (lifecycle, loop, window, status), uploader_pass.cpp (what one request
// carries), uploader_readings.cpp (collecting readings into entries, dead letters), uploader_exchange.cpp
// (posting a bundle and acting on classify.hpp's reading of the answer and bundle_size.hpp's policy:
// backing off, resizing, isolating a refused entry), uploader_outcomes.cpp (recording what
// the server said), uploader_devices.cpp (Device resources) and alert_upload.cpp (DetectedIssues).
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include "core/backoff.hpp"
#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/log.hpp"
#include "store/pipeline.hpp"
#include "store/store.hpp"
#include "sync/aggregation.hpp"
#include "sync/alert_mapping.hpp"
#include "sync/auth.hpp"
#include "sync/bundle.hpp"
#include "sync/bundle_size.hpp"
#include "sync/compression.hpp"
#include "sync/fhir_mapping.hpp"
#include "sync/http_client.hpp"
#include "sync/patient_check.hpp"

namespace carehub::sync {

struct UploaderOptions {
  std::string base_url;  // ".../fhir/R4"; empty: uploading is off and readings stay buffered
  std::string hub_id;
  // The most entries per Bundle. It halves on 413 and on timeouts (never below 1) and doubles back after
  // kGrowAfter good bundles in a row.
  std::size_t bundle_size = 100;
  // How long readings arriving after the uploader caught up wait for company (see above). 0: none.
  std::chrono::milliseconds upload_window{200};
  BackoffPolicy backoff;
  std::shared_ptr<TokenSource> auth;  // null: no Authorization header
  Compression compression = Compression::automatic;
  std::vector<AggregationRule> aggregate;
  // The kit's Patient (/hub/patient): looked up at start, so a wrong one shows in status before any
  // reading waits on it. Every patient a reading or alert is sent under is looked up as well.
  std::string patient;
  // The hub's PhgDevice: its EUI-64 system id (16 hex digits; empty: none) and time-synchronisation method
  // (an MDC code; 0: not stated). See fhir::hub_device.
  std::string hub_system_id;
  int hub_time_sync_mdc = 0;
  // The rules' band of each component of a reading ("extreme_high", "low"...; optimal ones absent), from the
  // rule set in force (the daemon fills it from rules::component_bands: sync knows nothing of the rules).
  // Each becomes the Observation's interpretation (H/HH/L/LL). Empty: no interpretation.
  std::function<std::map<std::string, std::string>(const Reading&)> bands{};
  // Every Observation a reading becomes (fhir::observations). A seam for tests only.
  std::function<std::vector<fhir::ObservationEntry>(const StoredReading&, const fhir::References&)> observations =
      fhir::observations;
};

struct SyncStatus {
  bool enabled = false;
  std::size_t in_flight = 0;
  int consecutive_failures = 0;
  std::optional<TimePoint> last_success;
  std::optional<TimePoint> last_attempt;
  std::string last_error;
  std::optional<TimePoint> next_attempt;  // set while backing off
  std::size_t bundle_size = 0;            // now (adaptive)
  bool gzip = false;                      // request bodies are compressed now
  std::string gzip_refused;               // why gzip went off for this server (empty: it did not)
  // Set while the server lacks a resource the uploads reference (a Patient: /hub/patient or a binding is
  // wrong): what is missing and what to do. Readings stay pending; cleared once it exists.
  std::string config_error;
  // Set while readings wait for the upload window to close (nothing is wrong: they are being coalesced).
  std::optional<TimePoint> window_closes;
};

class Uploader {
 public:
  static constexpr int kGrowAfter = BundleSize::kGrowAfter;
  // The upload thread's niceness: below the writer and the alert publisher (see start()).
  static constexpr int kThreadNice = 10;

  Uploader(std::unique_ptr<StoreReader> reader, Pipeline& pipeline, std::unique_ptr<HttpClient> http,
           const Clock& clock, Logger& log, Counters& counters, UploaderOptions options);
  ~Uploader();
  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;

  void start();
  void stop();
  // `readings` new readings committed: they go when the upload window closes, or at once when a bundle's
  // worth is waiting or the uploader is behind (cheap; coalesces).
  void wake(std::size_t readings = 1);
  // An alert was raised or changed (acknowledged, escalated, closed): the next request goes now, carrying
  // whatever readings are pending. Never waits for the upload window.
  void alerts_changed();
  // `carehubctl sync now`: skip any backoff wait and try at once.
  void sync_now();
  // Blocks until a pass finds nothing it can send, or the timeout passes. True when idle. Aggregation
  // windows that have not closed yet do not count as sendable.
  bool wait_idle(std::chrono::milliseconds timeout);

  SyncStatus status() const;

 private:
  // What one bundle entry carries: a reading on its own, or an aggregate of a stream's window.
  struct Unit {
    std::vector<StoredReading> members;
    std::optional<Window> window;  // set for aggregates
  };
  // An alert revision going in a request, with the server's references to the evidence it cites.
  struct AlertItem {
    AlertToSync alert;
    fhir::AlertReferences refs;
  };
  // The alerts the server lags behind on, sorted by what they wait for.
  struct AlertPlan {
    std::vector<AlertItem> ready;  // every reading they cite is on the server (or never will be)
    std::vector<Unit> evidence;    // pending readings cited by alerts that wait for them
    bool more = false;             // an alert waits for its evidence, or more wait than one pass reads
  };
  // What one request carries: alert revisions first (the clinician's reason to look), then readings.
  struct Request {
    std::vector<AlertItem> alerts;
    std::vector<Unit> units;
    std::size_t items() const { return alerts.size() + units.size(); }
  };
  // How a pass went. short_bundle: it sent less than a full bundle, so the backlog is drained.
  enum class Pass { failed, idle, short_bundle, more };
  // How sending a request went.
  enum class Sent { failed, again, done };
  // How an exchange with the server went.
  enum class Exchange {
    ok,         // one outcome per entry
    failed,     // recorded; back off
    retry_now,  // the bundle was resized or is being split to isolate a refused entry: try again at once
    refused,    // a request carrying one unit alone, plain, was refused as a whole: the unit is suspect
  };

  void run();
  // Holds readings that trickle in for the upload window (mu_ held through `lock`); false when stopping.
  bool hold_for_window(std::unique_lock<std::mutex>& lock);
  // One pass: one request (or none).
  Pass upload_once();
  // Reads the alerts to send and their evidence (one query each).
  Result<AlertPlan> plan_alerts();
  // The audit trail's rows the server lacks, one batch of PUT AuditEvent/<uid> (audit_upload.cpp).
  Sent send_audit_events();
  // The next `limit` units of the backlog, oldest first, skipping readings in `taken` (and adding the
  // ones it takes); closed aggregation windows whole.
  Result<std::vector<Unit>> collect_units(std::size_t limit, std::set<std::int64_t>& taken,
                                          std::optional<TimePoint>& next_window_close);
  Sent send(Request request);
  // Each unit's entries, appended to `entries` (unit i's first is first_entry[i]); units whose Device the
  // server refuses, or that map to nothing, are dead-lettered and left out of `units`.
  Sent reading_entries(std::vector<Unit>& units, const std::string& hub, std::vector<BundleEntry>& entries,
                       std::vector<std::size_t>& first_entry);
  // `units`: how many readings (or alerts) the entries carry; one alone can be suspect, more are split.
  Exchange exchange(const std::vector<BundleEntry>& entries, std::size_t units, std::vector<EntryOutcome>& outcomes,
                    std::string& refusal);
  // Posts a batch; a refused gzip body is retried plain once (BodyCoding).
  BodyCoding::Sent post_bundle(const nlohmann::json& bundle);
  Result<HttpResponse> send_authorized(HttpRequest req);
  // The server's reference for a sensor's Device, created on first use.
  Result<std::string> ensure_device(const std::string& device_id);
  // The same for the hub's own Device. Kept apart from the sensors: a sensor id is peer input (an MQTT
  // publisher may name any "device"), and none may ever resolve to the gateway's Device.
  Result<std::string> ensure_hub();
  // False when `patient` is missing on the server (remembered in patients_.missing()); an error when the
  // server could not say.
  Result<bool> patient_exists(const std::string& patient);
  // Dead-letters the suspects now that another request went through (so the server takes requests).
  bool confirm_suspects();
  // Dead-letters readings (seq, reason), counts and logs them with `why`; false (a recorded failure) when
  // the buffer could not take it.
  bool dead_letter(const std::vector<std::pair<std::int64_t, std::string>>& dead, const std::string& why);
  // Records, in one pipeline operation, the outcomes of a request: its alerts' entries first (one each),
  // then its units' (unit i's first is first_entry[i]).
  bool record_outcomes(const Request& sent, const std::vector<std::size_t>& first_entry,
                       const std::vector<EntryOutcome>& outcomes);
  // Forgets what exists on the server after it said a referenced resource does not; sets the error.
  void reference_missing(const std::string& error);
  void set_config_error(const std::string& error);
  void record_failure(const std::string& error, std::optional<std::chrono::milliseconds> retry_after);
  void record_success(std::size_t bundle_entries);

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
  bool alert_woken_ = false;           // an alert changed since the last pass began: no window
  std::size_t waiting_readings_ = 0;   // readings committed since the last pass began (wake() counts)
  bool caught_up_ = false;             // the last pass left nothing (or a short bundle's worth) behind
  bool skip_backoff_ = false;
  std::uint64_t idle_requests_ = 0;  // wait_idle() calls so far
  std::uint64_t idle_through_ = 0;   // the newest request a pass that ended idle had seen
  SyncStatus status_;
  std::chrono::steady_clock::time_point next_attempt_mono_{};
  std::optional<std::chrono::steady_clock::time_point> next_window_mono_;  // an aggregation window closes

  // Upload-thread state.
  std::unordered_map<std::string, std::string> device_refs_;  // sensor device id -> "Device/<server id>"
  std::string hub_ref_;                                         // "Device/<server id>" of the hub, once created
  std::unordered_map<std::string, Device> registry_;
  std::size_t isolate_remaining_ = 0;  // entries to send one per bundle after a refused bundle
  // Readings (seq -> the server's answer) whose request, carrying them alone and plain, was refused as
  // a whole. Dead-lettered once another request goes through; if none does, the refusal was the
  // request's, and they go back to pending with a backoff. Skipped while suspect.
  std::map<std::int64_t, std::string> suspects_;
  BundleSize bundle_size_;             // adaptive, 1..options_.bundle_size
  BodyCoding coding_;
  PatientCheck patients_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::thread thread_;
};

}  // namespace carehub::sync
