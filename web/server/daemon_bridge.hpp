#pragma once
// carehub-web's only way to carehubd: the control socket. call() is one request on its own connection
// (a slow `devices.scan` holds up nobody else). Two threads feed the EventHub:
//   - alerts: the `alerts.watch` stream, exactly as `carehubctl alerts watch` reads it;
//   - readings: `measurements` after the last sequence number seen, every `poll` (300 ms). carehubd has
//     no readings stream, and one small indexed query three times a second serves every browser at once
//     (one poller, not one per page) without adding a publisher to the pipeline's writer thread; polling
//     by sequence number never skips a reading between two polls.
// When carehubd goes away (a restart, a crash) both reconnect with exponential backoff (250 ms doubling
// to 5 s) and say so: event `daemon` {"reachable":false}, then {"reachable":true} once back.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/log.hpp"
#include "daemon/control_client.hpp"
#include "web/server/event_hub.hpp"

namespace carehub::web {

struct BridgeOptions {
  std::string socket;
  std::chrono::milliseconds poll{300};
  std::chrono::milliseconds backoff_min{250};
  std::chrono::milliseconds backoff_max{5000};
};

class DaemonBridge {
 public:
  DaemonBridge(BridgeOptions options, EventHub& hub, const Clock& clock, Logger& log, Counters& counters);
  ~DaemonBridge();  // stops the threads
  DaemonBridge(const DaemonBridge&) = delete;
  DaemonBridge& operator=(const DaemonBridge&) = delete;

  void start();
  void stop();
  // One command on its own connection; carehubd's error as an Error (Errc::unavailable: not reachable).
  Result<nlohmann::json> call(const std::string& cmd, const nlohmann::json& args = nlohmann::json::object()) const;
  bool reachable() const { return reachable_.load(); }

 private:
  void alerts_loop();
  void readings_loop();
  void set_reachable(bool up);
  // Waits `d` on the clock unless stopped; false once stopped.
  bool pause(std::chrono::milliseconds d);
  bool pause_until(std::chrono::steady_clock::time_point t);

  const BridgeOptions options_;
  EventHub& hub_;
  const Clock& clock_;
  Logger& log_;
  Counters& counters_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> reachable_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  daemon::ControlClient* watching_ = nullptr;  // under mu_: interrupted by stop()
  std::thread alerts_thread_, readings_thread_;
};

}  // namespace carehub::web
