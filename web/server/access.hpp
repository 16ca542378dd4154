#pragma once
// Who may ask what, decided from facts the server itself vouches for: the peer address of the TCP
// connection and whether this listener speaks TLS. Pure functions, so every rule has a unit test.
#include <optional>
#include <string>
#include <string_view>

namespace carehub::web {

// 127.0.0.0/8, ::1 and IPv4-mapped 127.x (::ffff:127.0.0.1).
bool is_loopback(std::string_view address);

// The home network needs TLS: a request from any other address over plain HTTP is refused before it
// is routed (421 tls-required), whatever the listen address was set to.
bool transport_allowed(std::string_view remote_address, bool tls);

// CSRF, second line (the synchronizer token is the first): when the browser sends Origin it must be
// this server's own origin, "http(s)://" + Host. A missing Origin passes (curl, older browsers on GET
// forms; the token still has to match); "null" (a sandboxed or file: page) does not.
bool origin_allowed(std::string_view origin, std::string_view host, bool tls);

// The patient endpoints: the hub's own screen (loopback) needs nothing; any other client needs a
// paired display's cookie. The display token check is the caller's (DisplayRegistry::known).
enum class DisplayAccess { local, paired, unpaired };
DisplayAccess display_access(std::string_view remote_address, bool display_cookie_known);

}  // namespace carehub::web

namespace carehub::web {
// "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8443" → host and port (0..65535); an error naming the text.
struct HostPort {
  std::string host;
  int port = 0;
};
}  // namespace carehub::web
#include "core/result.hpp"
namespace carehub::web {
Result<HostPort> parse_host_port(std::string_view text);
}  // namespace carehub::web
