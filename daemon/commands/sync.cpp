// `sync.*` (carehubctl sync): upload now (and wait for the buffer to drain), the uploader's state, the
// dead letters the FHIR server refused, and queueing them again.
#include "core/json_check.hpp"
#include "core/time.hpp"
#include "daemon/commands/groups.hpp"

namespace carehub::daemon::commands {
namespace {

Result<nlohmann::json> sync_now(const Context& ctx, const nlohmann::json& args, const PeerCred&) {
  JsonReader in;
  in.only_keys(args, "/args", {"wait_s"});
  const auto wait = in.number(args, "/args", "wait_s", false, 0, 3600);
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  if (ctx.config()->upload.base_url.empty()) {
    return make_error(Errc::unavailable, "sync is off: no FHIR base URL configured (/fhir/base_url)");
  }
  if (!wait || *wait <= 0) {
    ctx.uploader()->sync_now();
    return nlohmann::json{{"started", true}};
  }
  const auto deadline = ctx.clock.monotonic() + std::chrono::milliseconds(static_cast<long long>(*wait * 1000));
  bool idle = false;
  for (;;) {
    // This command's own reference: a reload may replace the uploader meanwhile. It stops the old one,
    // which ends the wait on it, and this wait goes on with the new one for the time that is left.
    const auto uploader = ctx.uploader();
    if (*ctx.stopping) return stopping_error();
    if (!uploader->status().enabled) {
      return make_error(Errc::unavailable, "sync was turned off by a reload: no FHIR base URL configured (/fhir/base_url)");
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - ctx.clock.monotonic());
    if (left <= std::chrono::milliseconds::zero()) break;
    if (uploader->wait_idle(left)) {
      idle = true;
      break;
    }
    // stop() sets stopping before it stops the uploader, so a wait it ended sees it here.
    if (*ctx.stopping) return stopping_error();
    if (ctx.uploader() == uploader) break;  // the time is up on the running uploader
  }
  auto s = ctx.gather();
  if (!s) return s.error();
  if (!idle) {
    return make_error(Errc::timeout, "sync did not finish within " + nlohmann::json(*wait).dump() +
                                         " s: " + nlohmann::json(s->counts.pending).dump() + " pending; last error: " +
                                         s->sync.last_error);
  }
  return nlohmann::json{{"idle", true}, {"buffer", buffer_json(*s)}};
}

Result<nlohmann::json> sync_status(const Context& ctx, const nlohmann::json&, const PeerCred&) {
  auto s = ctx.gather();
  if (!s) return s.error();
  auto out = sync_json(*s);
  out["pending"] = s->counts.pending;
  out["dead"] = s->counts.dead;
  return out;
}

Result<nlohmann::json> sync_dead(const Context& ctx, const nlohmann::json& args, const PeerCred& peer) {
  nlohmann::json a = args;
  a["state"] = "dead";
  auto out = measurements(ctx, a, peer);
  if (!out) return out;
  std::lock_guard lock(ctx.reader_mu);
  auto alerts = ctx.reader.dead_alerts(1000);
  if (!alerts) return alerts.error();
  auto& list = (*out)["dead_alerts"] = nlohmann::json::array();
  for (const auto& d : *alerts) {
    list.push_back({{"id", d.id}, {"rule", d.rule}, {"raised", format_rfc3339(d.raised)}, {"reason", d.reason}});
  }
  return out;
}

Result<nlohmann::json> sync_retry_dead(const Context& ctx, const nlohmann::json&, const PeerCred&) {
  std::int64_t moved = 0;
  auto r = ctx.pipeline
               .apply([&moved](StoreWriter& w) -> Result<void> {
                 auto n = w.requeue_dead();
                 if (!n) return n.error();
                 moved = *n;
                 return {};
               })
               .get();
  if (!r) return r.error();
  ctx.uploader()->sync_now();
  ctx.log.notice("sync", "dead-letters-requeued", {{"count", moved}, {"by", "technician"}});
  return nlohmann::json{{"requeued", moved}};
}

constexpr Command kCommands[] = {
    {"sync.now", sync_now},
    {"sync.status", sync_status},
    {"sync.dead", sync_dead},
    {"sync.retry-dead", sync_retry_dead},
};

}  // namespace

std::span<const Command> sync_commands() { return kCommands; }

}  // namespace carehub::daemon::commands
