#pragma once
// A loopback HTTP server for one test that answers with whatever bytes the test writes: a gzip bomb, an
// endless body, endless headers, an SSE line that never ends. Real peers (tests/peers) speak HTTP
// correctly; a hostile peer does not, so the test owns the wire here.
//
// Listens on 127.0.0.1 on a free port. Each connection gets its own thread: the request head (and a body
// announced by Content-Length) is read, then the responder writes to the socket through send(), which
// gives up once the client has gone or the server is stopping, so an "endless" responder ends too.
// Header-only: tests link nothing more.
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace carehub::test {

class RawHttpServer {
 public:
  class Connection {
   public:
    Connection(int fd, const std::atomic<bool>& stopping) : fd_(fd), stopping_(stopping) {}
    // Writes all of `bytes`; false once the client is gone or the server stops.
    bool send(std::string_view bytes) {
      while (!bytes.empty()) {
        if (stopping_) return false;
        pollfd p{fd_, POLLOUT, 0};
        const int ready = ::poll(&p, 1, 100);  // a slice, so a stopping server is noticed
        if (ready < 0) return false;
        if (ready == 0) continue;
        if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return false;
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
      }
      return true;
    }
    // Waits until the client hangs up or the server stops (a responder that holds a stream open).
    void hold() {
      char c;
      while (!stopping_) {
        pollfd p{fd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, 100);
        if (ready < 0) return;
        if (ready > 0 && ::recv(fd_, &c, 1, MSG_DONTWAIT) <= 0) return;
      }
    }
    const std::string& request() const { return request_; }  // the head, "GET /path HTTP/1.1\r\n…"
    std::string path() const {
      const auto sp = request_.find(' ');
      const auto end = request_.find(' ', sp + 1);
      return sp == std::string::npos ? std::string() : request_.substr(sp + 1, end - sp - 1);
    }

   private:
    friend class RawHttpServer;
    int fd_;
    const std::atomic<bool>& stopping_;
    std::string request_;
  };
  using Responder = std::function<void(Connection&)>;

  explicit RawHttpServer(Responder responder) : responder_(std::move(responder)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;  // the kernel picks a free port
    socklen_t len = sizeof addr;
    if (listener_ < 0 || wake_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 64) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("RawHttpServer: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~RawHttpServer() { stop(); }
  RawHttpServer(const RawHttpServer&) = delete;
  RawHttpServer& operator=(const RawHttpServer&) = delete;

  void stop() {
    if (stopping_.exchange(true)) return;
    const std::uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof one);
    if (acceptor_.joinable()) acceptor_.join();
    std::lock_guard lock(mu_);
    for (auto& t : threads_) t.join();
    threads_.clear();
    ::close(listener_);
    ::close(wake_);
  }

  int port() const { return port_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int connections() const { return connections_.load(); }

 private:
  void accept_loop() {
    pollfd fds[2] = {{listener_, POLLIN, 0}, {wake_, POLLIN, 0}};
    while (!stopping_) {
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents) return;
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++connections_;
      std::lock_guard lock(mu_);
      threads_.emplace_back([this, fd] {
        serve(fd);
        ::close(fd);
      });
    }
  }

  void serve(int fd) {
    Connection c(fd, stopping_);
    std::string in;
    char buf[4096];
    std::size_t head_end = std::string::npos;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (stopping_) return;
      const int ready = ::poll(&p, 1, 100);
      if (ready <= 0) continue;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<std::size_t>(n));
    }
    c.request_ = in.substr(0, head_end + 4);
    // Read (and drop) a request body so the client is not blocked sending it.
    std::size_t want = 0;
    for (std::string_view key : {"Content-Length:", "content-length:"}) {
      if (auto at = c.request_.find(key); at != std::string::npos) want = std::strtoull(c.request_.c_str() + at + key.size(), nullptr, 10);
    }
    std::size_t have = in.size() - head_end - 4;
    while (have < want && !stopping_) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      have += static_cast<std::size_t>(n);
    }
    responder_(c);
  }

  Responder responder_;
  int listener_ = -1;
  int wake_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::list<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace carehub::test
