#pragma once
// The byte stream under the MQTT subscriber: plain TCP or TLS (OpenSSL), non-blocking sockets driven by
// poll(), every wait bounded by a timeout and interruptible through a Wakeup, so the session's stop() is
// immediate even while connecting or reading. OpenSSL and errno codes become carehub errors here and
// nowhere else. TLS verifies the broker's certificate chain and its host name (or IP address) unless the
// configuration turns verification off. As everywhere in carehubd, SIGPIPE must be ignored by the process
// (a TLS write to a socket the broker closed would raise it).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace carehub::mqtt {

// An owned file descriptor (closed once, on destruction or reset).
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.release();
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset();

 private:
  int fd_ = -1;
};

// An eventfd that ends every wait of a Stream at once: stop() notifies it, and it stays readable until
// cleared, so no wait that starts after the notification blocks either.
class Wakeup {
 public:
  [[nodiscard]] static carehub::Result<std::unique_ptr<Wakeup>> create();
  void notify() const;
  void clear() const;
  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  explicit Wakeup(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

struct Endpoint {
  std::string host;  // a name, an IPv4 address, or an IPv6 address (given in brackets in the URL)
  std::uint16_t port = 1883;
  bool tls = false;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// tcp://host[:port] and mqtt:// (plain, default port 1883), ssl:// and mqtts:// (TLS, default 8883).
[[nodiscard]] carehub::Result<Endpoint> parse_broker(std::string_view broker);

struct TlsSettings {
  bool verify = true;   // the chain against ca_file (or the system store) and the host name
  std::string ca_file;  // PEM; empty: the system's default trust store
};

class Stream {
 public:
  // Resolves, connects and (for TLS) handshakes within `timeout`. Errors: Errc::unavailable (refused,
  // unreachable, name unknown, TLS failure with OpenSSL's reason), Errc::timeout, and Errc::unavailable
  // "interrupted" when `wake` fired.
  [[nodiscard]] static carehub::Result<std::unique_ptr<Stream>> open(const Endpoint& endpoint, const TlsSettings& tls,
                                                                     std::chrono::milliseconds timeout,
                                                                     const Wakeup& wake);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Waits up to `timeout` for bytes and reads what is there into `buf`. Returns the count, 0 when nothing
  // came in time or `wake` fired (the caller checks why), an error when the peer closed or the socket failed.
  [[nodiscard]] carehub::Result<std::size_t> read(char* buf, std::size_t size, std::chrono::milliseconds timeout);
  // Writes all of `bytes` within `timeout` (a broker that stops reading is a dead connection).
  [[nodiscard]] carehub::Result<void> write(std::string_view bytes, std::chrono::milliseconds timeout);

 private:
  struct Impl;
  explicit Stream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace carehub::mqtt
