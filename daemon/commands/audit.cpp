// The audit trail over the control socket (issue 18): the hook Table::dispatch runs audited commands in
// (daemon/commands/audit.hpp), and `audit.list`, which carehubctl audit shows.
//
//   audit.list {"since"?: RFC 3339, "actor"?: "…", "action"?: "devices." | "alerts.ack", "limit"?: 1..10000}
//       -> {"events": [{seq, uid, time, action, actor, actor_kind, on_behalf_of, patient, entities, outcome,
//                       detail, synced}]}
#include <pwd.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "core/json_check.hpp"
#include "core/time.hpp"
#include "daemon/command_args.hpp"
#include "daemon/commands/audit.hpp"
#include "daemon/commands/groups.hpp"

namespace carehub::daemon::commands {
namespace {

constexpr std::array<std::string_view, 11> kAudited = {
    "devices.pair",     "devices.assign", "devices.forget",  "devices.unbind",  "alerts.ack",   "alerts.close",
    "readings.assign",  "readings.discard", "sync.retry-dead", "config.reload", "consent.set"};

constexpr std::string_view kWebService = "carehub-web";  // systemd/carehub-web.service's User=

std::string text(const nlohmann::json& args, std::string_view key) {
  if (!args.is_object()) return {};
  const auto it = args.find(key);
  return it != args.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

uid_t web_service_uid() {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwnam_r(std::string(kWebService).c_str(), &pw, buf.data(), buf.size(), &found) == 0 && found) {
    return found->pw_uid;
  }
  return static_cast<uid_t>(-1);  // no such account: no peer is the web service
}

// What the command is about, from its arguments (the handler has not run yet).
void describe(const Context& ctx, const std::string& cmd, const nlohmann::json& args, AuditEvent& e) {
  e.patient = text(args, "patient");
  if (cmd.starts_with("devices.")) {
    auto device = text(args, "device");
    if (device.empty()) device = text(args, "address");
    if (!device.empty()) e.entities.push_back({"Device", device});
    if (e.patient.empty() && args.is_object() && args.contains("users") && args["users"].is_array()) {
      for (const auto& u : args["users"]) {
        if (u.is_object() && u.contains("patient") && u["patient"].is_string()) {
          e.entities.push_back({"Patient", u["patient"].get<std::string>()});
        }
      }
    }
  } else if (cmd.starts_with("alerts.")) {
    const auto id = text(args, "id");
    if (!id.empty()) e.entities.push_back({"DetectedIssue", id});
    std::lock_guard lock(ctx.reader_mu);
    if (auto a = ctx.reader.find_alert(id); a && *a) e.patient = (*a)->patient;
    // Acknowledged by anyone but the patient on the display: on the patient's behalf.
    const auto by = text(args, "by");
    if (cmd == "alerts.ack" && !by.starts_with("patient") && !e.patient.empty()) e.on_behalf_of = e.patient;
  } else if (cmd.starts_with("readings.")) {
    if (args.is_object() && args.contains("uids") && args["uids"].is_array()) {
      for (const auto& uid : args["uids"]) {
        if (uid.is_string()) e.entities.push_back({"Observation", uid.get<std::string>()});
      }
    }
  } else if (cmd == "config.reload") {
    if (ctx.config) e.entities.push_back({"Configuration", ctx.config()->source});
  }
  if (!e.patient.empty() && std::find(e.entities.begin(), e.entities.end(), AuditEntity{"Patient", e.patient}) ==
                                e.entities.end()) {
    e.entities.push_back({"Patient", e.patient});
  }
  if (!text(args, "reason").empty()) e.detail = "reason given";  // the words may name the patient: not copied
}

// What the answer adds once the change is made (the device id the source gave a pairing, how many moved).
void add_result(const std::string& cmd, const nlohmann::json& result, AuditEvent& e) {
  if (!result.is_object()) return;
  if (cmd.starts_with("devices.") && result.contains("device") && result["device"].is_object()) {
    const auto id = result["device"].value("id", std::string{});
    if (!id.empty()) e.entities.push_back({"Device", id});
  }
  for (const auto* key : {"requeued", "discarded", "was_bound"}) {
    if (result.contains(key)) e.detail += std::string(e.detail.empty() ? "" : "; ") + key + ": " + result[key].dump();
  }
}

void record_after(const Context& ctx, AuditEvent e) {
  const auto action = e.action;
  if (auto r = record_audit(ctx.pipeline, ctx.clock, std::move(e)); !r) {
    // The command's own answer stands (it happened, or it failed); the missing record is loud.
    ctx.counters.add("audit_write_errors");
    ctx.log.error("audit", "audit-record-failed", {{"action", action}, {"error", r.error().message}});
  }
}

Result<nlohmann::json> list(const Context& ctx, const nlohmann::json& args, const PeerCred&) {
  JsonReader in;
  in.only_keys(args, "/args", {"since", "actor", "action", "limit"});
  AuditQuery q;
  if (auto since = in.string(args, "/args", "since", false)) {
    if (auto t = parse_rfc3339(*since)) q.since = *t;
    else in.fail("/args/since", "expected an RFC 3339 time such as 2026-12-05T10:00:00Z, found \"" + *since + "\"");
  }
  if (auto actor = in.string(args, "/args", "actor", false)) q.actor = *actor;
  if (auto action = in.string(args, "/args", "action", false)) q.action = *action;
  if (auto limit = in.integer(args, "/args", "limit", false, 1, 10000)) q.limit = static_cast<std::size_t>(*limit);
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  std::lock_guard lock(ctx.reader_mu);
  auto rows = ctx.reader.audit_events(q);
  if (!rows) return rows.error();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : *rows) {
    nlohmann::json entities = nlohmann::json::array();
    for (const auto& x : e.entities) entities.push_back({{"type", x.type}, {"id", x.id}});
    out.push_back({{"seq", e.seq},
                   {"uid", e.uid},
                   {"time", format_rfc3339(e.time)},
                   {"action", e.action},
                   {"actor", e.actor.name},
                   {"actor_kind", e.actor.kind},
                   {"on_behalf_of", e.on_behalf_of},
                   {"patient", e.patient},
                   {"entities", entities},
                   {"outcome", to_string(e.outcome)},
                   {"detail", e.detail},
                   {"synced", e.sync_state == 1}});
  }
  return nlohmann::json{{"events", out}};
}

constexpr Command kCommands[] = {
    {"audit.list", list},
};

}  // namespace

std::span<const Command> audit_commands() { return kCommands; }

bool audited(std::string_view cmd) { return std::find(kAudited.begin(), kAudited.end(), cmd) != kAudited.end(); }

AuditOutcome outcome_of(const Error& e) {
  return e.code == Errc::invalid_argument || e.code == Errc::not_found ? AuditOutcome::refused : AuditOutcome::failed;
}

Result<void> record_audit(Pipeline& pipeline, const Clock& clock, AuditEvent e) {
  if (e.time == TimePoint{}) e.time = clock.now();
  return pipeline
      .apply([e = std::move(e)](StoreWriter& w) -> Result<void> {
        auto r = w.insert_audit(e);
        if (!r) return r.error();
        return {};
      })
      .get();  // durable when it resolves
}

Result<std::string> take_web_user(const Context& ctx, nlohmann::json& args, const PeerCred& peer) {
  if (!args.is_object() || !args.contains(kWebUserArg)) return std::string{};
  const auto& v = args[std::string(kWebUserArg)];
  if (!v.is_string() || v.get_ref<const std::string&>().empty() || v.get_ref<const std::string&>().size() > kMaxByBytes) {
    ctx.counters.add("control_bad_requests");
    return make_error(Errc::invalid_argument, "/args/" + std::string(kWebUserArg) + ": expected a login name of 1 to " +
                                                  std::to_string(kMaxByBytes) + " bytes");
  }
  auto user = v.get<std::string>();
  args.erase(std::string(kWebUserArg));
  // carehubd's own account may too (carehub-web beside it on a development kit, the browser tests): a
  // process running as carehubd can change the buffer itself, so believing it grants nothing.
  const bool trusted = ctx.web_uid ? peer.uid == *ctx.web_uid : peer.uid == web_service_uid() || peer.uid == ::geteuid();
  if (!trusted) {
    // Only the web service may speak for a web login.
    ctx.counters.add("control_bad_requests");
    return make_error(Errc::invalid_argument, "\"" + std::string(kWebUserArg) + "\" is accepted only from the " +
                                                  std::string(kWebService) + " service, not from " + who(peer, ""));
  }
  return user;
}

Result<nlohmann::json> run_audited(const Context& ctx, const Request& request, const PeerCred& peer,
                                   const std::function<Result<nlohmann::json>(const nlohmann::json& args)>& run) {
  nlohmann::json args = request.args;
  AuditEvent e;
  e.action = request.cmd;
  const auto by = text(args, "by");
  const auto claimed = text(args, kWebUserArg).substr(0, kMaxByBytes);
  auto web_user = take_web_user(ctx, args, peer);
  if (!claimed.empty()) {
    e.actor = {"web", "web " + claimed + " via " + who(peer, "")};
  } else {
    e.actor = {"unix", who(peer, by)};
  }
  describe(ctx, request.cmd, args, e);
  if (!web_user) {
    // Refused, on the record: a bad "web_user", or one claimed by anyone but the web service.
    e.outcome = AuditOutcome::refused;
    e.detail = web_user.error().message;
    record_after(ctx, std::move(e));
    return web_user.error();
  }
  Result<nlohmann::json> result = make_error(Errc::internal, "not run");
  std::size_t recorded = 0;
  {
    audit::Scope scope(e, ctx.clock);
    result = run(args);
    recorded = scope.recorded();
  }
  if (!result) {
    e.outcome = outcome_of(result.error());
    e.detail = result.error().message;
    record_after(ctx, std::move(e));
    return result;
  }
  if (recorded == 0) {
    // Made outside the buffer (the BLE source, a reload), or a change that changed nothing: recorded now.
    e.detail = "recorded after the command (no change of its own in the buffer's transaction)";
    add_result(request.cmd, *result, e);
    record_after(ctx, std::move(e));
  }
  return result;
}

}  // namespace carehub::daemon::commands
