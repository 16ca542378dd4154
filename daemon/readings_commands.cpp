#include "daemon/readings_commands.hpp"

#include "core/json_check.hpp"
#include "core/reading_json.hpp"
#include "daemon/command_args.hpp"

namespace carehub::daemon {

bool ReadingsCommands::handles(std::string_view cmd) {
  return cmd == "readings.unassigned" || cmd == "readings.assign" || cmd == "readings.discard";
}

Error ReadingsCommands::refused(const std::string& message) {
  counters_.add("control_bad_requests");
  return {Errc::invalid_argument, message};
}

Result<nlohmann::json> ReadingsCommands::handle(const std::string& cmd, const nlohmann::json& args, const PeerCred& peer) {
  if (cmd == "readings.unassigned") return unassigned(args);
  if (cmd == "readings.assign") return assign(args, peer);
  if (cmd == "readings.discard") return discard(args, peer);
  return refused("unknown command \"" + cmd + "\"");
}

Result<nlohmann::json> ReadingsCommands::unassigned(const nlohmann::json& args) {
  JsonReader in;
  in.only_keys(args, "/args", {"limit", "discarded"});
  ReadingQuery q;
  q.limit = 1000;
  q.state = SyncState::unassigned;
  if (auto limit = in.integer(args, "/args", "limit", false, 1, 10000)) q.limit = static_cast<std::size_t>(*limit);
  if (auto discarded = in.boolean(args, "/args", "discarded", false); discarded && *discarded) {
    q.state = SyncState::discarded;
  }
  if (!in.ok()) return refused(in.joined(""));
  std::lock_guard lock(reader_mu_);
  auto rows = reader_.readings(q);
  if (!rows) return rows.error();
  auto counts = reader_.counts();
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

Result<nlohmann::json> ReadingsCommands::assign(const nlohmann::json& args, const PeerCred& peer) {
  JsonReader in;
  in.only_keys(args, "/args", {"uids", "patient", "by"});
  auto uids = uids_arg(in, args);
  auto patient = patient_arg(in, args, "/args", "patient", true);
  auto by = text_arg(in, args, "by", kMaxByBytes);
  if (!in.ok()) return refused(in.joined(""));
  const auto decided_by = who(peer, by.value_or(""));
  auto done = pipeline_.assign_readings(*uids, *patient, decided_by).get();  // durable when it resolves
  if (!done) return done.error();
  nlohmann::json list = nlohmann::json::array();
  std::size_t fresh = 0;
  for (const auto& a : *done) {
    list.push_back({{"old_uid", a.old_uid}, {"uid", a.uid}, {"already_stored", a.already_stored}});
    if (!a.already_stored) ++fresh;
  }
  counters_.add("readings_assigned", done->size());
  // Who and how many at notice level; which patient only at debug (no patient data above debug).
  log_.notice("readings", "readings-assigned", {{"count", done->size()}, {"new", fresh}, {"by", decided_by}});
  log_.debug("readings", "readings-assigned-patient", {{"patient", *patient}});
  return nlohmann::json{{"patient", *patient}, {"assigned", list}, {"by", decided_by}};
}

Result<nlohmann::json> ReadingsCommands::discard(const nlohmann::json& args, const PeerCred& peer) {
  JsonReader in;
  in.only_keys(args, "/args", {"uids", "reason", "by"});
  auto uids = uids_arg(in, args);
  auto reason = text_arg(in, args, "reason", kMaxReasonBytes);
  auto by = text_arg(in, args, "by", kMaxByBytes);
  if (!in.ok()) return refused(in.joined(""));
  const auto decided_by = who(peer, by.value_or(""));
  auto n = pipeline_.discard_readings(*uids, decided_by, reason.value_or("")).get();
  if (!n) return n.error();
  counters_.add("readings_discarded", static_cast<std::uint64_t>(*n));
  log_.notice("readings", "readings-discarded", {{"count", *n}, {"asked", uids->size()}, {"by", decided_by}});
  return nlohmann::json{{"discarded", *n}, {"by", decided_by}};
}

}  // namespace carehub::daemon
