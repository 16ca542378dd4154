#pragma once
// carehubd's wiring and lifecycle: store -> pipeline -> uploader, the control socket, systemd
// notifications. Owns every long-lived object; main() only handles signals.
#include <atomic>
#include <memory>
#include <mutex>

#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/log.hpp"
#include "store/pipeline.hpp"
#include "store/store.hpp"
#include "daemon/alert_watchers.hpp"
#include "daemon/commands/table.hpp"
#include "daemon/config.hpp"
#include "daemon/control_server.hpp"
#include "daemon/mqtt_alerts.hpp"
#include "daemon/snapshot.hpp"
#include "core/source.hpp"
#include "daemon/systemd_notifier.hpp"
#include "rules/engine.hpp"
#include "rules/publisher.hpp"
#include "sync/uploader.hpp"

namespace carehub::daemon {

class Daemon {
 public:
  // Opens the store, starts the pipeline, the uploader and the control socket, then sends READY=1.
  static Result<std::unique_ptr<Daemon>> start(Config config, Logger& log, const Clock& clock);
  ~Daemon();

  // SIGHUP: the new config was validated by the caller; applies what can change while running.
  void reload(Config config);
  // STATUS= for `systemctl status`, and the metrics textfile when it is due (/metrics/interval_s);
  // called periodically from the main thread, never from the pipeline's writer thread.
  void refresh_status();
  // SIGHUP with a config that does not validate: keep running as before, and say so.
  void reload_rejected(const std::string& why);
  // The audit trail's row for a reload a signal asked for (`systemctl reload`, kill -HUP), after reload()
  // or reload_rejected(): who sent it (`sender`, from the signal's siginfo) and how it ended (`refused_why`
  // empty: applied). `carehubctl config reload` is recorded by its command, which signals carehubd itself.
  void audit_signal_reload(const PeerCred& sender, const std::string& refused_why);
  // SIGTERM/SIGINT: stop intake, answer every control command still running ("carehubd is stopping";
  // a `sync now --wait` is woken, not waited for), stop syncing, then flush the queue. Bounded: nothing a
  // client or a peer does can hold it up beyond the control server's grace and the HTTP cancel.
  void stop();

  // Alert delivery. Publishers receive every alert event after its transaction committed, on the
  // pipeline's writer thread (they must queue, not block). The MQTT binding registers itself here.
  void add_alert_publisher(rules::AlertPublisher& publisher);
  // The acknowledgement entry point for every channel: the control socket (`carehubctl alerts ack`) and
  // the MQTT subscriber (the patient's home display). Durable before it returns; `by` is logged.
  Result<Alert> acknowledge_alert(const std::string& id, const std::string& by);

 private:
  Daemon(Config config, Logger& log, const Clock& clock);
  // acknowledge_alert() from the patient's home display (alerts over MQTT), recorded in the audit trail.
  Result<Alert> acknowledge_from_display(const std::string& id, const std::string& by);
  Result<void> open();
  Result<std::shared_ptr<sync::Uploader>> make_uploader(const Config& config);
  SourceContext source_context(const Config& config);
  Result<void> start_sources(const Config& config);
  // Snapshots for control threads: each holds its own reference for as long as it uses it, so a reload
  // that replaces either one never frees it under them.
  std::shared_ptr<const Config> config() const;
  std::shared_ptr<sync::Uploader> uploader();
  // The control commands (daemon/commands/) and what they may use of the daemon.
  commands::Context command_context();
  // A command a source answers (devices.* by the BLE driver); commands::Table::not_served otherwise.
  Result<nlohmann::json> forward_to_source(const std::string& cmd, const nlohmann::json& args);
  void publish(const std::vector<AlertEvent>& events);
  // The one picture of the daemon that `status`, STATUS= and the metrics textfile read (daemon/snapshot.hpp).
  Result<Snapshot> gather();
  std::string status_line(const Result<Snapshot>& snapshot);
  // Writes the textfile from `snapshot` when it is due (/metrics/interval_s).
  void write_metrics(const Result<Snapshot>& snapshot);

  // The running configuration: replaced whole by reload(), never changed in place. Readers on control
  // threads take a snapshot with config().
  mutable std::mutex config_mu_;
  std::shared_ptr<const Config> config_;
  Logger& log_;
  const Clock& clock_;
  Counters counters_;
  SystemdNotifier systemd_;
  const TimePoint started_;

  std::unique_ptr<StoreWriter> writer_;
  std::mutex reader_mu_;  // control connections share one read connection
  std::unique_ptr<StoreReader> reader_;
  std::unique_ptr<rules::Engine> engine_;  // the pipeline's batch hook: declared before it, outlives it
  AlertWatchers watchers_;
  std::mutex publishers_mu_;
  std::vector<rules::AlertPublisher*> publishers_;
  std::unique_ptr<Pipeline> pipeline_;
  // Created with the pipeline its commands write through.
  std::unique_ptr<commands::Table> commands_;
  std::mutex uploader_mu_;  // reload swaps the uploader
  // shared_ptr: a control command (`sync now --wait`) holds the uploader it uses; the reload that replaces
  // it stops it (which ends such a wait) and the last holder destroys it.
  std::shared_ptr<sync::Uploader> uploader_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<MqttAlertPublisher> alerts_mqtt_;
  std::mutex sources_mu_;  // guards the list only: reload swaps it while control threads use sources
  // shared_ptr: a command (a 30 s scan, a pairing waiting for a passkey) runs on a copy taken under the
  // lock, so it holds up neither `status` nor a reload nor shutdown.
  std::vector<std::shared_ptr<Source>> sources_;
  bool stopped_ = false;  // the main thread's: stop() runs once
  // Set first thing in stop(): control threads answer "stopping" instead of starting or resuming a wait.
  std::atomic<bool> stopping_{false};
  // The metrics textfile: written from the main thread, its outcome read by `status` on control threads.
  std::mutex metrics_mu_;
  std::optional<std::chrono::steady_clock::time_point> metrics_due_;  // monotonic; unset: write now
  std::optional<TimePoint> metrics_written_;
  std::string metrics_error_;
};

}  // namespace carehub::daemon
