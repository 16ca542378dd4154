#pragma once
// A loopback TCP relay between a client and a real peer (a mosquitto), for losing exactly what a test says
// is lost: after swallow_upstream(), bytes from the client are read and dropped, never forwarded (a PUBACK
// that never reaches the broker); cut() then closes both sides, as a dead network path does. The next
// connection is relayed normally again. Header-only; one thread; every fd closed by its owner.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace carehub::test {

class TcpRelay {
 public:
  explicit TcpRelay(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;  // a free port
    socklen_t len = sizeof a;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_fd_, 8) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
        ::pipe2(wake_, O_CLOEXEC) != 0) {
      throw std::runtime_error("TcpRelay: cannot listen on loopback");
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~TcpRelay() {
    stopping_ = true;
    poke();
    thread_.join();
    close_pair();
    ::close(listen_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  int port() const { return port_; }
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

  // From now on, for the current connection: what the client sends is read and dropped.
  void swallow_upstream() { swallow_ = true; }
  // Closes the current connection on both sides (the next one is relayed normally); returns once done.
  void cut() {
    const auto before = cuts_.load();
    cut_requested_ = true;
    poke();
    while (cuts_.load() == before) std::this_thread::yield();
  }
  // Bytes from the client dropped since the start.
  std::size_t swallowed() const { return swallowed_.load(); }
  // Connections accepted since the start.
  int connections() const { return connections_.load(); }

 private:
  void poke() {
    const char c = 1;
    (void)!::write(wake_[1], &c, 1);
  }
  void close_pair() {
    if (client_ >= 0) ::close(client_);
    if (upstream_ >= 0) ::close(upstream_);
    client_ = upstream_ = -1;
    swallow_ = false;
  }
  // Copies what `from` has to `to`, or drops it; false once `from` is closed or an error occurs.
  bool pump(int from, int to, bool drop) {
    char buf[16384];
    const auto n = ::read(from, buf, sizeof buf);
    if (n <= 0) return false;
    if (drop) {
      swallowed_ += static_cast<std::size_t>(n);
      return true;
    }
    for (ssize_t off = 0; off < n;) {
      const auto w = ::send(to, buf + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
      if (w <= 0) return false;
      off += w;
    }
    return true;
  }
  void run() {
    while (!stopping_) {
      pollfd fds[4] = {{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}, {client_, POLLIN, 0}, {upstream_, POLLIN, 0}};
      if (::poll(fds, 4, -1) < 0) continue;
      if (fds[0].revents & POLLIN) {
        char drain[64];
        (void)!::read(wake_[0], drain, sizeof drain);
        if (cut_requested_.exchange(false)) {
          close_pair();
          ++cuts_;
        }
        continue;
      }
      if (fds[1].revents & POLLIN) {
        const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        close_pair();  // one client at a time: a reconnect replaces the old pair
        client_ = c;
        upstream_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<std::uint16_t>(upstream_port_));
        if (upstream_ < 0 || ::connect(upstream_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
          close_pair();
          continue;
        }
        ++connections_;
        continue;
      }
      bool ok = true;
      if (client_ >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) ok = pump(client_, upstream_, swallow_);
      if (ok && upstream_ >= 0 && (fds[3].revents & (POLLIN | POLLHUP | POLLERR))) ok = pump(upstream_, client_, false);
      if (!ok) close_pair();
    }
  }

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  int client_ = -1;    // the relay thread's
  int upstream_ = -1;  // the relay thread's
  std::atomic<bool> stopping_{false};
  std::atomic<bool> swallow_{false};
  std::atomic<bool> cut_requested_{false};
  std::atomic<int> cuts_{0};
  std::atomic<int> connections_{0};
  std::atomic<std::size_t> swallowed_{0};
  std::thread thread_;
};

}  // namespace carehub::test
