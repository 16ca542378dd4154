// The rules engine after an alert is raised: deadlines that passed (no repeat, inactivity), reminders and
// escalation (tick), the patient's or a technician's acknowledgement, and closing.
#include "rules/engine_context.hpp"

namespace carehub::rules {

using namespace detail;

Result<std::vector<AlertEvent>> Engine::tick(RuleStore& store, TimePoint now) {
  const auto rules = this->rules();
  Context c{*rules, store, now, {}};
  c.hub_id = hub_id_;
  auto due = store.rule_states_due(now);
  if (!due) return due.error();
  for (const auto& s : *due) {
    const Rule* rule = rules->find(s.rule, s.patient);
    if (!rule) {
      // The rule was removed by a reload: its pending deadline has no policy left to apply.
      log_.notice("rules", "rule-state-dropped", {{"rule", s.rule}, {"reason", "rule removed"}});
      log_.debug("rules", "rule-state-dropped-detail", {{"rule", s.rule}, {"patient", s.patient}, {"key", s.key}});  // patient id: debug only
      if (auto e = store.erase_rule_state(s.rule, s.patient, s.key); !e) return e.error();
      continue;
    }
    // Our own row, written from a dump of validated JSON: not peer input, so not parse_peer_json.
    const auto state = nlohmann::json::parse(s.state_json, nullptr, false);
    if (s.key == kEpisode) {
      if (auto e = store.erase_rule_state(s.rule, s.patient, s.key); !e) return e.error();
      if (auto e = c.no_repeat(*rule, s.patient, state, *s.due, "not repeated before its deadline"); !e) return e.error();
    } else if (s.key.starts_with("kind:") || s.key.starts_with("device:")) {
      const auto last = opt_time(state, "last_ms");
      const std::string what = s.key.starts_with("kind:") ? s.key.substr(5) + " readings" : "readings from device " + s.key.substr(7);
      std::string text = rule->text.empty()
                             ? "No " + what + " for " + format_duration(rule->timing.inactive_after) + " (last " +
                                   (last ? format_rfc3339(*last) : std::string("never")) + ")."
                             : rule->text;
      Alert a = c.make(*rule, s.patient, "inactivity", rule->severity, s.key + "@" + std::to_string(last ? to_epoch_ms(*last) : 0),
                       {state.value("last_uid", std::string{})}, std::move(text), "clinician",
                       rule->severity == Severity::red);
      if (a.readings.front().empty()) a.readings.clear();
      nlohmann::json next = state.is_object() ? state : nlohmann::json::object();
      next["notice"] = a.id;
      if (auto e = store.put_rule_state({s.rule, s.patient, s.key, next.dump(), std::nullopt}); !e) return e.error();
      if (auto e = c.raise(std::move(a), *s.due); !e) return e.error();
    } else {
      if (auto e = store.put_rule_state({s.rule, s.patient, s.key, s.state_json, std::nullopt}); !e) return e.error();
    }
  }
  auto alerts = store.alerts_due(now);
  if (!alerts) return alerts.error();
  for (auto a : *alerts) {
    const Rule* rule = rules->find(a.rule, a.patient);
    const Timing& timing = rule ? rule->timing : rules->defaults;
    if (!a.escalated && a.escalate_at && *a.escalate_at <= now) {
      a.escalated = true;
      if (auto e = c.change(a, "escalation", *a.escalate_at); !e) return e.error();
    }
    if (a.next_reminder && *a.next_reminder <= now) {
      const TimePoint at = *a.next_reminder;
      ++a.reminders;
      a.next_reminder = now + timing.reminder_every;  // missed reminders (hub off) collapse into one
      if (auto e = c.change(a, "reminder", at); !e) return e.error();
    }
  }
  if (!c.events.empty()) counters_.add("rules_tick_events", c.events.size());
  return std::move(c.events);
}

Result<std::vector<AlertEvent>> Engine::acknowledge(RuleStore& store, const std::string& id, TimePoint now,
                                                    const std::string& by) {
  auto found = store.find_alert(id);
  if (!found) return found.error();
  if (!*found) return make_error(Errc::not_found, "no alert with id \"" + id + "\"");
  Alert a = **found;
  if (a.state == AlertState::closed) return make_error(Errc::invalid_argument, "alert " + id + " is already closed");
  if (a.state == AlertState::acknowledged) return std::vector<AlertEvent>{};
  a.state = AlertState::acknowledged;
  a.acknowledged = now;
  a.acknowledged_by = by;
  a.next_reminder.reset();  // reminders stop; a pending escalation too: the patient has responded
  a.escalate_at.reset();
  if (auto r = store.put_alert(a); !r) return r.error();
  return std::vector<AlertEvent>{{"acknowledged", now, a}};
}

Result<std::vector<AlertEvent>> Engine::close(RuleStore& store, const std::string& id, TimePoint now) {
  auto found = store.find_alert(id);
  if (!found) return found.error();
  if (!*found) return make_error(Errc::not_found, "no alert with id \"" + id + "\"");
  Alert a = **found;
  if (a.state == AlertState::closed) return std::vector<AlertEvent>{};
  a.state = AlertState::closed;
  a.closed = now;
  a.resolution = "closed";
  a.next_reminder.reset();
  a.escalate_at.reset();
  if (auto r = store.put_alert(a); !r) return r.error();
  return std::vector<AlertEvent>{{"closed", now, a}};
}

}  // namespace carehub::rules
