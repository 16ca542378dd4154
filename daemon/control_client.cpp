#include "daemon/control_client.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace carehub::daemon {

Result<ControlClient> ControlClient::connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return make_error(Errc::invalid_argument, "socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return make_error(Errc::io, std::string("socket: ") + std::strerror(errno));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    std::string hint;
    if (e == ENOENT || e == ECONNREFUSED) hint = " (is carehubd running? `systemctl status carehubd`)";
    if (e == EACCES) hint = " (permission denied: run as root or a member of the carehub group)";
    return make_error(Errc::unavailable, "cannot connect to " + path + ": " + std::strerror(e) + hint);
  }
  return ControlClient(std::move(fd));
}

Result<nlohmann::json> ControlClient::call(const std::string& cmd, const nlohmann::json& args) {
  const std::string line = encode_request({next_id_++, cmd, args});
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::send(fd_.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(Errc::unavailable, std::string("sending to carehubd: ") + std::strerror(errno));
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  return next();
}

void ControlClient::interrupt() { ::shutdown(fd_.get(), SHUT_RDWR); }

Result<nlohmann::json> ControlClient::next() {
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string response = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return parse_response(response);
    }
    char chunk[65536];
    const ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(Errc::unavailable, "carehubd closed the connection without answering");
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace carehub::daemon
