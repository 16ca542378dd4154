#pragma once
// sd_notify(3) for a Type=notify service. Without NOTIFY_SOCKET (run by hand, in tests) every call is a
// no-op, so the daemon never needs to know how it was started.
#include <chrono>
#include <optional>
#include <string>

namespace carehub::daemon {

class SystemdNotifier {
 public:
  void ready(const std::string& status) const;
  void status(const std::string& status) const;
  void watchdog() const;
  void reloading() const;
  void stopping() const;
  // Start-up work that may outlast TimeoutStartSec= (encrypting a large buffer): systemd waits `more`
  // from now before it gives up, and `status` says why.
  void extend_start(std::chrono::seconds more, const std::string& status) const;
  // WATCHDOG_USEC for this process, if systemd armed a watchdog.
  std::optional<std::chrono::microseconds> watchdog_interval() const;
};

}  // namespace carehub::daemon
