// carehubd's picture of itself, gathered in one place (daemon/snapshot.hpp says who reads it), and the
// Prometheus textfile written from it. Split from daemon.cpp, which keeps the wiring and lifecycle.
#include <filesystem>

#include "daemon/daemon.hpp"

namespace carehub::daemon {

Result<Snapshot> Daemon::gather() {
  Snapshot s;
  s.config = this->config();  // one configuration for the whole picture, whatever a reload does
  s.now = clock_.now();
  s.started = started_;
  {
    std::lock_guard lock(reader_mu_);
    auto counts = reader_->counts();
    if (!counts) return counts.error();
    s.counts = *counts;
    auto alert_sync = reader_->alert_sync_counts();
    if (!alert_sync) return alert_sync.error();
    s.alert_sync = *alert_sync;
    auto alerts = reader_->alert_counts();
    if (!alerts) return alerts.error();
    s.alerts = *alerts;
  }
  s.queued = pipeline_->queued();
  s.health = pipeline_->buffer_health();
  {
    std::error_code ec;
    const auto wal = std::filesystem::file_size(s.config->store.path + "-wal", ec);
    s.wal_bytes = ec ? 0 : wal;
    const auto space = std::filesystem::space(std::filesystem::path(s.config->store.path).parent_path(), ec);
    if (!ec) s.disk_free_bytes = space.available;
  }
  s.sync = uploader()->status();
  s.watchers = watchers_.count();
  s.mqtt = alerts_mqtt_ ? alerts_mqtt_->status() : nlohmann::json(nullptr);
  s.rules = engine_->rules()->rules.size();
  s.counters = counters_.snapshot();
  {
    std::lock_guard lock(metrics_mu_);
    s.metrics_written = metrics_written_;
    s.metrics_error = metrics_error_;
  }
  return s;
}

void Daemon::write_metrics(const Result<Snapshot>& snapshot) {
  const auto config = this->config();
  if (config->metrics.textfile.empty()) return;
  const auto now = clock_.monotonic();
  {
    std::lock_guard lock(metrics_mu_);
    if (metrics_due_ && now < *metrics_due_) return;
    metrics_due_ = now + config->metrics.interval;
  }
  Result<void> written = snapshot ? write_file_atomically(config->metrics.textfile, render_prometheus(metrics_of(*snapshot)))
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

void Daemon::refresh_status() {
  // One picture for both: the journal's STATUS= and the textfile cannot disagree about the same moment.
  const auto snapshot = gather();
  systemd_.status(status_line(snapshot));
  write_metrics(snapshot);
}

std::string Daemon::status_line(const Result<Snapshot>& snapshot) {
  if (!snapshot) return "store unreadable: " + snapshot.error().message;
  return daemon::status_line(*snapshot);
}

}  // namespace carehub::daemon
