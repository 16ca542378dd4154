#include "daemon/control_server.hpp"

#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/thread_name.hpp"

namespace carehub::daemon {
namespace {

// How long stop() lets connections finish the answers they are sending.
constexpr std::chrono::seconds kStopGrace{2};

std::string errno_text() { return std::strerror(errno); }

// Steady-clock time as one integer, for a connection's idle_since (0 means "not idle").
std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Sends all of `data`, or gives up once `timeout` has passed without the client taking it all. A blocking
// send had no end: 16 clients that pipelined large requests and never read their answers held every slot
// (and no slot is idle while its thread is stuck writing), locking carehubctl out for as long as they
// stayed connected. Non-blocking sends with a poll for room keep the deadline whole-answer.
bool send_all(int fd, std::string_view data, std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= std::chrono::milliseconds::zero()) return false;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) return false;
  }
  return true;
}

bool someone_listens(const sockaddr_un& addr) {
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return probe && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

}  // namespace

bool ControlStream::send(const nlohmann::json& result) { return send_all(fd_, ok_response(id_, result), send_timeout_); }

ControlStream::Wait ControlStream::wait(int event_fd, std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{fd_, POLLIN, 0}, {event_fd, POLLIN, 0}};
  const int n = ::poll(fds, event_fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
  if (stopping_) return Wait::closed;
  if (n < 0) return errno == EINTR ? Wait::timeout : Wait::closed;
  if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) return Wait::closed;
  if (fds[0].revents & POLLIN) {
    char ignored[512];
    if (::recv(fd_, ignored, sizeof ignored, MSG_DONTWAIT) <= 0) return Wait::closed;  // 0: hung up
  }
  if (event_fd >= 0 && (fds[1].revents & POLLIN)) return Wait::ready;
  return Wait::timeout;
}

Result<std::unique_ptr<ControlServer>> ControlServer::listen(const ControlServerOptions& options, Handler handler,
                                                             Logger& log, Counters& counters,
                                                             std::map<std::string, StreamHandler> streams) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (options.path.empty() || options.path.size() >= sizeof addr.sun_path) {
    return make_error(Errc::invalid_argument, "control socket path \"" + options.path + "\" is empty or too long");
  }
  std::memcpy(addr.sun_path, options.path.c_str(), options.path.size() + 1);

  gid_t gid = static_cast<gid_t>(-1);
  if (!options.group.empty()) {
    if (const struct group* g = ::getgrnam(options.group.c_str())) gid = g->gr_gid;
    // Without the group only root and carehubd's own user may use carehubctl.
    else log.warning("control", "group-missing", {{"group", options.group}});
  }

  struct stat st {};
  if (::lstat(options.path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return make_error(Errc::invalid_argument, "control socket path " + options.path + " exists and is not a socket");
    }
    if (someone_listens(addr)) {
      return make_error(Errc::unavailable, "another carehubd is already listening on " + options.path);
    }
    ::unlink(options.path.c_str());  // stale: left by a daemon that was killed
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return make_error(Errc::io, "control socket: " + errno_text());
  // Create the socket file with no access for others from the start, then widen to 0660.
  const mode_t old_mask = ::umask(0117);
  const int bound = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old_mask);
  if (bound != 0) return make_error(Errc::io, "control socket: bind " + options.path + ": " + errno_text());
  if (gid != static_cast<gid_t>(-1) && ::chown(options.path.c_str(), static_cast<uid_t>(-1), gid) != 0) {
    log.warning("control", "socket-chown-failed", {{"path", options.path}, {"group", options.group}, {"error", errno_text()}});
  }
  if (::chmod(options.path.c_str(), 0660) != 0) {
    return make_error(Errc::io, "control socket: chmod " + options.path + ": " + errno_text());
  }
  if (::listen(fd.get(), 16) != 0) return make_error(Errc::io, "control socket: listen: " + errno_text());
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return make_error(Errc::io, "control socket: eventfd: " + errno_text());
  std::unique_ptr<ControlServer> server(
      new ControlServer(options, std::move(handler), log, counters, std::move(fd), std::move(wake), gid, std::move(streams)));
  server->acceptor_ = std::thread([s = server.get()] {
    name_this_thread("control");
    s->accept_loop();
  });
  return server;
}

ControlServer::ControlServer(ControlServerOptions options, Handler handler, Logger& log, Counters& counters,
                             UniqueFd listener, UniqueFd wake, gid_t group, std::map<std::string, StreamHandler> streams)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      streams_(std::move(streams)),
      log_(log),
      counters_(counters),
      listener_(std::move(listener)),
      wake_(std::move(wake)),
      group_(group) {}

ControlServer::~ControlServer() { stop(); }

void ControlServer::stop() {
  if (stopping_.exchange(true)) return;
  const std::uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  if (acceptor_.joinable()) acceptor_.join();
  std::lock_guard lock(mu_);
  // Reading ends at once (idle clients, streams, requests half sent), but an answer still being made
  // goes out whole: carehubd's stop wakes a `sync now --wait` to tell it "stopping" just before this.
  // A client that does not read its answer is cut off after the grace.
  for (auto& c : connections_) ::shutdown(c.fd.get(), SHUT_RD);
  {
    std::unique_lock done_lock(done_mu_);
    done_cv_.wait_for(done_lock, kStopGrace, [this] {
      return std::all_of(connections_.begin(), connections_.end(), [](const Connection& c) { return c.done.load(); });
    });
  }
  for (auto& c : connections_) ::shutdown(c.fd.get(), SHUT_RDWR);  // unblocks their sends
  for (auto& c : connections_) {
    if (c.thread.joinable()) c.thread.join();
  }
  connections_.clear();
  ::unlink(options_.path.c_str());
}

bool ControlServer::allowed(const PeerCred& peer) const {
  if (peer.uid == 0 || peer.uid == ::geteuid()) return true;
  if (group_ == static_cast<gid_t>(-1)) return false;
  if (peer.gid == group_) return true;
  // SO_PEERCRED carries only the primary group; technicians are usually supplementary members.
  const passwd* pw = ::getpwuid(peer.uid);
  if (!pw) return false;
  int n = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(n));
  if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n) < 0) {
    groups.resize(static_cast<std::size_t>(n));
    if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n) < 0) return false;
  }
  for (int i = 0; i < n; ++i) {
    if (groups[static_cast<std::size_t>(i)] == group_) return true;
  }
  return false;
}

void ControlServer::accept_loop() {
  pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  while (!stopping_) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      log_.error("control", "poll-failed", {{"error", errno_text()}});
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) continue;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(client.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) continue;
    const PeerCred peer{cred.pid, cred.uid, cred.gid};
    if (!allowed(peer)) {
      counters_.add("control_denied");
      log_.warning("control", "client-refused", {{"uid", peer.uid}, {"group", options_.group}});
      send_all(client.get(),
               error_response(nullptr, "permission-denied",
                              "permission denied: carehubctl needs root or membership of group " + options_.group),
               options_.request_timeout);
      continue;
    }
    std::lock_guard lock(mu_);
    connections_.remove_if([](Connection& c) {
      if (!c.done) return false;
      c.thread.join();
      return true;
    });
    if (connections_.size() >= options_.max_connections && !evict_connection()) {
      counters_.add("control_busy");
      send_all(client.get(), error_response(nullptr, "unavailable", "too many control connections; try again"),
               options_.request_timeout);
      continue;
    }
    auto& conn = connections_.emplace_back();
    conn.fd = std::move(client);
    conn.accepted_at = steady_ns();
    conn.thread = std::thread([this, &conn, peer] {
      name_this_thread("control-conn");
      serve(conn.fd.get(), peer, conn);
      // The client sees its end now: the descriptor itself is closed only when a later accept reaps the
      // slot, and a client waiting for EOF after its answer would otherwise wait until someone connects.
      ::shutdown(conn.fd.get(), SHUT_RDWR);
      {
        std::lock_guard done_lock(done_mu_);
        conn.done = true;
      }
      done_cv_.notify_all();
    });
  }
}

bool ControlServer::evict_connection() {
  const std::int64_t now = steady_ns();
  const std::int64_t min_age = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.request_timeout).count();
  // First the connection idle longest; failing that, the one held longest (neither a stream nor young).
  // 16 local clients that trickle whole requests, or pipeline requests and never read the answers, are
  // never idle: without the second rule they locked carehubctl out for as long as they stayed.
  const auto pick = [&](auto since_of) {
    Connection* oldest = nullptr;
    std::int64_t oldest_since = 0;
    for (auto& c : connections_) {
      const std::int64_t since = since_of(c);
      if (c.done || since == 0 || now - since < min_age) continue;
      if (!oldest || since < oldest_since) {
        oldest = &c;
        oldest_since = since;
      }
    }
    return oldest;
  };
  Connection* oldest = pick([](const Connection& c) { return c.idle_since.load(); });
  if (!oldest) oldest = pick([](const Connection& c) { return c.streaming ? std::int64_t{0} : c.accepted_at; });
  if (!oldest) return false;
  // Its thread sees the end of the stream and finishes; the slot it held is reaped on a later accept.
  oldest->idle_since = 0;
  oldest->accepted_at = 0;  // given way once: not picked again while its thread winds down
  ::shutdown(oldest->fd.get(), SHUT_RDWR);
  counters_.add("control_evicted");
  return true;
}

void ControlServer::serve(int fd, PeerCred peer, Connection& conn) {
  auto& idle_since = conn.idle_since;
  using Clock = std::chrono::steady_clock;
  std::string buffer;
  char chunk[8192];
  // When the request being received began: the first one at accept, a later one at its first byte; between
  // requests (not receiving) only the idle timeout applies. A request must be complete within
  // request_timeout of it however steadily its bytes trickle in: the idle timeout alone restarts on every
  // byte, so 16 clients sending one byte a second held every slot for ever.
  // (A flag and a time rather than an optional: g++ 12 warns maybe-uninitialized through std::optional.)
  bool receiving = true;
  Clock::time_point started = Clock::now();
  Clock::time_point last_read = started;
  for (;;) {
    bool answered = false;
    // Answer every complete line already received.
    for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
      std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      auto req = parse_request(line);
      std::string reply;
      if (!req) {
        counters_.add("control_bad_requests");
        reply = error_response(nullptr, req.error());
      } else if (auto stream = streams_.find(req->cmd); stream != streams_.end()) {
        // The connection now belongs to the stream until it ends.
        conn.streaming = true;
        ControlStream out(fd, req->id, stopping_, options_.request_timeout);
        if (auto r = stream->second(*req, peer, out); !r) send_all(fd, error_response(req->id, r.error()), options_.request_timeout);
        return;
      } else {
        auto result = handler_(*req, peer);
        reply = result ? ok_response(req->id, *result) : error_response(req->id, result.error());
      }
      if (!send_all(fd, reply, options_.request_timeout)) {
        // Gone, evicted, or not taking its answer in time: either way the slot goes to someone who asks.
        counters_.add("control_unsent_answers");
        return;
      }
      answered = true;
    }
    if (answered) {
      // The next request's clock starts with its first byte, which may have come with this one's end.
      receiving = !buffer.empty();
      started = last_read;
      if (!receiving) idle_since = steady_ns();
    }
    if (buffer.size() > kMaxRequestBytes) {
      counters_.add("control_bad_requests");
      send_all(fd,
               error_response(nullptr, "invalid-argument",
                              "request larger than " + std::to_string(kMaxRequestBytes) + " bytes; closing"),
               options_.request_timeout);
      return;
    }
    auto wait = options_.idle_timeout;
    if (receiving) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(started + options_.request_timeout - Clock::now());
      if (left <= std::chrono::milliseconds::zero()) {
        counters_.add("control_request_timeouts");
        log_.rate_limited(LogLevel::warning, "control", "control:request-timeout", "request-timed-out",
                          {{"uid", peer.uid}, {"pid", peer.pid}, {"timeout_ms", options_.request_timeout.count()}});
        send_all(fd,
                 error_response(nullptr, "timeout",
                                "request not complete within " + std::to_string(options_.request_timeout.count()) +
                                    " ms; closing"),
                 options_.request_timeout);
        return;
      }
      wait = std::min(wait, left);
    }
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(wait.count()));
    if (stopping_) return;
    if (ready == 0) {
      if (receiving) continue;  // the request deadline: answered at the top of the loop
      return;                   // idle between requests: drop it
    }
    if (ready < 0) {
      if (errno == EINTR) continue;
      return;
    }
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    last_read = Clock::now();
    if (!receiving) {
      receiving = true;
      started = last_read;
      idle_since = 0;
    }
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace carehub::daemon
