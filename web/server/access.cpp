#include "web/server/access.hpp"

#include <arpa/inet.h>

#include <string>

namespace carehub::web {

bool is_loopback(std::string_view address) {
  std::string a(address);
  in_addr v4{};
  if (::inet_pton(AF_INET, a.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, a.c_str(), &v6) != 1) return false;  // not an address at all: not loopback
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

bool transport_allowed(std::string_view remote_address, bool tls) { return tls || is_loopback(remote_address); }

bool origin_allowed(std::string_view origin, std::string_view host, bool tls) {
  if (origin.empty()) return true;
  if (host.empty()) return false;
  const std::string expected = std::string(tls ? "https://" : "http://") + std::string(host);
  return origin == expected;
}

DisplayAccess display_access(std::string_view remote_address, bool display_cookie_known) {
  if (is_loopback(remote_address)) return DisplayAccess::local;
  return display_cookie_known ? DisplayAccess::paired : DisplayAccess::unpaired;
}

}  // namespace carehub::web

namespace carehub::web {

Result<HostPort> parse_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  auto bad = [&] { return make_error(Errc::invalid_argument, "\"" + std::string(text) + "\": expected ADDRESS:PORT"); };
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return bad();
  std::string host(text.substr(0, colon));
  if (host.front() == '[') {
    if (host.back() != ']') return bad();
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 6553) return bad();
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return bad();
  in6_addr probe{};
  if (::inet_pton(AF_INET, host.c_str(), &probe) != 1 && ::inet_pton(AF_INET6, host.c_str(), &probe) != 1) return bad();
  return HostPort{host, port};
}

}  // namespace carehub::web
