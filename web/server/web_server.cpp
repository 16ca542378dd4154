#include "web/server/web_server.hpp"

#include "web/server/request_input.hpp"
#include "web/server/secrets.hpp"

namespace carehub::web {
namespace {

using httplib::Request;
using httplib::Response;
using HR = httplib::Server::HandlerResponse;

// No inline script and nothing from elsewhere: the pages ship in the .deb and work offline.
constexpr const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

bool starts_with(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

}  // namespace

void WebServer::Ctx::fail(Response& res, int status, const std::string& code, const std::string& message) const {
  parts.counters.add("http_refused");
  json(res, {{"error", {{"code", code}, {"message", message}}}}, status);
}

void WebServer::Ctx::json(Response& res, const nlohmann::json& body, int status) const {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void WebServer::Ctx::daemon_answer(Response& res, const Result<nlohmann::json>& r) const {
  if (r) return json(res, *r);
  const auto& e = r.error();
  // ControlClient says "cannot connect" / "closed the connection" when carehubd itself is not there.
  if (e.code == Errc::unavailable &&
      (e.message.rfind("cannot connect", 0) == 0 || e.message.rfind("carehubd closed", 0) == 0 ||
       e.message.rfind("sending to carehubd", 0) == 0)) {
    return fail(res, 503, "daemon-unavailable", "carehubd is not reachable: " + e.message);
  }
  const int status = e.code == Errc::invalid_argument ? 400 : e.code == Errc::not_found ? 404 : 502;
  parts.counters.add("daemon_errors");
  json(res, {{"error", {{"code", "daemon-error"}, {"daemon_code", std::string(to_string(e.code))}, {"message", e.message}}}},
       status);
}

bool WebServer::Ctx::body(const Request& req, Response& res, nlohmann::json& out) const {
  auto parsed = parse_json_body(req.body, req.get_header_value("Content-Type"));
  if (!parsed) {
    parts.counters.add("http_bad_requests");
    fail(res, parsed.error().code == Errc::full ? 413 : 400, parsed.error().code == Errc::full ? "too-large" : "bad-request",
         parsed.error().message);
    return false;
  }
  out = std::move(*parsed);
  return true;
}

std::optional<Session> WebServer::Ctx::session(const Request& req) const {
  auto id = cookie_value(req.get_header_value("Cookie"), "carehub_session");
  if (!id) return std::nullopt;
  return const_cast<SessionStore&>(sessions).touch(*id);
}

bool WebServer::Ctx::tls(const Request& req) const { return req.ssl != nullptr; }

DisplayAccess WebServer::Ctx::display(const Request& req) const {
  auto token = cookie_value(req.get_header_value("Cookie"), "carehub_display");
  return display_access(req.remote_addr, token && displays.known(*token));
}

std::string WebServer::Ctx::display_csrf(const Request& req) const {
  if (display(req) == DisplayAccess::local) return local_csrf;
  auto token = cookie_value(req.get_header_value("Cookie"), "carehub_display");
  // Derived from the display's secret: only a page that can read our answers learns it.
  return token ? sha256_hex("csrf:" + *token) : std::string();
}

Result<std::unique_ptr<WebServer>> WebServer::create(WebOptions options, WebParts parts) {
  auto displays = DisplayRegistry::open(options.displays_file, parts.clock);
  if (!displays) return displays.error();
  if (!options.home_host.empty() && (options.tls_cert.empty() || options.tls_key.empty())) {
    return make_error(Errc::invalid_argument, "the home network needs TLS: give --tls-cert and --tls-key (or --tls-generate)");
  }
  return std::unique_ptr<WebServer>(new WebServer(std::move(options), parts, std::move(*displays)));
}

WebServer::WebServer(WebOptions options, WebParts parts, DisplayRegistry displays)
    : options_(std::move(options)), parts_(parts) {
  auto csrf = random_hex(32);
  ctx_.reset(new Ctx{options_, parts_, SessionStore(parts.clock), LoginLimiter(parts.clock), PairingCodes(parts.clock),
                     std::move(displays), csrf ? *csrf : std::string()});
}

WebServer::~WebServer() { stop(); }

void WebServer::setup(httplib::Server& server, bool tls) {
  auto& ctx = *ctx_;
  const auto threads = options_.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(kMaxBodyBytes);
  server.set_read_timeout(10, 0);
  server.set_write_timeout(10, 0);
  server.set_keep_alive_timeout(5);
  server.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                              {"X-Frame-Options", "DENY"},
                              {"Referrer-Policy", "no-referrer"},
                              {"Content-Security-Policy", kCsp}});
  if (tls) server.set_default_headers({{"X-Content-Type-Options", "nosniff"}, {"X-Frame-Options", "DENY"},
                                       {"Referrer-Policy", "no-referrer"}, {"Content-Security-Policy", kCsp},
                                       {"Strict-Transport-Security", "max-age=31536000"}});
  server.set_pre_routing_handler([&ctx, tls](const Request& req, Response& res) {
    ctx.parts.counters.add("http_requests");
    std::size_t header_bytes = 0;
    for (const auto& [k, v] : req.headers) header_bytes += k.size() + v.size() + 4;
    if (req.headers.size() > kMaxHeaders || header_bytes > kMaxHeaderBytes) {
      ctx.fail(res, 431, "too-large", "request headers: more than " + std::to_string(kMaxHeaders) + " or " +
                                          std::to_string(kMaxHeaderBytes) + " bytes");
      return HR::Handled;
    }
    if (!transport_allowed(req.remote_addr, tls)) {
      ctx.parts.counters.add("tls_required_refused");
      ctx.fail(res, 421, "tls-required", "requests from the home network must use the TLS listener (https)");
      return HR::Handled;
    }
    if (starts_with(req.path, "/api/")) res.set_header("Cache-Control", "no-store");
    const bool post = req.method != "GET" && req.method != "HEAD";
    if (post && !origin_allowed(req.get_header_value("Origin"), req.get_header_value("Host"), tls)) {
      ctx.parts.counters.add("csrf_refused");
      ctx.fail(res, 403, "csrf", "the request's Origin is not this server");
      return HR::Handled;
    }
    if (starts_with(req.path, "/api/tech/") && req.path != "/api/tech/login") {
      auto s = ctx.session(req);
      if (!s) {
        ctx.fail(res, 401, "unauthorized", "log in first (no session, or it expired)");
        return HR::Handled;
      }
      if (post && !constant_time_equal(req.get_header_value("X-CSRF-Token"), s->csrf)) {
        ctx.parts.counters.add("csrf_refused");
        ctx.fail(res, 403, "csrf", "missing or wrong X-CSRF-Token header");
        return HR::Handled;
      }
    }
    if (starts_with(req.path, "/api/display/") || req.path == "/api/i18n") {
      const auto access = ctx.display(req);
      if (access == DisplayAccess::unpaired) {
        ctx.fail(res, 401, "pairing-required", "this display is not paired with the hub: enter the code shown on the hub");
        return HR::Handled;
      }
      if (post && !constant_time_equal(req.get_header_value("X-CSRF-Token"), ctx.display_csrf(req))) {
        ctx.parts.counters.add("csrf_refused");
        ctx.fail(res, 403, "csrf", "missing or wrong X-CSRF-Token header");
        return HR::Handled;
      }
    }
    return HR::Unhandled;
  });
  server.set_error_handler([&ctx](const Request&, Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) ctx.parts.counters.add("http_too_large");
    const std::string code = res.status == 404 ? "not-found" : res.status == 413 ? "too-large" : "bad-request";
    ctx.json(res, {{"error", {{"code", code}, {"message", res.status == 413 ? "body: more than 65536 bytes"
                                                         : res.status == 404 ? "no such page or endpoint"
                                                                             : "the request could not be read"}}}},
             res.status);
  });
  server.set_exception_handler([&ctx](const Request&, Response& res, std::exception_ptr) {
    ctx.fail(res, 500, "internal", "internal error");
  });
  if (!options_.i18n_dir.empty()) server.set_mount_point("/i18n", options_.i18n_dir);
  if (!options_.uplot_dir.empty()) server.set_mount_point("/vendor/uplot", options_.uplot_dir);
  server.Get("/", [](const Request&, Response& res) { res.set_redirect("/display/"); });
  if (!options_.static_dir.empty()) server.set_mount_point("/", options_.static_dir);
  add_display_routes(server, ctx);
  add_pairing_routes(server, ctx);
  add_tech_routes(server, ctx);
  add_event_route(server, ctx);
}

Result<void> WebServer::bind() {
  plain_ = std::make_unique<httplib::Server>();
  setup(*plain_, false);
  plain_port_ = options_.listen_port == 0 ? plain_->bind_to_any_port(options_.listen_host)
                                          : (plain_->bind_to_port(options_.listen_host, options_.listen_port) ? options_.listen_port : -1);
  if (plain_port_ <= 0) {
    return make_error(Errc::io, "cannot listen on " + options_.listen_host + ":" + std::to_string(options_.listen_port));
  }
  if (options_.home_host.empty()) return {};
  secure_ = std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(), options_.tls_key.c_str());
  if (!secure_->is_valid()) return make_error(Errc::invalid_argument, "cannot load the TLS certificate or key (" + options_.tls_cert + ")");
  setup(*secure_, true);
  tls_port_ = options_.home_port == 0 ? secure_->bind_to_any_port(options_.home_host)
                                      : (secure_->bind_to_port(options_.home_host, options_.home_port) ? options_.home_port : -1);
  if (tls_port_ <= 0) return make_error(Errc::io, "cannot listen on " + options_.home_host + ":" + std::to_string(options_.home_port));
  return {};
}

void WebServer::start() {
  if (plain_) plain_thread_ = std::thread([this] { plain_->listen_after_bind(); });
  if (secure_) tls_thread_ = std::thread([this] { secure_->listen_after_bind(); });
}

void WebServer::stop() {
  parts_.hub.close();  // ends every SSE stream, so the thread pools can drain
  if (plain_) plain_->stop();
  if (secure_) secure_->stop();
  if (plain_thread_.joinable()) plain_thread_.join();
  if (tls_thread_.joinable()) tls_thread_.join();
}

}  // namespace carehub::web
