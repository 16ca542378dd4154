// The rules engine, judging readings as they are stored: confirm-by-repeat and bands, inactivity, trends,
// and readings assigned to a patient late. What happens to alerts afterwards is engine_lifecycle.cpp.
#include <openssl/evp.h>

#include <array>

#include "rules/engine_context.hpp"

namespace carehub::rules {

using namespace detail;

std::string alert_id(std::string_view rule, std::string_view patient, std::string_view event, std::string_view anchor,
                     std::string_view hub_id) {
  std::string key = "carehub-alert-v1\n";
  key.append(rule).append("\n").append(patient).append("\n").append(event).append("\n").append(anchor);
  if (!hub_id.empty()) key.append("\nhub=").append(hub_id);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), digest.data(), &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "al-";
  for (int i = 0; i < 8; ++i) {
    out += kHex[digest[static_cast<std::size_t>(i)] >> 4];
    out += kHex[digest[static_cast<std::size_t>(i)] & 0x0F];
  }
  return out;
}

Engine::Engine(RuleSet rules, Logger& log, Counters& counters, std::string hub_id)
    : log_(log), counters_(counters), rules_(std::make_shared<const RuleSet>(std::move(rules))), hub_id_(std::move(hub_id)) {}

void Engine::set_rules(RuleSet rules) {
  auto next = std::make_shared<const RuleSet>(std::move(rules));
  std::lock_guard lock(mu_);
  rules_ = std::move(next);
}

std::shared_ptr<const RuleSet> Engine::rules() const {
  std::lock_guard lock(mu_);
  return rules_;
}

Result<std::vector<AlertEvent>> Engine::in_transaction(RuleStore& store, const std::vector<StoredReading>& inserted,
                                                       TimePoint now) {
  const auto rules = this->rules();
  Context c{*rules, store, now, {}};
  c.hub_id = hub_id_;
  // A reading is judged no later than `now` (design.md invariant 8). The pipeline quarantines readings
  // dated beyond their receipt, but a device clock a minute fast still arrives "from the future", and a
  // reading that slipped through must not open an episode, set an inactivity deadline or a trend window
  // in 2062, where every real reading after it would be history. Copies only for those few.
  std::vector<StoredReading> ahead;
  for (const auto& r : inserted) {
    if (r.reading.time > now) ahead.push_back(r);
  }
  if (!ahead.empty()) {
    counters_.add("rules_readings_after_now", ahead.size());
    log_.debug("rules", "reading-judged-at-now", {{"readings", ahead.size()}});
  }
  for (auto& r : ahead) r.reading.time = now;
  // Judged in the order they were measured, whatever order they arrived in.
  std::vector<const StoredReading*> order;
  order.reserve(inserted.size());
  for (const auto& r : inserted) {
    if (r.reading.time <= now) order.push_back(&r);
  }
  for (const auto& r : ahead) order.push_back(&r);
  std::stable_sort(order.begin(), order.end(),
                   [](const StoredReading* a, const StoredReading* b) { return a->reading.time < b->reading.time; });
  for (const auto* r : order) {
    if (auto e = evaluate(c, *r); !e) return e.error();
  }
  counters_.add("rules_readings_evaluated", inserted.size());
  return std::move(c.events);
}

Result<std::vector<AlertEvent>> Engine::judge_assigned(RuleStore& store, const std::vector<StoredReading>& assigned,
                                                       TimePoint now) {
  const auto rules = this->rules();
  Context c{*rules, store, now, {}};
  c.hub_id = hub_id_;
  // In the order they were measured; none later than now (invariant 8, as in in_transaction).
  std::vector<StoredReading> order(assigned.begin(), assigned.end());
  for (auto& r : order) r.reading.time = std::min(r.reading.time, now);
  std::stable_sort(order.begin(), order.end(),
                   [](const StoredReading& a, const StoredReading& b) { return a.reading.time < b.reading.time; });
  std::vector<std::string> patients;
  for (const auto& r : order) {
    if (r.reading.patient.empty()) continue;
    if (std::find(patients.begin(), patients.end(), r.reading.patient) == patients.end()) patients.push_back(r.reading.patient);
    // As if it arrived when measured: a deadline that passed before then had already ended its episode.
    c.now = r.reading.time;
    if (auto e = expire_episodes(c, r.reading.patient, c.now); !e) return e.error();
    if (auto e = evaluate(c, r); !e) return e.error();
  }
  // Back to the hub's now: whatever this opened and is already past its deadline ends by the policy.
  c.now = now;
  for (const auto& p : patients) {
    if (auto e = expire_episodes(c, p, now); !e) return e.error();
  }
  if (auto e = mark_retrospective(c); !e) return e.error();
  counters_.add("rules_readings_evaluated", assigned.size());
  return std::move(c.events);
}

Result<void> Engine::expire_episodes(Context& c, const std::string& patient, TimePoint at) {
  auto due = c.store.rule_states_due(at);
  if (!due) return due.error();
  for (const auto& s : *due) {
    if (s.patient != patient || s.key != kEpisode) continue;
    const Rule* rule = c.rules.find(s.rule, s.patient);
    if (!rule) continue;  // a removed rule: tick() drops its state
    // Our own row, written from a dump of validated JSON: not peer input, so not parse_peer_json.
    const auto state = nlohmann::json::parse(s.state_json, nullptr, false);
    if (auto e = c.store.erase_rule_state(s.rule, s.patient, s.key); !e) return e;
    if (auto e = c.no_repeat(*rule, s.patient, state, *s.due, "not repeated before its deadline"); !e) return e;
  }
  return {};
}

Result<void> Engine::mark_retrospective(Context& c) {
  // Only what this judgement raised: an alert raised before (an inactivity notice these readings closed)
  // was news when it was raised and stays as it was.
  std::vector<std::string> stale;
  for (const auto& e : c.events) {
    if (std::find(c.raised.begin(), c.raised.end(), e.alert.id) == c.raised.end()) continue;
    if (std::find(stale.begin(), stale.end(), e.alert.id) != stale.end()) continue;
    const Rule* rule = c.rules.find(e.alert.rule, e.alert.patient);
    const Millis actionable = rule ? rule->timing.repeat_deadline : c.rules.defaults.repeat_deadline;
    if (e.alert.raised + actionable <= c.hub_now) stale.push_back(e.alert.id);
  }
  for (const auto& id : stale) {
    auto found = c.store.find_alert(id);
    if (!found) return found.error();
    if (!*found) continue;
    Alert a = **found;
    a.retrospective = true;
    a.notify = false;  // the home display and the patient's phone never show history as news
    a.requires_ack = false;
    a.next_reminder.reset();
    a.escalate_at.reset();
    if (a.audience != "patient") a.audience = "clinician";
    if (auto r = c.store.put_alert(a); !r) return r;
    for (auto& e : c.events) {
      if (e.alert.id != id) continue;
      e.alert.retrospective = true;
      e.alert.notify = false;
      e.alert.requires_ack = false;
      e.alert.next_reminder.reset();
      e.alert.escalate_at.reset();
      e.alert.audience = a.audience;
    }
  }
  if (!stale.empty()) counters_.add("rules_retrospective_alerts", stale.size());
  return {};
}

Result<void> Engine::evaluate(Context& c, const StoredReading& r) {
  if (r.reading.patient.empty()) {
    // Unassigned (design.md invariant 7): the pipeline never passes one, and if anything did, "" is not a
    // patient whose rules, episodes or alerts it may touch.
    counters_.add("rules_unattributed_skipped");
    return {};
  }
  for (const Rule* rule : c.rules.for_patient(r.reading.patient)) {
    if (rule->type == RuleType::inactivity) {
      const bool watched = rule->device ? r.reading.device == *rule->device : rule->kind == r.reading.kind;
      if (watched) {
        if (auto e = inactivity(c, *rule, r); !e) return e;
      }
      continue;
    }
    if (rule->kind != r.reading.kind) continue;
    auto e = rule->type == RuleType::bands ? bands(c, *rule, r) : trend(c, *rule, r);
    if (!e) return e;
  }
  return {};
}

Result<void> Engine::bands(Context& c, const Rule& rule, const StoredReading& r) {
  const auto& patient = r.reading.patient;
  const TimePoint t = r.reading.time;
  const auto cls = classify(rule, r.reading);

  auto stored = c.store.rule_state(rule.id, patient, std::string(kEpisode));
  if (!stored) return stored.error();
  // Our own row, written from a dump of validated JSON: not peer input, so not parse_peer_json.
  const auto open_episode = *stored ? nlohmann::json::parse((*stored)->state_json, nullptr, false) : nlohmann::json{};
  if (*stored && opt_time(open_episode, "opened_ms").value_or(t) > c.hub_now) {
    // Opened "after now", by a reading an older carehub believed (a clock set years ahead): left alone, it
    // would make every real reading history until then. It ends without the no-repeat policy (nobody knows
    // when that reading was measured) and this reading is judged afresh.
    log_.warning("rules", "future-episode-discarded", {{"rule", rule.id}});
    if (auto e = c.store.erase_rule_state(rule.id, patient, std::string(kEpisode)); !e) return e;
    if (auto request = open_episode.value("request", std::string{}); !request.empty()) {
      if (auto e = c.close(request, "discarded: dated after the hub's clock", "closed", c.now); !e) return e;
    }
    stored->reset();
  }
  if (*stored) {
    const auto& episode = open_episode;
    const auto opened = opt_time(episode, "opened_ms").value_or(t);
    const auto deadline = opt_time(episode, "deadline_ms").value_or(opened);
    const auto window_end = opt_time(episode, "window_end_ms").value_or(opened);
    if (t < opened) return {};  // history: older than the reading that opened the episode
    if (t <= window_end && t < deadline) {
      // The repeat. Either way the episode ends here.
      if (auto e = c.store.erase_rule_state(rule.id, patient, std::string(kEpisode)); !e) return e;
      std::vector<std::string> readings = episode.value("readings", std::vector<std::string>{});
      readings.push_back(r.uid);
      const auto request = episode.value("request", std::string{});
      const auto side = direction_of(episode);
      if (still_extreme(rule, r.reading, side)) {
        if (auto e = c.close(request, "confirmed", "closed", t, {r.uid}); !e) return e;
        std::string text = rule.text.empty()
                               ? "Your repeated measurement is still at an extreme level (" + values_text(r.reading) +
                                     "). Please seek medical advice now, and acknowledge this alert."
                               : rule.text;
        return c.raise(c.make(rule, patient, "alert", Severity::red, episode.value("anchor", r.uid), readings,
                              std::move(text), "both", true),
                       c.now);
      }
      if (side && cls.band == (*side == Direction::high ? Band::extreme_low : Band::extreme_high)) {
        // Extreme the other way (SBP 84, then 205): it confirms nothing of this episode, which ends, and is
        // then judged afresh below: its own episode and repeat request.
        if (auto e = c.close(request, "not confirmed: extreme the other way", "resolved", t, {r.uid}); !e) return e;
      } else {
        return c.close(request, "resolved", "resolved", t, {r.uid});
      }
    } else {
      // Too late to be the repeat (or the deadline passed before the hub heard of it): the no-repeat policy
      // ends the episode at its deadline or now, whichever came first, then the reading is judged afresh.
      if (auto e = c.store.erase_rule_state(rule.id, patient, std::string(kEpisode)); !e) return e;
      const TimePoint at = std::min(deadline, std::max(t, opened));
      if (auto e = c.no_repeat(rule, patient, episode, at, "not repeated within the confirmation window"); !e) return e;
    }
  }

  const Outcome outcome = rule.outcome(cls.band);
  if (outcome == Outcome::none) return {};
  if (outcome == Outcome::confirm && extreme(cls.band)) {
    nlohmann::json episode = {{"opened_ms", to_epoch_ms(t)},
                              {"deadline_ms", to_epoch_ms(t + rule.timing.repeat_deadline)},
                              {"window_end_ms", to_epoch_ms(t + rule.timing.confirm_window)},
                              {"direction", cls.band == Band::extreme_high ? "high" : "low"},
                              {"anchor", r.uid},
                              {"device", r.reading.device},
                              {"values", values_text(r.reading)},
                              {"readings", {r.uid}}};
    if (t + rule.timing.repeat_deadline <= c.now) {
      // Measured too long ago to be repeated now (a device's memory arriving late).
      return c.no_repeat(rule, patient, episode, c.now, "received after its repeat deadline");
    }
    std::string text = "Your reading (" + values_text(r.reading) + ") is at an extreme level. Please rest and measure again now, within " +
                       format_duration(rule.timing.confirm_window) + ".";
    Alert request = c.make(rule, patient, "repeat-request", Severity::info, r.uid, {r.uid}, std::move(text), "patient",
                           false);
    request.deadline = t + rule.timing.repeat_deadline;
    request.repeat_by = t + std::min(rule.timing.confirm_window, rule.timing.repeat_deadline);
    episode["request"] = request.id;
    if (auto e = c.store.put_rule_state({rule.id, patient, std::string(kEpisode), episode.dump(),
                                         t + rule.timing.repeat_deadline});
        !e) {
      return e;
    }
    return c.raise(std::move(request), c.now);
  }
  // An immediate alert, one open alert per rule, patient and band: a run of high readings is one alert.
  const auto severity = severity_of(outcome == Outcome::confirm ? Outcome::amber : outcome);
  const std::string key = "band:" + std::string(to_string(cls.band));
  auto open = c.store.rule_state(rule.id, patient, key);
  if (!open) return open.error();
  if (*open) {
    auto existing = c.store.find_alert((*open)->state_json);
    if (!existing) return existing.error();
    if (*existing && (*existing)->state == AlertState::open) return {};
  }
  const bool red = *severity == Severity::red;
  std::string text = rule.text.empty() ? "Reading " + std::string(to_string(cls.band)) + " (" + values_text(r.reading) + ")."
                                       : rule.text;
  Alert a = c.make(rule, patient, "alert", *severity, r.uid, {r.uid}, std::move(text), red ? "both" : "clinician", red);
  if (auto e = c.store.put_rule_state({rule.id, patient, key, a.id, std::nullopt}); !e) return e;
  return c.raise(std::move(a), c.now);
}

Result<void> Engine::inactivity(Context& c, const Rule& rule, const StoredReading& r) {
  const auto& patient = r.reading.patient;
  const std::string key = rule.device ? "device:" + *rule.device : "kind:" + std::string(to_string(*rule.kind));
  auto stored = c.store.rule_state(rule.id, patient, key);
  if (!stored) return stored.error();
  nlohmann::json state = nlohmann::json::object();
  // Our own row, written from a dump of validated JSON: not peer input, so not parse_peer_json.
  if (*stored) state = nlohmann::json::parse((*stored)->state_json, nullptr, false);
  if (!state.is_object()) state = nlohmann::json::object();
  auto last = opt_time(state, "last_ms");
  // A last reading "after now" was believed by an older carehub (a clock set years ahead): it would hold
  // the notice off until then. The silence is counted from this reading instead.
  if (last && *last > c.hub_now) last.reset();
  if (last && r.reading.time <= *last) return {};  // an older reading does not end a silence that came after it
  if (auto notice = state.value("notice", std::string{}); !notice.empty()) {
    if (auto e = c.close(notice, "data resumed", "closed", c.now, {r.uid}); !e) return e;
    state.erase("notice");
  }
  state["last_ms"] = to_epoch_ms(r.reading.time);
  state["last_uid"] = r.uid;
  return c.store.put_rule_state({rule.id, patient, key, state.dump(), r.reading.time + rule.timing.inactive_after});
}

Result<void> Engine::trend(Context& c, const Rule& rule, const StoredReading& r) {
  auto it = r.reading.values.find(rule.component);
  if (it == r.reading.values.end()) return {};
  const double v = it->second;
  const auto& patient = r.reading.patient;
  auto window = c.store.readings_between(patient, r.reading.kind, r.reading.time - rule.within, r.reading.time);
  if (!window) return window.error();
  // The baseline is the lowest (for a rise) or highest (for a fall) earlier reading in the window.
  const StoredReading* base = nullptr;
  for (const auto& w : *window) {
    if (w.uid == r.uid) continue;
    auto wv = w.reading.values.find(rule.component);
    if (wv == w.reading.values.end()) continue;
    if (!base || (rule.change > 0 ? wv->second < base->reading.values.at(rule.component)
                                  : wv->second > base->reading.values.at(rule.component))) {
      base = &w;
    }
  }
  if (!base) return {};
  const double delta = v - base->reading.values.at(rule.component);
  const bool fired = rule.change > 0 ? delta >= rule.change - kEpsilon : delta <= rule.change + kEpsilon;
  if (!fired) return {};
  auto open = c.store.rule_state(rule.id, patient, "trend");
  if (!open) return open.error();
  if (*open) {
    auto existing = c.store.find_alert((*open)->state_json);
    if (!existing) return existing.error();
    if (*existing && (*existing)->state == AlertState::open) return {};  // one open trend alert at a time
  }
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s %s changed by %+.10g within %s (from %.10g to %.10g).",
                std::string(to_string(r.reading.kind)).c_str(), rule.component.c_str(), delta,
                format_duration(rule.within).c_str(), base->reading.values.at(rule.component), v);
  const bool red = rule.severity == Severity::red;
  Alert a = c.make(rule, patient, "alert", rule.severity, r.uid, {base->uid, r.uid}, rule.text.empty() ? buf : rule.text,
                   red ? "both" : "clinician", red);
  if (auto e = c.store.put_rule_state({rule.id, patient, "trend", a.id, std::nullopt}); !e) return e;
  return c.raise(std::move(a), c.now);
}

}  // namespace carehub::rules
