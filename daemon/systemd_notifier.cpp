#include "daemon/systemd_notifier.hpp"

#include <systemd/sd-daemon.h>

#include <ctime>

namespace carehub::daemon {

void SystemdNotifier::ready(const std::string& s) const { sd_notifyf(0, "READY=1\nSTATUS=%s", s.c_str()); }

void SystemdNotifier::status(const std::string& s) const { sd_notifyf(0, "STATUS=%s", s.c_str()); }

void SystemdNotifier::watchdog() const { sd_notify(0, "WATCHDOG=1"); }

void SystemdNotifier::reloading() const {
  // MONOTONIC_USEC lets Type=notify-reload (systemd 253+) match this reload to its request.
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const unsigned long long usec = static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL +
                                  static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading configuration", usec);
}

void SystemdNotifier::extend_start(std::chrono::seconds more, const std::string& s) const {
  const auto usec = static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::microseconds>(more).count());
  sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%llu\nSTATUS=%s", usec, s.c_str());
}

void SystemdNotifier::stopping() const { sd_notify(0, "STOPPING=1\nSTATUS=stopping: flushing the buffer"); }

std::optional<std::chrono::microseconds> SystemdNotifier::watchdog_interval() const {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) return std::chrono::microseconds(usec);
  return std::nullopt;
}

}  // namespace carehub::daemon
