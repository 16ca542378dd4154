#pragma once
// Stands in for systemd's NOTIFY_SOCKET: a datagram socket a child's sd_notify() writes to, so a test
// knows the daemon is READY (and sees WATCHDOG, RELOADING, STOPPING) without guessing with sleeps.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace carehub::test {

class NotifySocket {
 public:
  explicit NotifySocket(std::string path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  const std::string& path() const { return path_; }
  // Waits for a datagram containing `needle` (e.g. "READY=1"); returns the whole datagram.
  std::optional<std::string> wait_for(const std::string& needle, std::chrono::milliseconds timeout);
  // Every datagram wait_for() has read so far, in order (those it passed over too).
  const std::vector<std::string>& received() const { return received_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> received_;
};

}  // namespace carehub::test
