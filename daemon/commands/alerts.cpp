// `alerts*` (carehubctl alerts): list, acknowledge for the patient (with who and why), close, and watch
// the alert events as they are committed (a stream: carehub-web's display).
#include "core/json_check.hpp"
#include "daemon/command_args.hpp"
#include "daemon/commands/groups.hpp"
#include "rules/alert_json.hpp"

namespace carehub::daemon::commands {
namespace {

Result<nlohmann::json> list(const Context& ctx, const nlohmann::json& args, const PeerCred&) {
  JsonReader in;
  in.only_keys(args, "/args", {"all", "limit"});
  AlertQuery q;
  if (auto all = in.boolean(args, "/args", "all", false)) q.include_closed = *all;
  if (auto limit = in.integer(args, "/args", "limit", false, 1, 100000)) q.limit = static_cast<std::size_t>(*limit);
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  std::lock_guard lock(ctx.reader_mu);
  auto rows = ctx.reader.alerts(q);
  if (!rows) return rows.error();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : *rows) out.push_back(rules::alert_to_json(a));
  return nlohmann::json{{"alerts", out}};
}

struct Change {
  std::string id;
  std::optional<std::string> by;
  std::optional<std::string> reason;
};

Result<Change> change_args(const nlohmann::json& args) {
  JsonReader in;
  in.only_keys(args, "/args", {"id", "by", "reason"});
  const auto id = in.string(args, "/args", "id", true);
  // `by` names who acknowledged through the client ("patient (display)" from carehub-web, a technician's
  // login with the reason they acknowledged for the patient); the peer's uid is kept beside it.
  auto by = text_arg(in, args, "by", kMaxByBytes);
  auto reason = text_arg(in, args, "reason", kMaxReasonBytes);
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  return Change{*id, std::move(by), std::move(reason)};
}

Result<nlohmann::json> acknowledge(const Context& ctx, const nlohmann::json& args, const PeerCred& peer) {
  auto change = change_args(args);
  if (!change) return change.error();
  const auto& [id, by, reason] = *change;
  // Recorded with the alert (and sent to the clinician), so the reason goes with who gave it.
  const auto decided_by = (by ? who(peer, *by) : who(peer, "carehubctl")) + (reason ? ": " + *reason : "");
  auto a = ctx.acknowledge(id, decided_by);
  if (!a) return a.error();
  // The reason is the technician's free text: it may mention the patient, so debug level only.
  if (reason) ctx.log.debug("rules", "alert-acknowledged-reason", {{"alert", id}, {"reason", *reason}});
  auto out = rules::alert_to_json(*a);
  out["acknowledged_by"] = decided_by;
  return out;
}

Result<nlohmann::json> close(const Context& ctx, const nlohmann::json& args, const PeerCred&) {
  auto change = change_args(args);
  if (!change) return change.error();
  const auto& id = change->id;
  auto events = ctx.close_alert(id);
  if (!events) return events.error();
  ctx.log.notice("rules", "alert-closed", {{"alert", id}, {"by", "carehubctl"}});
  std::lock_guard lock(ctx.reader_mu);
  auto a = ctx.reader.find_alert(id);
  if (!a) return a.error();
  if (!*a) return make_error(Errc::not_found, "no alert with id \"" + id + "\"");
  return rules::alert_to_json(**a);
}

Result<void> watch(const Context& ctx, const Request& request, ControlStream& stream) {
  if (!request.args.empty()) return make_error(Errc::invalid_argument, "/args: alerts.watch takes no arguments");
  auto sub = ctx.watch();
  if (!sub) return make_error(Errc::io, "cannot watch alerts: no eventfd");
  // The first line says the subscription is live: every event committed after it will follow.
  if (!stream.send({{"watching", true}})) return {};
  for (;;) {
    if (stream.wait(sub->fd(), std::chrono::seconds(5)) == ControlStream::Wait::closed) return {};
    std::size_t lost = 0;
    auto events = sub->take(lost);
    if (lost > 0 && !stream.send({{"lost", lost}})) return {};  // a watcher too slow to keep up is told
    for (const auto& e : events) {
      if (!stream.send(rules::event_to_json(e))) return {};
    }
  }
}

constexpr Command kCommands[] = {
    {"alerts", list},
    {"alerts.ack", acknowledge},
    {"alerts.close", close},
    {"alerts.watch", nullptr, watch},
};

}  // namespace

std::span<const Command> alerts_commands() { return kCommands; }

}  // namespace carehub::daemon::commands
