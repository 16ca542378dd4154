#pragma once
// The rules engine's private parts, shared by its files: engine.cpp judges readings as they are stored,
// engine_lifecycle.cpp moves alerts on afterwards (deadlines, reminders, escalation, acknowledgement,
// closing), engine_context.cpp holds the helpers declared here. Not part of rules/engine.hpp's contract:
// only rules/engine*.cpp include it.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/engine.hpp"

namespace carehub::rules::detail {

constexpr std::string_view kEpisode = "episode";
constexpr double kEpsilon = 1e-9;  // values arrive as doubles: 72.3 + 2 must reach 74.3

// Which way a band is extreme; episodes remember it so a repeat is judged against the same limit.
enum class Direction { low, high };

struct Classified {
  Band band = Band::optimal;
  std::string component;  // the component that decided it
  double value = 0;
};

bool extreme(Band b);
// The worst band over the rule's components present in the reading (SBP 200 *or* DBP 130 is extreme).
Classified classify(const Rule& rule, const Reading& r);
// Still extreme for a repeat: at or beyond the limit, or within the rule's threshold of it, on the side
// the episode opened on.
bool still_extreme(const Rule& rule, const Reading& r, std::optional<Direction> side);
std::optional<Direction> direction_of(const nlohmann::json& episode);
std::string values_text(const Reading& r);
std::optional<Severity> severity_of(Outcome o);
std::optional<TimePoint> opt_time(const nlohmann::json& j, const char* key);

}  // namespace carehub::rules::detail

namespace carehub::rules {

// One evaluation: the rules snapshot, the store, the clock's now and the events collected so far.
struct Engine::Context {
  const RuleSet& rules;
  RuleStore& store;
  TimePoint now;  // the clock the rules act on: the hub's now, or a late reading's own time (judge_assigned)
  std::vector<AlertEvent> events;
  // The hub's clock, for what must never be believed "after now" (equal to `now` except in judge_assigned).
  TimePoint hub_now = now;
  std::vector<std::string> raised{};  // ids of the alerts raised here (not those only changed)
  std::string_view hub_id{};          // the Engine's: enters every alert id

  Alert make(const Rule& rule, const std::string& patient, std::string event, Severity severity,
             const std::string& anchor, std::vector<std::string> readings, std::string text, std::string audience,
             bool requires_ack) const {
    Alert a;
    a.id = alert_id(rule.id, patient, event + "/" + std::string(to_string(severity)), anchor, hub_id);
    a.rule = rule.id;
    a.patient = patient;
    a.event = std::move(event);
    a.severity = severity;
    a.state = AlertState::open;
    a.notify = rules.notifies(rule.category);
    a.raised = now;
    a.text = std::move(text);
    a.readings = std::move(readings);
    a.category = rule.category;
    a.audience = std::move(audience);
    a.requires_ack = requires_ack;
    if (requires_ack) {
      a.next_reminder = now + rule.timing.reminder_every;
      if (rule.timing.escalate_after) a.escalate_at = now + *rule.timing.escalate_after;
    }
    return a;
  }

  Result<void> raise(Alert a, TimePoint at) {
    if (auto r = store.put_alert(a); !r) return r;
    raised.push_back(a.id);
    events.push_back({a.event, at, std::move(a)});
    return {};
  }

  Result<void> change(const Alert& a, std::string event, TimePoint at) {
    if (auto r = store.put_alert(a); !r) return r;
    events.push_back({std::move(event), at, a});
    return {};
  }

  // Closes `id` (if still open) with a resolution; emits `event` (e.g. "resolved") about it.
  Result<void> close(const std::string& id, const std::string& resolution, const std::string& event, TimePoint at,
                     const std::vector<std::string>& more_readings = {}) {
    auto found = store.find_alert(id);
    if (!found) return found.error();
    if (!*found || (*found)->state == AlertState::closed) return {};
    Alert a = **found;
    a.state = AlertState::closed;
    a.closed = at;
    a.resolution = resolution;
    a.next_reminder.reset();
    for (const auto& uid : more_readings) {
      if (std::find(a.readings.begin(), a.readings.end(), uid) == a.readings.end()) a.readings.push_back(uid);
    }
    return change(a, event, at);
  }

  // The no-repeat policy: the patient did not confirm in time. Closes the request; an alert by policy.
  Result<void> no_repeat(const Rule& rule, const std::string& patient, const nlohmann::json& episode, TimePoint at,
                         const std::string& why) {
    std::vector<std::string> readings = episode.value("readings", std::vector<std::string>{});
    if (auto request = episode.value("request", std::string{}); !request.empty()) {
      if (auto r = close(request, "expired", "closed", at); !r) return r;
    }
    const auto severity = detail::severity_of(rule.timing.on_no_repeat);
    if (!severity) return {};
    const bool red = *severity == Severity::red;
    std::string text = "An extreme reading (" + episode.value("values", std::string{}) + ") was " + why + ".";
    Alert a = make(rule, patient, "alert", *severity, episode.value("anchor", std::string{}), readings, text,
                   red ? "both" : "clinician", red);
    a.raised = at;
    if (red) {
      a.next_reminder = now + rule.timing.reminder_every;
      if (rule.timing.escalate_after) a.escalate_at = now + *rule.timing.escalate_after;
    }
    return raise(std::move(a), at);
  }
};

}  // namespace carehub::rules
