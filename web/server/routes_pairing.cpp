// Pairing a display on the home network (web/API.md, "Pairing a home-network display"): a tablet asks,
// the hub's own screen (loopback only) shows a one-time code, the tablet sends it back and gets its
// long-lived cookie. Guesses are rate limited per address like logins, and each code dies after a few.
#include "core/time.hpp"
#include "web/server/request_input.hpp"
#include "web/server/web_server.hpp"

namespace carehub::web {

using httplib::Request;
using httplib::Response;

namespace {

bool locked(WebServer::Ctx& ctx, const Request& req, Response& res) {
  const auto wait = ctx.limiter.locked_for("pair:" + req.remote_addr);
  if (wait.count() == 0) return false;
  res.set_header("Retry-After", std::to_string(wait.count()));
  ctx.fail(res, 429, "rate-limited", "too many attempts: try again in " + std::to_string(wait.count()) + " s");
  return true;
}

}  // namespace

void add_pairing_routes(httplib::Server& server, WebServer::Ctx& ctx) {
  server.Post("/api/pair/request", [&ctx](const Request& req, Response& res) {
    nlohmann::json body;
    if (!ctx.body(req, res, body) || locked(ctx, req, res)) return;
    // Each request counts as an attempt too: nobody on the network can keep the hub's screen busy.
    ctx.limiter.failed("pair:" + req.remote_addr);
    auto code = ctx.pairing.start();
    if (!code) return ctx.fail(res, 500, "internal", code.error().message);
    ctx.parts.log.notice("web", "pairing-started", {{"client", req.remote_addr}});
    // The code itself only to the hub's own screen, which reads /api/pair/code when told.
    ctx.parts.hub.publish({"pairing", {{"active", true}}, true});
    ctx.json(res, {{"started", true}, {"expires_in_s", 300}});
  });

  server.Get("/api/pair/code", [&ctx](const Request& req, Response& res) {
    if (!is_loopback(req.remote_addr)) return ctx.fail(res, 403, "forbidden", "the pairing code is shown only on the hub's own screen");
    auto shown = ctx.pairing.current();
    if (!shown) return ctx.json(res, {{"code", nullptr}});
    ctx.json(res, {{"code", shown->code}, {"expires", format_rfc3339(shown->expires)}});
  });

  server.Post("/api/pair/confirm", [&ctx](const Request& req, Response& res) {
    nlohmann::json body;
    if (!ctx.body(req, res, body) || locked(ctx, req, res)) return;
    auto it = body.find("code");
    if (it == body.end() || !it->is_string() || it->get<std::string>().size() != 6) {
      return ctx.fail(res, 400, "bad-request", "/code: expected the six digits shown on the hub");
    }
    if (!ctx.pairing.confirm(it->get<std::string>())) {
      ctx.limiter.failed("pair:" + req.remote_addr);
      ctx.parts.counters.add("pairing_failures");
      ctx.parts.log.notice("web", "pairing-failed", {{"client", req.remote_addr}});
      return ctx.fail(res, 403, "pairing-failed", "wrong or expired code: ask the hub for a new one");
    }
    auto token = ctx.displays.add();
    if (!token) return ctx.fail(res, 500, "internal", token.error().message);
    ctx.limiter.succeeded("pair:" + req.remote_addr);
    ctx.parts.counters.add("displays_paired");
    ctx.parts.log.notice("web", "display-paired", {{"client", req.remote_addr}});
    ctx.parts.hub.publish({"pairing", {{"active", false}}, true});
    std::string cookie = "carehub_display=" + *token + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000";
    if (ctx.tls(req)) cookie += "; Secure";
    res.set_header("Set-Cookie", cookie);
    res.status = 204;
  });
}

}  // namespace carehub::web
