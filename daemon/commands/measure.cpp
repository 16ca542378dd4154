// `measure.add` (carehubctl measure add: a technician's manual readings, through the pipeline like any
// source's) and `measurements` (the buffer's rows, newest first, narrowed for carehub-web's charts and stream).
#include "core/json_check.hpp"
#include "core/reading_json.hpp"
#include "core/time.hpp"
#include "daemon/commands/groups.hpp"

namespace carehub::daemon::commands {
namespace {

Result<nlohmann::json> measure_add(const Context& ctx, const nlohmann::json& args, const PeerCred&) {
  JsonReader in;
  in.only_keys(args, "/args", {"readings"});
  const auto* list = in.array(args, "/args", "readings", true);
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  if (list->empty()) return make_error(Errc::invalid_argument, "/args/readings: expected at least one reading");
  std::vector<Reading> readings;
  std::vector<std::size_t> index;  // position in the request of each parsed reading
  nlohmann::json results = nlohmann::json::array();
  const auto now = ctx.clock.now();
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto r = reading_from_json((*list)[i], now);
    if (!r) {
      ctx.counters.add("readings_rejected");
      results.push_back({{"status", "rejected"}, {"error", r.error().message}});
      continue;
    }
    if (r->source.empty()) r->source = "manual";
    results.push_back(nullptr);
    index.push_back(i);
    readings.push_back(std::move(*r));
  }
  if (!readings.empty()) {
    auto stored = ctx.pipeline.ingest(std::move(readings)).get();  // returns once durable
    if (!stored) return stored.error();
    for (std::size_t k = 0; k < index.size(); ++k) {
      auto& slot = results[index[k]];
      switch (stored->status[k]) {
        case IngestStatus::stored:
          // Kept but unassigned (no patient with certainty) or quarantined (a time far after its receipt):
          // say which, or the technician believes it counts. The pipeline's message names it first.
          if (stored->errors[k].starts_with("unassigned: ")) {
            slot = {{"status", "unassigned"}, {"uid", stored->uids[k]}, {"error", stored->errors[k]}};
          } else if (!stored->errors[k].empty()) {
            slot = {{"status", "quarantined"}, {"uid", stored->uids[k]}, {"error", stored->errors[k]}};
          } else {
            slot = {{"status", "stored"}, {"uid", stored->uids[k]}};
          }
          break;
        case IngestStatus::duplicate: slot = {{"status", "duplicate"}, {"uid", stored->uids[k]}}; break;
        case IngestStatus::rejected: slot = {{"status", "rejected"}, {"error", stored->errors[k]}}; break;
      }
    }
  }
  return nlohmann::json{{"results", results}};
}

constexpr Command kCommands[] = {
    {"measure.add", measure_add},
    {"measurements", measurements},
};

}  // namespace

Result<nlohmann::json> measurements(const Context& ctx, const nlohmann::json& args, const PeerCred&) {
  JsonReader in;
  in.only_keys(args, "/args", {"limit", "state", "kind", "from", "to", "after_seq", "oldest_first", "by_time"});
  ReadingQuery q;
  q.newest_first = true;
  if (auto limit = in.integer(args, "/args", "limit", false, 1, 100000)) q.limit = static_cast<std::size_t>(*limit);
  // Narrowing for carehub-web: one kind over a time range (the display's 30-day charts), and everything
  // stored after a sequence number, oldest first (its readings stream: nothing skipped between polls).
  if (auto kind = in.string(args, "/args", "kind", false)) {
    if (auto k = kind_from_string(*kind)) q.kind = *k;
    else in.fail("/args/kind", "expected a measurement kind (blood-pressure, body-weight, ...)");
  }
  for (const char* key : {"from", "to"}) {
    if (auto t = in.string(args, "/args", key, false)) {
      auto parsed = parse_rfc3339(*t);
      if (!parsed) in.fail(std::string("/args/") + key, "expected an RFC 3339 time");
      else (std::string_view(key) == "from" ? q.from : q.to) = *parsed;
    }
  }
  if (auto after = in.integer(args, "/args", "after_seq", false, 0, INT64_MAX)) q.after_seq = *after;
  if (auto oldest = in.boolean(args, "/args", "oldest_first", false)) q.newest_first = !*oldest;
  if (auto by_time = in.boolean(args, "/args", "by_time", false)) q.by_time = *by_time;
  if (auto state = in.string(args, "/args", "state", false)) {
    if (*state == "pending") q.state = SyncState::pending;
    else if (*state == "synced") q.state = SyncState::synced;
    else if (*state == "dead") q.state = SyncState::dead;
    else if (*state == "quarantined") q.state = SyncState::quarantined;
    else if (*state == "unassigned") q.state = SyncState::unassigned;
    else if (*state == "discarded") q.state = SyncState::discarded;
    else if (*state == "withheld") q.state = SyncState::withheld;  // no consent to upload their kind
    else in.fail("/args/state", "expected one of: pending, synced, dead, quarantined, unassigned, discarded, withheld, found \"" + *state + "\"");
  }
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  std::lock_guard lock(ctx.reader_mu);
  auto rows = ctx.reader.readings(q);
  if (!rows) return rows.error();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : *rows) {
    auto j = reading_to_json(s.reading);
    j["uid"] = s.uid;
    j["seq"] = s.seq;
    j["received"] = format_rfc3339(s.reading.received);
    j["sync"] = to_string(s.state);
    if (!s.server_id.empty()) j["server_id"] = s.server_id;
    if (!s.dead_reason.empty()) j["dead_reason"] = s.dead_reason;
    if (!s.quarantine_reason.empty()) j["quarantine_reason"] = s.quarantine_reason;
    out.push_back(std::move(j));
  }
  return nlohmann::json{{"readings", out}};
}

std::span<const Command> measure_commands() { return kCommands; }

}  // namespace carehub::daemon::commands
