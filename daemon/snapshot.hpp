#pragma once
// carehubd's picture of itself at one moment: gathered once (Daemon::gather), then read by every view of
// it — `carehubctl status` and `sync status`, the one-line STATUS= for `systemctl status`, and the
// Prometheus textfile — so the views cannot drift apart or each query the store in its own way.
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/time.hpp"
#include "daemon/config.hpp"
#include "daemon/metrics_textfile.hpp"
#include "store/pipeline.hpp"
#include "store/store.hpp"
#include "sync/uploader.hpp"

namespace carehub::daemon {

struct Snapshot {
  std::shared_ptr<const Config> config;  // the one configuration the whole picture was taken under
  TimePoint now{};
  TimePoint started{};
  // The buffer: rows by state, what the writer still holds, the size cap and the disk.
  StoreCounts counts;
  std::size_t queued = 0;
  BufferHealth health;
  std::uintmax_t wal_bytes = 0;
  std::optional<std::uintmax_t> disk_free_bytes;  // unset: the filesystem could not say
  sync::SyncStatus sync;
  AlertSyncCounts alert_sync;
  // Alerts: counts, who watches, the MQTT publisher's state (null: none configured), the rules in force.
  AlertCounts alerts;
  std::size_t watchers = 0;
  nlohmann::json mqtt;
  std::size_t rules = 0;
  std::map<std::string, std::uint64_t> counters;
  // The metrics textfile's last write.
  std::optional<TimePoint> metrics_written;
  std::string metrics_error;
};

// `status`'s "buffer" and "sync" objects (also answered by `sync.now --wait` and `sync.status`).
nlohmann::json buffer_json(const Snapshot& s);
nlohmann::json sync_json(const Snapshot& s);
// Everything `status` shows that the snapshot holds; the command adds the sources' own status, the
// device list, the newest alerts and the configuration warnings (daemon/commands/status.cpp): asked only
// when someone looks, not every few seconds for STATUS=.
nlohmann::json status_json(const Snapshot& s);
// STATUS= for `systemctl status`: "3 pending, 120 synced, 0 dead; buffer full; no FHIR URL: buffering only".
std::string status_line(const Snapshot& s);
// The gauges and counters of the Prometheus textfile.
MetricsSnapshot metrics_of(const Snapshot& s);

}  // namespace carehub::daemon
