#pragma once
// carehubctl's side of the control socket: connect, send one request, read one response line.
#include <string>

#include "daemon/control_protocol.hpp"
#include "daemon/unique_fd.hpp"

namespace carehub::daemon {

class ControlClient {
 public:
  static Result<ControlClient> connect(const std::string& path);
  // Sends `cmd` with `args` and waits for the answer: the daemon's result or its error.
  Result<nlohmann::json> call(const std::string& cmd, const nlohmann::json& args = nlohmann::json::object());
  // The next response line of a stream (`alerts.watch`): the daemon's result or its error.
  Result<nlohmann::json> next();
  // Wakes a next() blocked on another thread (it then fails): how a stream's reader is stopped.
  void interrupt();

 private:
  explicit ControlClient(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  std::string buffer_;
  int next_id_ = 1;
};

}  // namespace carehub::daemon
