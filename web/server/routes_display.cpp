// The patient display's endpoints and the SSE stream (web/API.md, "Patient display"). guard() in
// web_server.cpp has already refused unpaired home-network clients and checked the CSRF token.
#include <chrono>

#include "core/time.hpp"
#include "web/server/home_view.hpp"
#include "web/server/request_input.hpp"
#include "web/server/web_server.hpp"

namespace carehub::web {

using httplib::Request;
using httplib::Response;

void add_display_routes(httplib::Server& server, WebServer::Ctx& ctx) {
  server.Get("/api/display/session", [&ctx](const Request& req, Response& res) {
    const auto access = ctx.display(req);
    ctx.json(res, {{"kind", access == DisplayAccess::local ? "local" : "paired"},
                   {"csrf", ctx.display_csrf(req)},
                   {"language", ctx.options.language}});
  });

  server.Get("/api/i18n", [&ctx](const Request&, Response& res) { ctx.json(res, {{"language", ctx.options.language}}); });

  server.Get("/api/display/home", [&ctx](const Request&, Response& res) {
    const auto now = ctx.parts.clock.now();
    auto status = ctx.parts.daemon.call("status");
    if (!status) return ctx.daemon_answer(res, status);
    const auto patient = status->value("patient", std::string());
    auto alerts = ctx.parts.daemon.call("alerts");
    if (!alerts) return ctx.daemon_answer(res, alerts);
    nlohmann::json latest = nlohmann::json::array();
    for (const auto& kind : display_kinds()) {
      // Newest by measurement time; a few rows so one unassigned or quarantined reading does not hide
      // the patient's own.
      auto rows = ctx.parts.daemon.call("measurements", {{"kind", kind}, {"limit", 20}, {"by_time", true}});
      if (!rows) return ctx.daemon_answer(res, rows);
      auto one = latest_reading((*rows)["readings"], patient);
      if (!one.is_null()) latest.push_back(std::move(one));
    }
    auto view = alert_view((*alerts)["alerts"], patient, now);
    view["time"] = format_rfc3339(now);
    view["language"] = ctx.options.language;
    view["daemon"] = {{"reachable", true}};
    view["latest"] = std::move(latest);
    view["attention"] = devices_needing_attention(status->value("devices", nlohmann::json::array()), now);
    ctx.json(res, view);
  });

  server.Get("/api/display/series", [&ctx](const Request& req, Response& res) {
    const auto kind = req.get_param_value("kind");
    if (kind != "blood-pressure" && kind != "body-weight") {
      return ctx.fail(res, 400, "bad-request", "query parameter kind: expected blood-pressure or body-weight");
    }
    auto days = query_integer("days", req.get_param_value("days"), req.has_param("days"), 1, 90, 30);
    if (!days) return ctx.fail(res, 400, "bad-request", days.error().message);
    const auto now = ctx.parts.clock.now();
    auto status = ctx.parts.daemon.call("status");
    if (!status) return ctx.daemon_answer(res, status);
    auto rows = ctx.parts.daemon.call("measurements", {{"kind", kind},
                                                      {"from", format_rfc3339(now - std::chrono::hours(24 * *days))},
                                                      {"by_time", true},
                                                      {"oldest_first", true},
                                                      {"limit", 5000}});
    if (!rows) return ctx.daemon_answer(res, rows);
    ctx.json(res, {{"kind", kind}, {"days", *days}, {"points", series_points((*rows)["readings"], status->value("patient", std::string()))}});
  });

  server.Post(R"(/api/display/alerts/([^/]+)/ack)", [&ctx](const Request& req, Response& res) {
    nlohmann::json body;
    if (!ctx.body(req, res, body)) return;
    const std::string id = req.matches[1];
    if (!valid_id(id)) return ctx.fail(res, 400, "bad-request", "alert id: expected 1-128 of A-Z a-z 0-9 . _ : -");
    // The same command as `carehubctl alerts ack`: durable when carehubd answers; `by` is recorded
    // beside carehub-web's own uid.
    auto r = ctx.parts.daemon.call("alerts.ack", {{"id", id}, {"by", "patient (display)"}});
    if (r) ctx.parts.hub.publish({"action", {{"action", "alert-acknowledged"}, {"alert", id}, {"by", "patient (display)"}}, false});
    ctx.daemon_answer(res, r);
  });
}

void add_event_route(httplib::Server& server, WebServer::Ctx& ctx) {
  server.Get("/api/events", [&ctx](const Request& req, Response& res) {
    const bool technician = ctx.session(req).has_value();
    if (!technician && ctx.display(req) == DisplayAccess::unpaired) {
      return ctx.fail(res, 401, "pairing-required", "this display is not paired with the hub");
    }
    std::shared_ptr<EventHub::Subscription> sub = ctx.parts.hub.subscribe(technician);
    if (!sub) return ctx.fail(res, 503, "busy", "too many live streams open; the page retries");
    ctx.parts.counters.add("sse_streams");
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    auto first = std::make_shared<bool>(true);
    // A paired display's stream ends once the technician revokes it (checked at each wake-up, ≤ 15 s).
    const auto token = cookie_value(req.get_header_value("Cookie"), "carehub_display");
    const bool must_stay_paired = !technician && ctx.display(req) == DisplayAccess::paired;
    res.set_chunked_content_provider("text/event-stream", [&ctx, sub, first, token, must_stay_paired](std::size_t,
                                                                                                     httplib::DataSink& sink) {
      if (*first) {
        *first = false;
        // retry: how long the browser waits before reconnecting by itself (EventSource).
        const std::string hello =
            "retry: 2000\n\n" + sse_frame({"hello", {{"daemon", ctx.parts.daemon.reachable()}}, true});
        return sink.write(hello.data(), hello.size());
      }
      auto events = sub->wait(std::chrono::seconds(15));
      if (sub->closed() || (must_stay_paired && !(token && ctx.displays.known(*token)))) {
        sink.done();
        return true;
      }
      std::string out = events.empty() ? std::string(": keep-alive\n\n") : std::string();
      for (const auto& e : events) out += sse_frame(e);
      return sink.write(out.data(), out.size());
    });
  });
}

}  // namespace carehub::web
