#pragma once
// carehub-web's HTTP side: one plain listener (loopback by default) and, when the home network is
// switched on, one TLS listener. Every request passes guard() first: header bounds, TLS for anything
// not from loopback, the technician session and CSRF token, the display's pairing; only then is it
// routed. Routes live in routes_display.cpp, routes_pairing.cpp and routes_tech.cpp.
#include <httplib.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/log.hpp"
#include "web/server/access.hpp"
#include "web/server/daemon_bridge.hpp"
#include "web/server/event_hub.hpp"
#include "web/server/login_limiter.hpp"
#include "web/server/pairing.hpp"
#include "web/server/sessions.hpp"

namespace carehub::web {

struct WebOptions {
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;  // 0: any free port (tests)
  // The home network (TLS only): empty host = off.
  std::string home_host;
  int home_port = 8443;
  std::string tls_cert, tls_key;
  std::string static_dir;  // web/static or /usr/share/carehub/web
  std::string i18n_dir;    // web/i18n or /usr/share/carehub/web/i18n
  std::string uplot_dir;   // the chart library, served at /vendor/uplot: web/node_modules/uplot/dist or <static>/vendor/uplot
  std::string technician = "technician";
  std::string password_hash;  // crypt(3) string from the credential; empty: technician login is off
  std::string language = "en";
  std::string displays_file;  // paired displays (digests); empty: in memory
  std::size_t max_streams = 16;  // SSE streams across both listeners (the EventHub's bound)
  std::size_t threads = 32;      // per listener: each stream holds one, the rest answer requests
};

struct WebParts {
  const Clock& clock;
  Logger& log;
  Counters& counters;
  EventHub& hub;
  DaemonBridge& daemon;
};

class WebServer {
 public:
  static Result<std::unique_ptr<WebServer>> create(WebOptions options, WebParts parts);
  ~WebServer();
  // Binds the listeners (errors name the address); ports() then tells the bound ports.
  Result<void> bind();
  int plain_port() const { return plain_port_; }
  int tls_port() const { return tls_port_; }
  void start();  // serves on background threads
  void stop();

  // Shared by the route files.
  struct Ctx;

 private:
  WebServer(WebOptions options, WebParts parts, DisplayRegistry displays);
  void setup(httplib::Server& server, bool tls);

  WebOptions options_;
  WebParts parts_;
  std::unique_ptr<Ctx> ctx_;
  std::unique_ptr<httplib::Server> plain_;
  std::unique_ptr<httplib::SSLServer> secure_;
  int plain_port_ = 0, tls_port_ = 0;
  std::thread plain_thread_, tls_thread_;
};

// What every route needs: the options, the parts, the auth state, and the helpers that answer.
struct WebServer::Ctx {
  WebOptions options;
  WebParts parts;
  SessionStore sessions;
  LoginLimiter limiter;
  PairingCodes pairing;
  DisplayRegistry displays;
  std::string local_csrf;  // the hub's own screen's CSRF token (random per start)

  // Answers {"error":{"code","message"}} with `status` and counts it.
  void fail(httplib::Response& res, int status, const std::string& code, const std::string& message) const;
  void json(httplib::Response& res, const nlohmann::json& body, int status = 200) const;
  // A carehubd answer: its result as JSON, or its error (503 when carehubd is not reachable).
  void daemon_answer(httplib::Response& res, const Result<nlohmann::json>& r) const;
  // The request's body as a JSON object, or false after answering 400/413.
  bool body(const httplib::Request& req, httplib::Response& res, nlohmann::json& out) const;
  std::optional<Session> session(const httplib::Request& req) const;
  bool tls(const httplib::Request& req) const;  // which listener it came in on
  // The display behind this request: local, paired (cookie known) or unpaired.
  DisplayAccess display(const httplib::Request& req) const;
  std::string display_csrf(const httplib::Request& req) const;
};

void add_display_routes(httplib::Server& server, WebServer::Ctx& ctx);
void add_pairing_routes(httplib::Server& server, WebServer::Ctx& ctx);
void add_tech_routes(httplib::Server& server, WebServer::Ctx& ctx);
void add_event_route(httplib::Server& server, WebServer::Ctx& ctx);

}  // namespace carehub::web
