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
  // WATCHDOG_USEC for this process, if systemd armed a watchdog.
  std::optional<std::chrono::microseconds> watchdog_interval() const;
};

}  // namespace carehub::daemon
