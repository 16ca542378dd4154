// carehubd's picture of itself: `carehubctl status` (the whole picture a technician or a remote
// diagnosis needs), the one-line STATUS= summary's parts, and the Prometheus textfile. Split from
// daemon.cpp, which keeps the wiring and lifecycle.
#include <grp.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "daemon/daemon.hpp"

namespace carehub::daemon {
namespace {

nlohmann::json optional_time(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(format_rfc3339(*t)) : nlohmann::json(nullptr);
}

}  // namespace

Result<nlohmann::json> Daemon::status() {
  const auto config = this->config();  // one configuration for the whole answer, whatever a reload does
  nlohmann::json j;
  j["hub"] = config->hub_id;
  j["patient"] = config->patient;
  j["config"] = config->source;
  j["started"] = format_rfc3339(started_);
  j["uptime_s"] = std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - started_).count();
  {
    std::lock_guard lock(reader_mu_);
    auto counts = reader_->counts();
    if (!counts) return counts.error();
    j["buffer"] = {{"path", config->store.path},
                   {"pending", counts->pending},
                   {"synced", counts->synced},
                   {"dead", counts->dead},
                   {"quarantined", counts->quarantined},  // dated after their receipt: kept, never judged or sent
                   // not attributed with certainty: waiting for `carehubctl readings assign|discard`
                   {"unassigned", counts->unassigned},
                   {"discarded", counts->discarded},
                   {"bytes", counts->bytes},
                   {"queued", pipeline_->queued()}};
  }
  {
    // The size cap and the disk (design.md invariant 3): what a technician must see first when readings stop.
    const auto h = pipeline_->buffer_health();
    auto& b = j["buffer"];
    b["state"] = to_string(h.state);
    b["detail"] = h.detail;
    b["since"] = optional_time(h.since);
    b["used_bytes"] = h.used_bytes;
    b["max_bytes"] = h.max_bytes;
    b["shed"] = {{"synced", h.shed_synced}, {"environment", h.shed_environment}, {"stream", h.shed_stream},
                 {"last", optional_time(h.last_shed)}};
    b["retention_days"] = config->store.retention_days;
    b["pruned"] = h.pruned;
  }
  const sync::SyncStatus s = uploader()->status();
  AlertSyncCounts alert_sync;
  {
    std::lock_guard lock(reader_mu_);
    auto a = reader_->alert_sync_counts();
    if (!a) return a.error();
    alert_sync = *a;
  }
  j["sync"] = {{"enabled", s.enabled},
               {"base_url", config->upload.base_url},
               {"auth", config->oauth2 ? "oauth2" : !config->bearer_token_file.empty() ? "bearer" : "none"},
               {"pending_alerts", alert_sync.pending},
               {"dead_alerts", alert_sync.dead},
               {"bundle_size", s.bundle_size},
               {"gzip", s.gzip},
               // A configuration error (the server lacks the Patient) first: backing off would hide that
               // no retry can help until someone fixes /hub/patient or the server.
               {"state", !s.enabled                       ? "off: no FHIR URL configured, readings stay buffered"
                         : !s.config_error.empty()    ? "configuration error: " + s.config_error
                         : s.consecutive_failures > 0 ? "backing off"
                                                          : "ok"},
               {"config_error", s.config_error},
               {"gzip_refused", s.gzip_refused},
               {"in_flight", s.in_flight},
               {"consecutive_failures", s.consecutive_failures},
               {"last_success", optional_time(s.last_success)},
               {"last_attempt", optional_time(s.last_attempt)},
               {"last_error", s.last_error},
               {"next_attempt", optional_time(s.next_attempt)}};
  j["sources"] = nlohmann::json::object();
  {
    std::lock_guard lock(sources_mu_);
    for (const auto& src : sources_) j["sources"][src->name()] = src->status();
  }
  {
    std::lock_guard lock(reader_mu_);
    auto alerts = reader_->alert_counts();
    if (!alerts) return alerts.error();
    const auto rules = engine_->rules();
    j["alerts"] = {{"open", alerts->open},
                   {"awaiting_ack", alerts->unacknowledged_red},
                   {"acknowledged", alerts->acknowledged},
                   {"watchers", watchers_.count()},
                   {"mqtt", alerts_mqtt_ ? alerts_mqtt_->status() : nlohmann::json(nullptr)},
                   {"rules_file", config->rules_file},
                   {"rules", rules->rules.size()}};
  }
  j["counters"] = counters_.snapshot();
  auto devices = devices_status(j["sources"]);
  if (!devices) return devices.error();
  j["devices"] = std::move(*devices);
  {
    std::lock_guard lock(reader_mu_);
    AlertQuery q;
    q.limit = 10;  // a glance, newest first; `carehubctl alerts` lists them all
    auto open_alerts = reader_->alerts(q);
    if (!open_alerts) return open_alerts.error();
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : *open_alerts) {
      list.push_back({{"id", a.id},
                      {"rule", a.rule},
                      {"event", a.event},
                      {"severity", to_string(a.severity)},
                      {"state", to_string(a.state)},
                      {"raised", format_rfc3339(a.raised)},
                      {"requires_ack", a.requires_ack}});
    }
    j["alerts"]["list"] = std::move(list);
  }
  {
    // Disk use beside the database's own size: the write-ahead log, and what the filesystem has left.
    std::error_code ec;
    const auto wal = std::filesystem::file_size(config->store.path + "-wal", ec);
    j["buffer"]["wal_bytes"] = ec ? 0 : wal;
    const auto space = std::filesystem::space(std::filesystem::path(config->store.path).parent_path(), ec);
    j["buffer"]["disk_free_bytes"] = ec ? nlohmann::json(nullptr) : nlohmann::json(space.available);
  }
  {
    std::lock_guard lock(metrics_mu_);
    j["metrics"] = {{"textfile", config->metrics.textfile},
                    {"interval_s", config->metrics.interval.count()},
                    {"last_written", optional_time(metrics_written_)},
                    {"last_error", metrics_error_}};
  }
  j["warnings"] = config_warnings(*config);
  return j;
}

Result<nlohmann::json> Daemon::devices_status(const nlohmann::json& sources) {
  // What the sources know live (BLE: connection state, battery), keyed by Bluetooth address.
  std::map<std::string, nlohmann::json> live;
  for (const auto& [name, st] : sources.items()) {
    if (!st.is_object() || !st.contains("devices") || !st["devices"].is_object()) continue;
    for (const auto& [address, d] : st["devices"].items()) live[address] = d;
  }
  std::lock_guard lock(reader_mu_);
  auto devices = reader_->devices();
  if (!devices) return devices.error();
  // Which patient each user slot of a multi-user device measures (issue 14): a technician checks a
  // two-person household here. References only, never values.
  auto bindings = reader_->bindings();
  if (!bindings) return bindings.error();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : *devices) {
    nlohmann::json users = nlohmann::json::array();
    for (const auto& b : *bindings) {
      if (b.device == d.id) users.push_back({{"user", b.user}, {"patient", b.patient}, {"since", format_rfc3339(b.since)}});
    }
    ReadingQuery q;
    q.device = d.id;
    q.by_time = true;  // the readings_device_time index: no scan of a wearable's million rows
    q.newest_first = true;
    q.limit = 1;
    auto newest = reader_->readings(q);
    if (!newest) return newest.error();
    // When and what, never the values: `status --json` is sent off the hub for remote diagnosis.
    nlohmann::json last = nullptr;
    // A device that names user slots is a multi-user one: with no slot bound, nobody has told the hub
    // whose memory is whose (issue 14). Said on the device's line, where the technician looks.
    const bool unbound_users = !newest->empty() && newest->front().reading.user && users.empty();
    if (!newest->empty()) {
      const auto& r = newest->front().reading;
      last = {{"time", format_rfc3339(r.time)}, {"kind", to_string(r.kind)}, {"sync", to_string(newest->front().state)}};
    }
    nlohmann::json row = {{"id", d.id},
                          {"name", d.name},
                          {"model", d.model},
                          {"category", d.category},
                          {"address", d.address},
                          {"last_seen", optional_time(d.last_seen)},
                          {"last_reading", last},
                          {"battery", nullptr},
                          {"state", nullptr},
                          {"patient", d.patient.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.patient)},
                          {"users", std::move(users)}};
    if (unbound_users) {
      row["warning"] = "it names user slots (a multi-user device) but no slot is bound to a patient: bind the patient's "
                       "with carehubctl devices assign " + d.id + " --user N --patient Patient/...";
    }
    if (auto it = live.find(d.address); !d.address.empty() && it != live.end()) {
      const auto& l = it->second;
      if (l.contains("battery")) row["battery"] = l["battery"];
      if (l.contains("state")) row["state"] = l["state"];
      if (l.contains("last_seen") && !l["last_seen"].is_null()) row["last_seen"] = l["last_seen"];
      if (l.contains("last_error") && l["last_error"] != "") row["last_error"] = l["last_error"];
    }
    out.push_back(std::move(row));
  }
  return out;
}

nlohmann::json Daemon::config_warnings(const Config& config) {
  nlohmann::json w = nlohmann::json::array();
  if (config.upload.base_url.empty()) w.push_back("/fhir/base_url is empty: readings stay in the buffer, nothing is uploaded");
  if (!config.http.verify_tls) w.push_back("/fhir/tls_verify is false: the FHIR server is not authenticated");
  if (config.upload.base_url.starts_with("http://")) w.push_back("/fhir/base_url is plain http://: readings cross the network unencrypted");
  if (config.rules_file.empty()) w.push_back("/rules/file is not set: no decision-support alerts are raised");
  if (config.log_level == LogLevel::debug) w.push_back("/log/level is debug: reading values go to the journal; set info after diagnosing");
  // getgrnam_r: control connections run status() concurrently, and getgrnam's buffer is shared.
  group grp{};
  group* found = nullptr;
  std::vector<char> buf(16384);
  if (!config.control_group.empty() &&
      (::getgrnam_r(config.control_group.c_str(), &grp, buf.data(), buf.size(), &found) != 0 || found == nullptr)) {
    w.push_back("/control/group \"" + config.control_group + "\" does not exist: only root can use carehubctl");
  }
  if (config.sources.empty()) w.push_back("/sources is empty: only manual readings (carehubctl measure add) are taken");
  if (!config.metrics.textfile.empty()) {
    const auto dir = std::filesystem::path(config.metrics.textfile).parent_path();
    if (::access(dir.c_str(), W_OK) != 0) w.push_back("/metrics/textfile: cannot write to " + dir.string());
  }
  return w;
}

Result<MetricsSnapshot> Daemon::metrics_snapshot() {
  MetricsSnapshot m;
  m.counters = counters_.snapshot();
  StoreCounts counts;
  AlertCounts alerts;
  {
    std::lock_guard lock(reader_mu_);
    auto c = reader_->counts();
    if (!c) return c.error();
    counts = *c;
    auto a = reader_->alert_counts();
    if (!a) return a.error();
    alerts = *a;
  }
  const sync::SyncStatus s = uploader()->status();
  const auto unix_seconds = [](TimePoint t) { return static_cast<double>(to_epoch_ms(t)) / 1000.0; };
  const auto d = [](auto v) { return static_cast<double>(v); };
  m.gauges = {
      {"buffer_pending_readings", "readings in the buffer waiting for the FHIR server", d(counts.pending)},
      {"buffer_dead_readings", "readings the FHIR server refused (carehubctl sync dead)", d(counts.dead)},
      {"buffer_synced_readings", "readings delivered and kept in the buffer", d(counts.synced)},
      {"buffer_unassigned_readings", "readings not attributed to a patient, waiting for a technician (carehubctl readings unassigned)",
       d(counts.unassigned)},
      {"buffer_discarded_readings", "readings a technician discarded as nobody's on this hub", d(counts.discarded)},
      {"buffer_bytes", "size of the SQLite buffer in bytes", d(counts.bytes)},
      {"pipeline_queued_readings", "readings received but not yet committed", d(pipeline_->queued())},
      {"alerts_open", "open decision-support alerts", d(alerts.open)},
      {"alerts_awaiting_ack", "open red alerts the patient has not acknowledged", d(alerts.unacknowledged_red)},
      {"sync_enabled", "1 when a FHIR base URL is configured", s.enabled ? 1.0 : 0.0},
      {"sync_consecutive_failures", "failed upload attempts since the last success", d(s.consecutive_failures)},
      {"sync_last_success_timestamp_seconds", "Unix time of the last successful upload since start; 0: none yet",
       s.last_success ? unix_seconds(*s.last_success) : 0.0},
      {"start_time_seconds", "Unix time carehubd started", unix_seconds(started_)},
  };
  return m;
}

void Daemon::write_metrics() {
  const auto config = this->config();
  if (config->metrics.textfile.empty()) return;
  const auto now = clock_.monotonic();
  {
    std::lock_guard lock(metrics_mu_);
    if (metrics_due_ && now < *metrics_due_) return;
    metrics_due_ = now + config->metrics.interval;
  }
  auto snapshot = metrics_snapshot();
  Result<void> written = snapshot ? write_file_atomically(config->metrics.textfile, render_prometheus(*snapshot))
                                  : Result<void>(snapshot.error());
  std::lock_guard lock(metrics_mu_);
  if (written) {
    if (!metrics_error_.empty()) log_.notice("metrics", "textfile-recovered", {{"file", config->metrics.textfile}});
    metrics_written_ = clock_.now();
    metrics_error_.clear();
    return;
  }
  counters_.add("metrics_write_errors");
  // Once an hour at most: a missing collector directory would otherwise log every interval for years.
  log_.rate_limited(LogLevel::warning, "metrics", "metrics:write", "textfile-write-failed",
                    {{"file", config->metrics.textfile}, {"error", written.error().message}}, std::chrono::hours(1));
  metrics_error_ = written.error().message;
}

}  // namespace carehub::daemon
