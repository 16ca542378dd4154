#include "drivers/mqtt/transport.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace carehub::mqtt {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string errno_text(int e) { return std::strerror(e); }

// Everything OpenSSL queued for this thread, oldest first; the queue is emptied.
std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

int poll_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return static_cast<int>(std::min<long long>(left, 60'000));
}

// Waits for `events` on `fd` (and the wakeup) until `deadline`. 1: ready, 0: timed out, -1: woken, or an error.
Result<int> wait_fd(int fd, short events, Clock::time_point deadline, const Wakeup* wake) {
  for (;;) {
    pollfd fds[2] = {{fd, events, 0}, {wake ? wake->fd() : -1, POLLIN, 0}};
    const int n = ::poll(fds, wake ? 2 : 1, poll_ms(deadline));
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(Errc::io, "poll: " + errno_text(errno));
    }
    if (wake && (fds[1].revents & POLLIN)) return -1;
    if (n == 0) return 0;
    return 1;  // readable, writable, or an error/hang-up the next call reports
  }
}

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};

bool is_ip_address(const std::string& host) {
  in6_addr a6{};
  in_addr a4{};
  return ::inet_pton(AF_INET, host.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

}  // namespace

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<std::unique_ptr<Wakeup>> Wakeup::create() {
  Fd fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!fd.valid()) return make_error(Errc::io, "eventfd: " + errno_text(errno));
  return std::unique_ptr<Wakeup>(new Wakeup(std::move(fd)));
}

void Wakeup::notify() const {
  const std::uint64_t one = 1;
  // Only fails when the counter would overflow: it is readable then anyway.
  (void)!::write(fd_.get(), &one, sizeof one);
}

void Wakeup::clear() const {
  std::uint64_t value = 0;
  (void)!::read(fd_.get(), &value, sizeof value);
}

Result<Endpoint> parse_broker(std::string_view broker) {
  Endpoint e;
  std::string_view rest;
  for (const auto& [scheme, tls] : {std::pair<std::string_view, bool>{"tcp://", false}, {"mqtt://", false},
                                    {"ssl://", true}, {"mqtts://", true}}) {
    if (broker.starts_with(scheme)) {
      rest = broker.substr(scheme.size());
      e.tls = tls;
      e.port = tls ? 8883 : 1883;
      break;
    }
  }
  const auto bad = [&](const std::string& why) {
    return make_error(Errc::invalid_argument, why + ", found \"" + std::string(broker) + "\"");
  };
  if (rest.empty()) return bad("expected tcp://, mqtt://, ssl:// or mqtts:// and a host");
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (slash + 1 != rest.size()) return bad("a path after the host is not supported");
    rest.remove_suffix(1);
  }
  std::string_view port;
  if (rest.front() == '[') {  // [IPv6]:port
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("unterminated [ in the host");
    e.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("expected :port after ]");
      port = rest.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else {
    const auto colon = rest.rfind(':');
    if (colon != std::string_view::npos) {
      if (rest.find(':') != colon) return bad("an IPv6 address must be in brackets");
      port = rest.substr(colon + 1);
      if (port.empty()) return bad("empty port");
      rest = rest.substr(0, colon);
    }
    e.host = std::string(rest);
  }
  if (e.host.empty()) return bad("no host");
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return bad("port \"" + std::string(port) + "\" is not 1..65535");
    }
    e.port = static_cast<std::uint16_t>(value);
  }
  return e;
}

struct Stream::Impl {
  Fd sock;
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx;
  std::unique_ptr<SSL, SslFree> ssl;
  const Wakeup* wake = nullptr;
  std::string peer;  // host:port, for messages

  Result<void> connect_tcp(const Endpoint& e, Clock::time_point deadline) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const auto port = std::to_string(e.port);
    // getaddrinfo cannot be interrupted; a numeric host (the usual home-hub case) resolves at once.
    if (const int rc = ::getaddrinfo(e.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
      return make_error(Errc::unavailable, peer + ": cannot resolve: " + ::gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
    std::string last = "no address";
    for (const addrinfo* a = list.get(); a; a = a->ai_next) {
      Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
      if (!fd.valid()) {
        last = "socket: " + errno_text(errno);
        continue;
      }
      if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
        last = errno_text(errno);
        continue;
      }
      auto ready = wait_fd(fd.get(), POLLOUT, deadline, wake);
      if (!ready) return ready.error();
      if (*ready < 0) return make_error(Errc::unavailable, peer + ": interrupted (stopping)");
      if (*ready == 0) return make_error(Errc::timeout, peer + ": connect timed out");
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err != 0) {
        last = errno_text(err);
        continue;
      }
      // MQTT packets are small and each waits for an answer (PUBACK after commit): no Nagle delay.
      const int one = 1;
      (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      sock = std::move(fd);
      return {};
    }
    return make_error(Errc::unavailable, peer + ": cannot connect: " + last);
  }

  Result<void> handshake(const Endpoint& e, const TlsSettings& tls, Clock::time_point deadline) {
    ERR_clear_error();
    ctx.reset(SSL_CTX_new(TLS_client_method()));
    if (!ctx) return make_error(Errc::internal, "SSL_CTX_new: " + openssl_errors());
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    if (tls.verify) {
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
      const int loaded = tls.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx.get())
                                             : SSL_CTX_load_verify_locations(ctx.get(), tls.ca_file.c_str(), nullptr);
      if (loaded != 1) {
        return make_error(Errc::unavailable, "TLS: cannot load the CA " +
                                                 (tls.ca_file.empty() ? std::string("system store") : "file " + tls.ca_file) +
                                                 ": " + openssl_errors());
      }
    } else {
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    }
    ssl.reset(SSL_new(ctx.get()));
    if (!ssl) return make_error(Errc::internal, "SSL_new: " + openssl_errors());
    SSL_set_mode(ssl.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_set_fd(ssl.get(), sock.get()) != 1) return make_error(Errc::internal, "SSL_set_fd: " + openssl_errors());
    const bool ip = is_ip_address(e.host);
    if (!ip) SSL_set_tlsext_host_name(ssl.get(), e.host.c_str());  // SNI takes names only
    if (tls.verify) {
      const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), e.host.c_str())
                        : SSL_set1_host(ssl.get(), e.host.c_str());
      if (ok != 1) return make_error(Errc::internal, "TLS: cannot set the expected host: " + openssl_errors());
    }
    for (;;) {
      const int rc = SSL_connect(ssl.get());
      if (rc == 1) return {};
      const int err = SSL_get_error(ssl.get(), rc);
      short events = 0;
      if (err == SSL_ERROR_WANT_READ) events = POLLIN;
      else if (err == SSL_ERROR_WANT_WRITE) events = POLLOUT;
      else {
        std::string why = openssl_errors();
        if (const long v = SSL_get_verify_result(ssl.get()); v != X509_V_OK) {
          why = std::string("certificate verification failed: ") + X509_verify_cert_error_string(v);
        }
        return make_error(Errc::unavailable, peer + ": TLS handshake failed: " + why);
      }
      auto ready = wait_fd(sock.get(), events, deadline, wake);
      if (!ready) return ready.error();
      if (*ready < 0) return make_error(Errc::unavailable, peer + ": interrupted (stopping)");
      if (*ready == 0) return make_error(Errc::timeout, peer + ": TLS handshake timed out");
    }
  }
};

Stream::Stream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Stream::~Stream() = default;

Result<std::unique_ptr<Stream>> Stream::open(const Endpoint& endpoint, const TlsSettings& tls, milliseconds timeout,
                                             const Wakeup& wake) {
  auto impl = std::make_unique<Impl>();
  impl->wake = &wake;
  impl->peer = (endpoint.host.find(':') != std::string::npos ? "[" + endpoint.host + "]" : endpoint.host) + ":" +
               std::to_string(endpoint.port);
  const auto deadline = Clock::now() + timeout;
  if (auto r = impl->connect_tcp(endpoint, deadline); !r) return r.error();
  if (endpoint.tls) {
    if (auto r = impl->handshake(endpoint, tls, deadline); !r) return r.error();
  }
  return std::unique_ptr<Stream>(new Stream(std::move(impl)));
}

Result<std::size_t> Stream::read(char* buf, std::size_t size, milliseconds timeout) {
  auto& d = *impl_;
  const auto deadline = Clock::now() + timeout;
  short events = POLLIN;
  for (;;) {
    // Bytes OpenSSL already decrypted do not make the socket readable: take them first.
    if (!d.ssl || SSL_pending(d.ssl.get()) == 0) {
      auto ready = wait_fd(d.sock.get(), events, deadline, d.wake);
      if (!ready) return ready.error();
      if (*ready <= 0) return std::size_t{0};
    }
    if (!d.ssl) {
      const auto n = ::recv(d.sock.get(), buf, size, 0);
      if (n > 0) return static_cast<std::size_t>(n);
      if (n == 0) return make_error(Errc::unavailable, d.peer + ": connection closed by the broker");
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return make_error(Errc::unavailable, d.peer + ": read: " + errno_text(errno));
    }
    ERR_clear_error();
    std::size_t n = 0;
    const int rc = SSL_read_ex(d.ssl.get(), buf, size, &n);
    if (rc == 1) return n;
    const int err = SSL_get_error(d.ssl.get(), rc);
    if (err == SSL_ERROR_WANT_READ) events = POLLIN;
    else if (err == SSL_ERROR_WANT_WRITE) events = POLLOUT;  // a renegotiation wants to send first
    else if (err == SSL_ERROR_ZERO_RETURN) return make_error(Errc::unavailable, d.peer + ": TLS closed by the broker");
    else if (err == SSL_ERROR_SYSCALL && errno == 0) return make_error(Errc::unavailable, d.peer + ": connection closed by the broker");
    else if (err == SSL_ERROR_SYSCALL) return make_error(Errc::unavailable, d.peer + ": read: " + errno_text(errno));
    else return make_error(Errc::unavailable, d.peer + ": TLS read: " + openssl_errors());
  }
}

Result<void> Stream::write(std::string_view bytes, milliseconds timeout) {
  auto& d = *impl_;
  const auto deadline = Clock::now() + timeout;
  short events = POLLOUT;
  while (!bytes.empty()) {
    if (!d.ssl) {
      const auto n = ::send(d.sock.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return make_error(Errc::unavailable, d.peer + ": write: " + errno_text(errno));
      }
    } else {
      ERR_clear_error();
      std::size_t n = 0;
      const int rc = SSL_write_ex(d.ssl.get(), bytes.data(), bytes.size(), &n);
      if (rc == 1) {
        bytes.remove_prefix(n);
        continue;
      }
      const int err = SSL_get_error(d.ssl.get(), rc);
      if (err == SSL_ERROR_WANT_WRITE) events = POLLOUT;
      else if (err == SSL_ERROR_WANT_READ) events = POLLIN;
      else if (err == SSL_ERROR_SYSCALL) return make_error(Errc::unavailable, d.peer + ": write: " + errno_text(errno));
      else return make_error(Errc::unavailable, d.peer + ": TLS write: " + openssl_errors());
    }
    // Writes are not interrupted by the wakeup: the farewell and DISCONNECT of a clean stop must still go out.
    auto ready = wait_fd(d.sock.get(), events, deadline, nullptr);
    if (!ready) return ready.error();
    if (*ready == 0) return make_error(Errc::timeout, d.peer + ": write timed out (the broker does not read)");
  }
  return {};
}

}  // namespace carehub::mqtt
