#include "daemon/snapshot.hpp"

#include <sstream>

#include "core/time_json.hpp"

namespace carehub::daemon {

nlohmann::json buffer_json(const Snapshot& s) {
  const auto& c = s.counts;
  const auto& h = s.health;
  return {{"path", s.config->store.path},
          // encrypted at rest (issue 18): false only while a plaintext buffer waits for room to be migrated
          {"encrypted", s.config->store.key.has_value()},
          {"pending", c.pending},
          {"synced", c.synced},
          {"dead", c.dead},
          {"quarantined", c.quarantined},  // dated after their receipt: kept, never judged or sent
          // not attributed with certainty: waiting for `carehubctl readings assign|discard`
          {"unassigned", c.unassigned},
          {"discarded", c.discarded},
          // no consent for their kind: kept and judged by the rules, never uploaded (not a backlog)
          {"withheld", c.withheld},
          {"bytes", c.bytes},
          {"queued", s.queued},
          // The size cap and the disk (design.md invariant 3): what a technician must see first when readings stop.
          {"state", to_string(h.state)},
          {"detail", h.detail},
          {"since", optional_time_json(h.since)},
          {"used_bytes", h.used_bytes},
          {"max_bytes", h.max_bytes},
          {"shed",
           {{"synced", h.shed_synced},
            {"environment", h.shed_environment},
            {"stream", h.shed_stream},
            {"last", optional_time_json(h.last_shed)}}},
          {"retention_days", s.config->store.retention_days},
          {"pruned", h.pruned},
          // Disk use beside the database's own size: the write-ahead log, and what the filesystem has left.
          {"wal_bytes", s.wal_bytes},
          {"disk_free_bytes", s.disk_free_bytes ? nlohmann::json(*s.disk_free_bytes) : nlohmann::json(nullptr)}};
}

nlohmann::json sync_json(const Snapshot& snap) {
  const auto& s = snap.sync;
  const auto& config = *snap.config;
  return {{"enabled", s.enabled},
          {"base_url", config.upload.base_url},
          {"auth", config.oauth2 ? "oauth2" : !config.bearer_token_file.empty() ? "bearer" : "none"},
          {"pending_alerts", snap.alert_sync.pending},
          {"dead_alerts", snap.alert_sync.dead},
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
          {"last_success", optional_time_json(s.last_success)},
          {"last_attempt", optional_time_json(s.last_attempt)},
          {"last_error", s.last_error},
          {"next_attempt", optional_time_json(s.next_attempt)}};
}

nlohmann::json status_json(const Snapshot& s) {
  const auto& config = *s.config;
  nlohmann::json j;
  j["hub"] = config.hub_id;
  j["patient"] = config.patient;
  j["config"] = config.source;
  j["started"] = format_rfc3339(s.started);
  j["uptime_s"] = std::chrono::duration_cast<std::chrono::seconds>(s.now - s.started).count();
  j["buffer"] = buffer_json(s);
  j["sync"] = sync_json(s);
  j["alerts"] = {{"open", s.alerts.open},
                 {"awaiting_ack", s.alerts.unacknowledged_red},
                 {"acknowledged", s.alerts.acknowledged},
                 {"watchers", s.watchers},
                 {"mqtt", s.mqtt},
                 {"rules_file", config.rules_file},
                 {"rules", s.rules}};
  j["counters"] = s.counters;
  j["metrics"] = {{"textfile", config.metrics.textfile},
                  {"interval_s", config.metrics.interval.count()},
                  {"last_written", optional_time_json(s.metrics_written)},
                  {"last_error", s.metrics_error}};
  return j;
}

std::string status_line(const Snapshot& s) {
  std::ostringstream out;
  out << s.counts.pending << " pending, " << s.counts.synced << " synced, " << s.counts.dead << " dead";
  if (s.counts.unassigned > 0) out << ", " << s.counts.unassigned << " unassigned";
  if (s.counts.withheld > 0) out << ", " << s.counts.withheld << " withheld";
  if (s.health.state != BufferState::ok) out << "; buffer " << to_string(s.health.state);
  if (s.config->upload.base_url.empty()) out << "; no FHIR URL: buffering only";
  return out.str();
}

MetricsSnapshot metrics_of(const Snapshot& snap) {
  const auto& counts = snap.counts;
  const auto& s = snap.sync;
  const auto unix_seconds = [](TimePoint t) { return static_cast<double>(to_epoch_ms(t)) / 1000.0; };
  const auto d = [](auto v) { return static_cast<double>(v); };
  MetricsSnapshot m;
  m.counters = snap.counters;
  m.gauges = {
      {"buffer_pending_readings", "readings in the buffer waiting for the FHIR server", d(counts.pending)},
      {"buffer_dead_readings", "readings the FHIR server refused (carehubctl sync dead)", d(counts.dead)},
      {"buffer_synced_readings", "readings delivered and kept in the buffer", d(counts.synced)},
      {"buffer_unassigned_readings", "readings not attributed to a patient, waiting for a technician (carehubctl readings unassigned)",
       d(counts.unassigned)},
      {"buffer_discarded_readings", "readings a technician discarded as nobody's on this hub", d(counts.discarded)},
      {"buffer_withheld_readings", "readings kept on the hub without consent to upload their kind (carehubctl consent show)",
       d(counts.withheld)},
      {"buffer_bytes", "size of the SQLite buffer in bytes", d(counts.bytes)},
      {"pipeline_queued_readings", "readings received but not yet committed", d(snap.queued)},
      {"alerts_open", "open decision-support alerts", d(snap.alerts.open)},
      {"alerts_awaiting_ack", "open red alerts the patient has not acknowledged", d(snap.alerts.unacknowledged_red)},
      {"sync_enabled", "1 when a FHIR base URL is configured", s.enabled ? 1.0 : 0.0},
      {"sync_consecutive_failures", "failed upload attempts since the last success", d(s.consecutive_failures)},
      {"sync_last_success_timestamp_seconds", "Unix time of the last successful upload since start; 0: none yet",
       s.last_success ? unix_seconds(*s.last_success) : 0.0},
      {"start_time_seconds", "Unix time carehubd started", unix_seconds(snap.started)},
  };
  return m;
}

}  // namespace carehub::daemon
