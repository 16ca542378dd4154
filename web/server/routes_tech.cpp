// The technician console's endpoints (web/API.md, "Technician console"). guard() has already required a
// live session and its CSRF token for everything here but login. Each action is the control command
// carehubctl sends for it, so the console can do what the CLI does on site, and nothing more.
#include "web/server/request_input.hpp"
#include "web/server/secrets.hpp"
#include "web/server/web_server.hpp"

namespace carehub::web {

using httplib::Request;
using httplib::Response;

namespace {

std::string cookie(const std::string& name, const std::string& value, bool tls, const std::string& extra = "") {
  return name + "=" + value + "; Path=/; HttpOnly; SameSite=Strict" + (tls ? "; Secure" : "") + extra;
}

// GET endpoints that are one command with arguments from the query string.
void add_reads(httplib::Server& server, WebServer::Ctx& ctx) {
  auto plain = [&ctx, &server](const char* path, const char* cmd) {
    server.Get(path, [&ctx, cmd](const Request&, Response& res) { ctx.daemon_answer(res, ctx.parts.daemon.call(cmd)); });
  };
  plain("/api/tech/status", "status");
  plain("/api/tech/devices", "devices.list");
  plain("/api/tech/devices/bindings", "devices.bindings");
  plain("/api/tech/readings/unassigned", "readings.unassigned");
  plain("/api/tech/sync", "sync.status");
  plain("/api/tech/sync/dead", "sync.dead");
  server.Get("/api/tech/readings", [&ctx](const Request& req, Response& res) {
    auto limit = query_integer("limit", req.get_param_value("limit"), req.has_param("limit"), 1, 10000, 100);
    if (!limit) return ctx.fail(res, 400, "bad-request", limit.error().message);
    nlohmann::json args = {{"limit", *limit}};
    if (req.has_param("state")) args["state"] = req.get_param_value("state");  // carehubd names a wrong one
    ctx.daemon_answer(res, ctx.parts.daemon.call("measurements", args));
  });
  server.Get("/api/tech/alerts", [&ctx](const Request& req, Response& res) {
    ctx.daemon_answer(res, ctx.parts.daemon.call("alerts", {{"all", req.get_param_value("all") == "true"}}));
  });
  server.Get("/api/tech/events", [&ctx](const Request&, Response& res) { ctx.json(res, {{"events", ctx.parts.hub.recent()}}); });
  server.Get("/api/tech/displays", [&ctx](const Request&, Response& res) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& d : ctx.displays.list()) list.push_back({{"id", d.id}, {"paired", d.paired}});
    ctx.json(res, {{"displays", list}});
  });
  server.Get("/api/tech/web", [&ctx](const Request&, Response& res) {
    ctx.json(res, {{"listen", ctx.options.listen_host + ":" + std::to_string(ctx.options.listen_port)},
                   {"home_network", ctx.options.home_host.empty() ? nlohmann::json(nullptr)
                                                                  : nlohmann::json(ctx.options.home_host + ":" + std::to_string(ctx.options.home_port))},
                   {"daemon_reachable", ctx.parts.daemon.reachable()},
                   {"streams", ctx.parts.hub.subscribers()},
                   {"sessions", ctx.sessions.size()},
                   {"counters", ctx.parts.counters.snapshot()}});
  });
}

}  // namespace

void add_tech_routes(httplib::Server& server, WebServer::Ctx& ctx) {
  server.Post("/api/tech/login", [&ctx](const Request& req, Response& res) {
    nlohmann::json body;
    if (!ctx.body(req, res, body)) return;
    const auto wait = ctx.limiter.locked_for(req.remote_addr);
    if (wait.count() > 0) {
      ctx.parts.counters.add("login_locked");
      res.set_header("Retry-After", std::to_string(wait.count()));
      return ctx.fail(res, 429, "rate-limited", "too many failed logins: try again in " + std::to_string(wait.count()) + " s");
    }
    if (ctx.options.password_hash.empty()) {
      return ctx.fail(res, 503, "login-off", "no technician password is configured (carehub-web --hash-password)");
    }
    const auto user = body.value("user", nlohmann::json(nullptr));
    const auto password = body.value("password", nlohmann::json(nullptr));
    if (!user.is_string() || !password.is_string() || user.get<std::string>().size() > 64 ||
        password.get<std::string>().size() > 1024) {
      return ctx.fail(res, 400, "bad-request", "expected {\"user\": string ≤ 64 bytes, \"password\": string ≤ 1024 bytes}");
    }
    // The hash is checked whatever the user name, so a wrong name takes as long as a wrong password.
    const bool password_ok = verify_password(password.get<std::string>(), ctx.options.password_hash);
    if (!password_ok || user.get<std::string>() != ctx.options.technician) {
      ctx.limiter.failed(req.remote_addr);
      ctx.parts.counters.add("login_failures");
      ctx.parts.log.notice("web", "login-failed", {{"client", req.remote_addr}});
      return ctx.fail(res, 401, "login-failed", "wrong user or password");
    }
    ctx.limiter.succeeded(req.remote_addr);
    auto s = ctx.sessions.create(ctx.options.technician);
    if (!s) return ctx.fail(res, 500, "internal", s.error().message);
    ctx.parts.counters.add("logins");
    ctx.parts.log.notice("web", "login", {{"user", s->user}, {"client", req.remote_addr}});
    ctx.parts.hub.publish({"action", {{"action", "login"}, {"user", s->user}, {"client", req.remote_addr}}, false});
    res.set_header("Set-Cookie", cookie("carehub_session", s->id, ctx.tls(req)));
    ctx.json(res, {{"user", s->user}, {"csrf", s->csrf}, {"expires_idle_s", ctx.sessions.options().idle.count()}});
  });

  server.Post("/api/tech/logout", [&ctx](const Request& req, Response& res) {
    if (auto id = cookie_value(req.get_header_value("Cookie"), "carehub_session")) ctx.sessions.remove(*id);
    res.set_header("Set-Cookie", cookie("carehub_session", "", ctx.tls(req), "; Max-Age=0"));
    res.status = 204;
  });

  server.Get("/api/tech/session", [&ctx](const Request& req, Response& res) {
    auto s = ctx.session(req);  // guard() made sure there is one
    ctx.json(res, {{"user", s->user}, {"csrf", s->csrf}});
  });

  add_reads(server, ctx);

  // POST endpoints: the body is the command's arguments (carehubd checks every key and names a bad one).
  struct Action {
    const char* path;
    const char* cmd;
    bool by;  // the command records who decided: the technician's login
  };
  static const Action kActions[] = {
      {"/api/tech/devices/scan", "devices.scan", false},     {"/api/tech/devices/forget", "devices.forget", false},
      {"/api/tech/devices/unbind", "devices.unbind", false}, {"/api/tech/devices/users", "devices.users", false},
      {"/api/tech/readings/assign", "readings.assign", true}, {"/api/tech/readings/discard", "readings.discard", true},
      {"/api/tech/sync/now", "sync.now", false},             {"/api/tech/sync/retry", "sync.retry-dead", false},
      {"/api/tech/config/check", "config.check", false},     {"/api/tech/config/reload", "config.reload", false},
  };
  for (const auto& a : kActions) {
    server.Post(a.path, [&ctx, a](const Request& req, Response& res) {
      nlohmann::json args;
      if (!ctx.body(req, res, args)) return;
      auto s = ctx.session(req);
      if (a.by) args["by"] = s->user + " (web)";
      args["web_user"] = s->user;  // who, for carehubd's audit trail (it believes this from our uid only)
      auto r = ctx.parts.daemon.call(a.cmd, args);
      ctx.parts.hub.publish({"action", {{"action", a.cmd}, {"user", s->user}, {"ok", bool(r)}}, false});
      ctx.daemon_answer(res, r);
    });
  }

  server.Post("/api/tech/devices/assign", [&ctx](const Request& req, Response& res) {
    nlohmann::json args;
    if (!ctx.body(req, res, args)) return;
    auto s = ctx.session(req);
    if (args.contains("user")) args["by"] = s->user + " (web)";  // a user slot's binding records who
    args["web_user"] = s->user;
    ctx.daemon_answer(res, ctx.parts.daemon.call("devices.assign", args));
  });

  server.Post("/api/tech/devices/pair", [&ctx](const Request& req, Response& res) {
    nlohmann::json args;
    if (!ctx.body(req, res, args)) return;
    auto s = ctx.session(req);
    // As `carehubctl devices pair --patient P` (no --user): pair, then assign the whole device.
    nlohmann::json patient = nullptr;
    if (auto it = args.find("patient"); it != args.end()) {
      patient = *it;
      args.erase("patient");
    }
    if (args.contains("users")) args["by"] = s->user + " (web)";
    args["web_user"] = s->user;
    auto paired = ctx.parts.daemon.call("devices.pair", args);
    ctx.parts.hub.publish({"action", {{"action", "devices.pair"}, {"user", s->user}, {"ok", bool(paired)}}, false});
    if (!paired || patient.is_null()) return ctx.daemon_answer(res, paired);
    auto assigned = ctx.parts.daemon.call("devices.assign", {{"address", args.value("address", nlohmann::json(nullptr))}, {"patient", patient}, {"web_user", s->user}});
    if (!assigned) return ctx.daemon_answer(res, assigned);
    auto out = *paired;
    out["device"] = (*assigned)["device"];
    ctx.json(res, out);
  });

  server.Post(R"(/api/tech/alerts/([^/]+)/ack)", [&ctx](const Request& req, Response& res) {
    nlohmann::json body;
    if (!ctx.body(req, res, body)) return;
    const std::string id = req.matches[1];
    if (!valid_id(id)) return ctx.fail(res, 400, "bad-request", "alert id: expected 1-128 of A-Z a-z 0-9 . _ : -");
    const auto reason = body.value("reason", nlohmann::json(nullptr));
    if (!reason.is_string() || reason.get<std::string>().empty() || reason.get<std::string>().size() > 500) {
      return ctx.fail(res, 400, "bad-request", "/reason: expected why you acknowledge for the patient (1-500 bytes)");
    }
    auto s = ctx.session(req);
    // Who, as carehubd records it: the login, on the patient's behalf (kept beside carehub-web's uid).
    auto r = ctx.parts.daemon.call("alerts.ack", {{"id", id}, {"by", s->user + " (technician, for the patient)"}, {"reason", reason}, {"web_user", s->user}});
    ctx.parts.hub.publish({"action", {{"action", "alert-acknowledged"}, {"alert", id}, {"user", s->user}, {"ok", bool(r)}}, false});
    ctx.daemon_answer(res, r);
  });

  server.Post(R"(/api/tech/displays/([^/]+)/revoke)", [&ctx](const Request& req, Response& res) {
    const std::string id = req.matches[1];
    auto r = ctx.displays.revoke(id);
    if (!r) return ctx.fail(res, 500, "internal", r.error().message);
    if (!*r) return ctx.fail(res, 404, "not-found", "no paired display with that id");
    ctx.json(res, {{"revoked", id}});
  });
}

}  // namespace carehub::web
