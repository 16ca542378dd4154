// carehubd's own control commands (measure, measurements, sync, alerts): each checks its arguments,
// then works through the pipeline (writes) or the shared read connection. Split from daemon.cpp, which
// keeps the wiring, lifecycle and dispatch; attribution commands live in readings_commands.cpp and
// binding_commands.cpp.
#include <signal.h>
#include <unistd.h>

#include "core/json_check.hpp"
#include "core/reading_json.hpp"
#include "core/time.hpp"
#include "daemon/command_args.hpp"
#include "daemon/daemon.hpp"
#include "rules/alert_json.hpp"

namespace carehub::daemon {

Result<nlohmann::json> Daemon::measure_add(const nlohmann::json& args) {
  JsonReader in;
  in.only_keys(args, "/args", {"readings"});
  const auto* list = in.array(args, "/args", "readings", true);
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  if (list->empty()) return make_error(Errc::invalid_argument, "/args/readings: expected at least one reading");
  std::vector<Reading> readings;
  std::vector<std::size_t> index;  // position in the request of each parsed reading
  nlohmann::json results = nlohmann::json::array();
  const auto now = clock_.now();
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto r = reading_from_json((*list)[i], now);
    if (!r) {
      counters_.add("readings_rejected");
      results.push_back({{"status", "rejected"}, {"error", r.error().message}});
      continue;
    }
    if (r->source.empty()) r->source = "manual";
    results.push_back(nullptr);
    index.push_back(i);
    readings.push_back(std::move(*r));
  }
  if (!readings.empty()) {
    auto stored = pipeline_->ingest(std::move(readings)).get();  // returns once durable
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

Result<nlohmann::json> Daemon::measurements(const nlohmann::json& args) {
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
    else in.fail("/args/state", "expected one of: pending, synced, dead, quarantined, unassigned, discarded, found \"" + *state + "\"");
  }
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  std::lock_guard lock(reader_mu_);
  auto rows = reader_->readings(q);
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

Result<nlohmann::json> Daemon::sync_now(const nlohmann::json& args) {
  JsonReader in;
  in.only_keys(args, "/args", {"wait_s"});
  const auto wait = in.number(args, "/args", "wait_s", false, 0, 3600);
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  if (config()->upload.base_url.empty()) {
    return make_error(Errc::unavailable, "sync is off: no FHIR base URL configured (/fhir/base_url)");
  }
  if (!wait || *wait <= 0) {
    uploader()->sync_now();
    return nlohmann::json{{"started", true}};
  }
  const auto deadline = clock_.monotonic() + std::chrono::milliseconds(static_cast<long long>(*wait * 1000));
  bool idle = false;
  for (;;) {
    // This command's own reference: a reload may replace the uploader meanwhile. It stops the old one,
    // which ends the wait on it, and this wait goes on with the new one for the time that is left.
    const auto uploader = this->uploader();
    if (stopping_) return stopping_error();
    if (!uploader->status().enabled) {
      return make_error(Errc::unavailable, "sync was turned off by a reload: no FHIR base URL configured (/fhir/base_url)");
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_.monotonic());
    if (left <= std::chrono::milliseconds::zero()) break;
    if (uploader->wait_idle(left)) {
      idle = true;
      break;
    }
    // stop() sets stopping_ before it stops the uploader, so a wait it ended sees it here.
    if (stopping_) return stopping_error();
    if (this->uploader() == uploader) break;  // the time is up on the running uploader
  }
  auto s = status();
  if (!s) return s;
  if (!idle) {
    return make_error(Errc::timeout, "sync did not finish within " + nlohmann::json(*wait).dump() +
                                         " s: " + (*s)["buffer"]["pending"].dump() + " pending; last error: " +
                                         (*s)["sync"]["last_error"].get<std::string>());
  }
  return nlohmann::json{{"idle", true}, {"buffer", (*s)["buffer"]}};
}

Result<nlohmann::json> Daemon::sync_dead(const nlohmann::json& args) {
  nlohmann::json a = args;
  a["state"] = "dead";
  auto out = measurements(a);
  if (!out) return out;
  std::lock_guard lock(reader_mu_);
  auto alerts = reader_->dead_alerts(1000);
  if (!alerts) return alerts.error();
  auto& list = (*out)["dead_alerts"] = nlohmann::json::array();
  for (const auto& d : *alerts) {
    list.push_back({{"id", d.id}, {"rule", d.rule}, {"raised", format_rfc3339(d.raised)}, {"reason", d.reason}});
  }
  return out;
}

Result<nlohmann::json> Daemon::sync_retry_dead() {
  std::int64_t moved = 0;
  auto r = pipeline_
               ->apply([&moved](StoreWriter& w) -> Result<void> {
                 auto n = w.requeue_dead();
                 if (!n) return n.error();
                 moved = *n;
                 return {};
               })
               .get();
  if (!r) return r.error();
  uploader()->sync_now();
  log_.notice("sync", "dead-letters-requeued", {{"count", moved}, {"by", "technician"}});
  return nlohmann::json{{"requeued", moved}};
}

void Daemon::add_alert_publisher(rules::AlertPublisher& publisher) {
  std::lock_guard lock(publishers_mu_);
  publishers_.push_back(&publisher);
}

void Daemon::publish(const std::vector<AlertEvent>& events) {
  std::lock_guard lock(publishers_mu_);
  for (const auto& e : events) {
    // The alert id and rule say what happened; whose alert it is (a patient id) only at debug level.
    log_.info("rules", "alert-event",
              {{"kind", e.event},
               {"alert", e.alert.id},
               {"rule", e.alert.rule},
               {"severity", to_string(e.alert.severity)},
               {"notify", e.alert.notify}});
    log_.debug("rules", "alert-patient", {{"alert", e.alert.id}, {"patient", e.alert.patient}});
    for (auto* p : publishers_) p->publish(e);
  }
}

Result<Alert> Daemon::acknowledge_alert(const std::string& id, const std::string& by) {
  auto events = pipeline_
                    ->apply_alerts([this, id, by](StoreWriter& w) { return engine_->acknowledge(w, id, clock_.now(), by); })
                    .get();  // durable when it resolves
  if (!events) return events.error();
  log_.notice("rules", "alert-acknowledged", {{"alert", id}, {"by", by}});
  std::lock_guard lock(reader_mu_);
  auto a = reader_->find_alert(id);
  if (!a) return a.error();
  if (!*a) return make_error(Errc::not_found, "no alert with id \"" + id + "\"");
  return **a;
}

Result<nlohmann::json> Daemon::alerts(const nlohmann::json& args) {
  JsonReader in;
  in.only_keys(args, "/args", {"all", "limit"});
  AlertQuery q;
  if (auto all = in.boolean(args, "/args", "all", false)) q.include_closed = *all;
  if (auto limit = in.integer(args, "/args", "limit", false, 1, 100000)) q.limit = static_cast<std::size_t>(*limit);
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  std::lock_guard lock(reader_mu_);
  auto rows = reader_->alerts(q);
  if (!rows) return rows.error();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : *rows) out.push_back(rules::alert_to_json(a));
  return nlohmann::json{{"alerts", out}};
}

Result<nlohmann::json> Daemon::alert_change(const std::string& cmd, const nlohmann::json& args, const PeerCred& peer) {
  JsonReader in;
  in.only_keys(args, "/args", {"id", "by", "reason"});
  const auto id = in.string(args, "/args", "id", true);
  // `by` names who acknowledged through the client ("patient (display)" from carehub-web, a technician's
  // login with the reason they acknowledged for the patient); the peer's uid is kept beside it.
  const auto by = text_arg(in, args, "by", kMaxByBytes);
  const auto reason = text_arg(in, args, "reason", kMaxReasonBytes);
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  if (cmd == "alerts.ack") {
    // Recorded with the alert (and sent to the clinician), so the reason goes with who gave it.
    const auto decided_by = (by ? who(peer, *by) : who(peer, "carehubctl")) + (reason ? ": " + *reason : "");
    auto a = acknowledge_alert(*id, decided_by);
    if (!a) return a.error();
    // The reason is the technician's free text: it may mention the patient, so debug level only.
    if (reason) log_.debug("rules", "alert-acknowledged-reason", {{"alert", *id}, {"reason", *reason}});
    auto out = rules::alert_to_json(*a);
    out["acknowledged_by"] = decided_by;
    return out;
  }
  auto events =
      pipeline_->apply_alerts([this, id = *id](StoreWriter& w) { return engine_->close(w, id, clock_.now()); }).get();
  if (!events) return events.error();
  log_.notice("rules", "alert-closed", {{"alert", *id}, {"by", "carehubctl"}});
  std::lock_guard lock(reader_mu_);
  auto a = reader_->find_alert(*id);
  if (!a) return a.error();
  if (!*a) return make_error(Errc::not_found, "no alert with id \"" + *id + "\"");
  return rules::alert_to_json(**a);
}

Result<nlohmann::json> Daemon::config_command(const std::string& cmd, const PeerCred& peer) {
  // The file carehubd was started with, read again now: what a reload would apply.
  const auto file = config()->source;
  if (file.empty()) return make_error(Errc::unavailable, "carehubd runs without a configuration file");
  auto checked = load_config(file);
  if (cmd == "config.check") {
    if (!checked) return nlohmann::json{{"file", file}, {"ok", false}, {"error", checked.error().message}};
    return nlohmann::json{{"file", file}, {"ok", true}};
  }
  if (!checked) return make_error(Errc::invalid_argument, "not reloaded: " + checked.error().message);
  // The same path as `systemctl reload carehubd`: main() takes SIGHUP and applies the file it reads then.
  log_.notice("carehubd", "reload-asked", {{"by", who(peer, "")}});
  if (::kill(::getpid(), SIGHUP) != 0) return make_error(Errc::internal, "cannot signal carehubd to reload");
  return nlohmann::json{{"file", file}, {"reloading", true}};
}

Result<void> Daemon::alerts_watch(const Request& request, ControlStream& stream) {
  if (!request.args.empty()) return make_error(Errc::invalid_argument, "/args: alerts.watch takes no arguments");
  auto sub = watchers_.subscribe();
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

}  // namespace carehub::daemon
