#pragma once
// The control socket: a Unix stream socket speaking control_protocol.hpp. Each connection is served on
// its own thread (a slow command such as `sync now --wait` must not hold up `status`), up to a fixed
// number; peers are checked with SO_PEERCRED before a byte is read.
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/counters.hpp"
#include "core/log.hpp"
#include "daemon/control_protocol.hpp"
#include "daemon/unique_fd.hpp"

namespace carehub::daemon {

struct PeerCred {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct ControlServerOptions {
  std::string path;
  std::string group;  // members (and root, and the daemon's own user) may connect
  std::size_t max_connections = 16;
  std::chrono::milliseconds idle_timeout{60000};  // silence between two requests: the client is dropped
  // One whole request line, from its first byte (the first request: from accept) to its newline. A client
  // that is slower is answered with a "timeout" error, dropped and counted (control_request_timeouts).
  // With every slot taken, a connection idle between requests for longer than this is closed to make room
  // for a new client (control_evicted): slots go to clients that are asking something.
  // Also the time a client has to take each answer (or streamed line) once it is sent: one that does not
  // read is dropped (control_unsent_answers): a slot stuck writing would never come free.
  std::chrono::milliseconds request_timeout{10000};
};

// A long-lived response (`alerts.watch`): the stream handler keeps the connection and sends result
// lines, each {"id":…,"ok":true,"result":…}, until the client hangs up or the server stops.
class ControlStream {
 public:
  enum class Wait { ready, closed, timeout };
  ControlStream(int fd, nlohmann::json id, const std::atomic<bool>& stopping,
                std::chrono::milliseconds send_timeout = std::chrono::milliseconds{10000})
      : fd_(fd), id_(std::move(id)), stopping_(stopping), send_timeout_(send_timeout) {}
  // false once the client is gone, or did not take the line within the send timeout.
  bool send(const nlohmann::json& result);
  // Waits until `event_fd` is readable (ready), the client hangs up or the server stops (closed), or
  // `timeout` passes. Anything the client sends meanwhile is ignored.
  Wait wait(int event_fd, std::chrono::milliseconds timeout);

 private:
  int fd_;
  nlohmann::json id_;
  const std::atomic<bool>& stopping_;
  std::chrono::milliseconds send_timeout_;
};

class ControlServer {
 public:
  using Handler = std::function<Result<nlohmann::json>(const Request&, const PeerCred&)>;
  // Returns when the stream ends; an error before anything was sent is answered as an error response.
  using StreamHandler = std::function<Result<void>(const Request&, const PeerCred&, ControlStream&)>;

  // Binds (replacing a stale socket file, refusing if another daemon answers on it), sets mode 0660
  // and the group, and starts accepting. `streams` names the commands answered by a stream.
  static Result<std::unique_ptr<ControlServer>> listen(const ControlServerOptions& options, Handler handler,
                                                       Logger& log, Counters& counters,
                                                       std::map<std::string, StreamHandler> streams = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  void stop();

 private:
  ControlServer(ControlServerOptions options, Handler handler, Logger& log, Counters& counters, UniqueFd listener,
                UniqueFd wake, gid_t group, std::map<std::string, StreamHandler> streams);
  void accept_loop();
  struct Connection;
  void serve(int fd, PeerCred peer, Connection& conn);
  bool allowed(const PeerCred& peer) const;
  bool evict_connection();  // under mu_: true if a connection idle or held too long was closed

  struct Connection {
    UniqueFd fd;
    std::thread thread;
    std::atomic<bool> done{false};
    // Steady-clock nanoseconds since the connection waits between requests; 0 while a request is being
    // received or answered. When every slot is taken, the connection idle longest gives way.
    std::atomic<std::int64_t> idle_since{0};
    // When it was accepted, and whether a stream (alerts.watch) owns it: with no idle slot, the oldest
    // connection that is neither a stream nor younger than request_timeout gives way instead. One
    // carehubctl call is one short connection; a connection held for longer while asking again and again
    // (or asking and never reading) is not someone who waits for an answer.
    std::int64_t accepted_at = 0;
    std::atomic<bool> streaming{false};
  };

  const ControlServerOptions options_;
  Handler handler_;
  const std::map<std::string, StreamHandler> streams_;
  Logger& log_;
  Counters& counters_;
  UniqueFd listener_;
  UniqueFd wake_;  // eventfd: wakes the accept loop to stop
  const gid_t group_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::list<Connection> connections_;
  // Signals a connection's `done` to stop(), which holds mu_ meanwhile (so not mu_).
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::thread acceptor_;
};

}  // namespace carehub::daemon
