// The technician's decisions on unassigned readings (design.md invariant 7, issue 14), over the control
// socket: `readings.unassigned` lists them, `readings.assign` gives them to a patient (the pipeline then
// judges them by that patient's rules in measurement order and queues them for upload), and
// `readings.discard` keeps them as belonging to nobody on this hub, with who, when and why.
//
//   readings.unassigned {"limit"?: 1..10000, "discarded"?: bool}
//       -> {"readings": [{uid, kind, time, device, user, values, received, reason, ...}], "unassigned": N}
//   readings.assign {"uids": [...], "patient": "Patient/…", "by"?: "…"}
//       -> {"patient": …, "assigned": [{"old_uid", "uid", "already_stored"}], "by": …}
//   readings.discard {"uids": [...], "reason"?: "…", "by"?: "…"} -> {"discarded": N, "by": …}
//
// Who decided is the socket's peer (SO_PEERCRED) plus the optional --by name (daemon/command_args.hpp).
// Assign and discard are all or nothing: one unknown uid changes nothing and names the uid.
#include "core/json_check.hpp"
#include "core/reading_json.hpp"
#include "daemon/command_args.hpp"
#include "daemon/commands/groups.hpp"

namespace carehub::daemon::commands {
namespace {

Error refused(const Context& ctx, const std::string& message) {  // bad arguments: counted, then answered
  ctx.counters.add("control_bad_requests");
  return {Errc::invalid_argument, message};
}

Result<nlohmann::json> unassigned(const Context& ctx, const nlohmann::json& args, const PeerCred&) {
  JsonReader in;
  in.only_keys(args, "/args", {"limit", "discarded"});
  ReadingQuery q;
  q.limit = 1000;
  q.state = SyncState::unassigned;
  if (auto limit = in.integer(args, "/args", "limit", false, 1, 10000)) q.limit = static_cast<std::size_t>(*limit);
  if (auto discarded = in.boolean(args, "/args", "discarded", false); discarded && *discarded) {
    q.state = SyncState::discarded;
  }
  if (!in.ok()) return refused(ctx, in.joined(""));
  std::lock_guard lock(ctx.reader_mu);
  auto rows = ctx.reader.readings(q);
  if (!rows) return rows.error();
  auto counts = ctx.reader.counts();
  if (!counts) return counts.error();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : *rows) {
    // The values are shown: they are how a technician tells the patient's readings from a spouse's
    // (82 kg or 61 kg). This answer stays on the hub; `status --json`, which may leave it, has counts only.
    auto j = reading_to_json(s.reading);
    j["uid"] = s.uid;
    j["user"] = s.reading.user ? nlohmann::json(*s.reading.user) : nlohmann::json(nullptr);
    j["received"] = format_rfc3339(s.reading.received);
    j["reason"] = s.unassigned_reason;
    if (!s.quarantine_reason.empty()) j["quarantine_reason"] = s.quarantine_reason;
    if (q.state == SyncState::discarded) {
      j["discarded_by"] = s.resolved_by;
      j["discarded"] = s.resolved ? nlohmann::json(format_rfc3339(*s.resolved)) : nlohmann::json(nullptr);
      j["discard_reason"] = s.discard_reason;
    }
    out.push_back(std::move(j));
  }
  return nlohmann::json{{"readings", out}, {"unassigned", counts->unassigned}, {"discarded", counts->discarded}};
}

Result<nlohmann::json> assign(const Context& ctx, const nlohmann::json& args, const PeerCred& peer) {
  JsonReader in;
  in.only_keys(args, "/args", {"uids", "patient", "by"});
  auto uids = uids_arg(in, args);
  auto patient = patient_arg(in, args, "/args", "patient", true);
  auto by = text_arg(in, args, "by", kMaxByBytes);
  if (!in.ok()) return refused(ctx, in.joined(""));
  const auto decided_by = who(peer, by.value_or(""));
  auto done = ctx.pipeline.assign_readings(*uids, *patient, decided_by).get();  // durable when it resolves
  if (!done) return done.error();
  nlohmann::json list = nlohmann::json::array();
  std::size_t fresh = 0;
  for (const auto& a : *done) {
    list.push_back({{"old_uid", a.old_uid}, {"uid", a.uid}, {"already_stored", a.already_stored}});
    if (!a.already_stored) ++fresh;
  }
  ctx.counters.add("readings_assigned", done->size());
  // Who and how many at notice level; which patient only at debug (no patient data above debug).
  ctx.log.notice("readings", "readings-assigned", {{"count", done->size()}, {"new", fresh}, {"by", decided_by}});
  ctx.log.debug("readings", "readings-assigned-patient", {{"patient", *patient}});
  return nlohmann::json{{"patient", *patient}, {"assigned", list}, {"by", decided_by}};
}

Result<nlohmann::json> discard(const Context& ctx, const nlohmann::json& args, const PeerCred& peer) {
  JsonReader in;
  in.only_keys(args, "/args", {"uids", "reason", "by"});
  auto uids = uids_arg(in, args);
  auto reason = text_arg(in, args, "reason", kMaxReasonBytes);
  auto by = text_arg(in, args, "by", kMaxByBytes);
  if (!in.ok()) return refused(ctx, in.joined(""));
  const auto decided_by = who(peer, by.value_or(""));
  auto n = ctx.pipeline.discard_readings(*uids, decided_by, reason.value_or("")).get();
  if (!n) return n.error();
  ctx.counters.add("readings_discarded", static_cast<std::uint64_t>(*n));
  ctx.log.notice("readings", "readings-discarded", {{"count", *n}, {"asked", uids->size()}, {"by", decided_by}});
  return nlohmann::json{{"discarded", *n}, {"by", decided_by}};
}

constexpr Command kCommands[] = {
    {"readings.unassigned", unassigned},
    {"readings.assign", assign},
    {"readings.discard", discard},
};

}  // namespace

std::span<const Command> readings_commands() { return kCommands; }

}  // namespace carehub::daemon::commands
