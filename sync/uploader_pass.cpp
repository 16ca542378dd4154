// One pass of the uploader: what the next request carries, and sending it. Alerts ride with the readings:
// a request per alert revision (and one more for its evidence) used to split the backlog's bundles and
// halve what the server took per second.
#include "sync/alert_upload.hpp"
#include "sync/audit_upload.hpp"
#include "sync/uploader.hpp"

namespace carehub::sync {

Uploader::Pass Uploader::upload_once() {
  if (auto devices = reader_->devices()) {
    for (auto& d : *devices) registry_[d.id] = std::move(d);
  }
  // A new attempt asks again about patients found missing before (the fix may be on the server).
  patients_.forget_missing();
  if (!options_.patient.empty()) {
    if (auto p = patient_exists(options_.patient); !p) {
      record_failure("looking up the configured patient: " + p.error().message, std::nullopt);
      return Pass::failed;
    }
  }
  // The audit trail first (audit_upload.cpp): a request of its own when rows wait, never holding readings.
  switch (send_audit_events()) {
    case Sent::failed: return Pass::failed;
    case Sent::again: return Pass::more;
    case Sent::done: break;
  }
  auto plan = plan_alerts();
  if (!plan) {
    record_failure(plan.error().message, std::nullopt);
    return Pass::failed;
  }
  // After a bundle was refused as a whole, one entry per request until the culprit is found. Readings
  // go first then: an alert refused as a whole is retried after a backoff, never dead-lettered on a
  // guess, and must not hold the readings up meanwhile.
  const bool isolating = isolate_remaining_ > 0;
  const std::size_t limit = isolating ? 1 : bundle_size_.current();
  if (isolating) --isolate_remaining_;

  Request req;
  std::set<std::int64_t> taken;
  bool more = plan->more;
  // Alerts first: a clinician must not wait for a week's backlog to see one. Then the evidence alerts
  // wait for (their next request follows at once), then the backlog oldest first.
  if (!isolating) {
    for (auto& a : plan->ready) {
      if (req.items() >= limit) {
        more = true;
        break;
      }
      req.alerts.push_back(std::move(a));
    }
  }
  for (auto& u : plan->evidence) {
    if (req.items() >= limit) {
      more = true;
      break;
    }
    for (const auto& m : u.members) taken.insert(m.seq);
    req.units.push_back(std::move(u));
  }
  std::optional<TimePoint> next_window_close;
  if (req.items() < limit) {
    auto units = collect_units(limit - req.items(), taken, next_window_close);
    if (!units) {
      record_failure("reading the buffer: " + units.error().message, std::nullopt);
      return Pass::failed;
    }
    for (auto& u : *units) req.units.push_back(std::move(u));
  }
  if (isolating && req.items() == 0 && !plan->ready.empty()) {
    req.alerts.push_back(std::move(plan->ready.front()));
    more = more || plan->ready.size() > 1;
  }
  if (req.items() > 0) {
    const bool full = req.items() >= limit;
    switch (send(std::move(req))) {
      case Sent::failed: return Pass::failed;
      case Sent::again: return Pass::more;
      case Sent::done:
        // It went through: whatever was misconfigured is fixed, unless a Patient is still missing. This
        // may be the last pass until the next reading, so the status must not wait for an empty one.
        if (patients_.missing().empty()) set_config_error("");
        return full || more ? Pass::more : Pass::short_bundle;
    }
  }

  if (!suspects_.empty()) {
    // Requests carrying one reading each were refused as a whole, and nothing else went through to
    // show the server takes requests at all: that is the request's problem (a proxy, the coding, the
    // server), not the readings'. They stay pending; back off.
    counters_.add("sync_request_refusals");
    const auto n = suspects_.size();
    const auto answer = suspects_.begin()->second.substr(0, 300);
    suspects_.clear();
    record_failure("the server refused " + std::to_string(n) +
                       " request(s) as a whole and accepted none in between, so no reading is blamed "
                       "(all kept pending); its answer: " + answer,
                   std::nullopt);
    return Pass::failed;
  }
  if (!patients_.missing().empty()) {
    // What is left waits on a Patient the server does not have: a configuration error, not the
    // readings'. Back off and look again (or after a reload).
    const auto error = missing_patients_error(patients_.missing());
    set_config_error(error);
    record_failure(error, std::nullopt);
    return Pass::failed;
  }
  set_config_error("");
  std::lock_guard lock(mu_);
  if (next_window_close) {
    const auto wait = std::max(*next_window_close - clock_.now(), TimePoint::duration::zero());
    next_window_mono_ = clock_.monotonic() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait);
  }
  return Pass::idle;
}

Uploader::Sent Uploader::send(Request req) {
  auto hub = ensure_hub();
  if (!hub) {
    record_failure(hub.error().message, std::nullopt);
    return Sent::failed;
  }
  // Alerts' entries first, one each, then the readings' (unit i's first is first_entry[i]).
  std::vector<BundleEntry> entries;
  for (auto& a : req.alerts) {
    a.refs.hub = *hub;
    entries.push_back(alert_entry(a.alert, a.refs));
  }
  std::vector<std::size_t> first_entry;
  if (auto r = reading_entries(req.units, *hub, entries, first_entry); r != Sent::done) return r;
  if (entries.empty()) return Sent::done;  // all dead-lettered (Devices refused)

  std::vector<EntryOutcome> outcomes;
  std::string refusal;
  switch (exchange(entries, req.items(), outcomes, refusal)) {
    case Exchange::failed: return Sent::failed;
    case Exchange::retry_now: return Sent::again;
    case Exchange::refused:
      if (!req.alerts.empty()) {
        // Refused as a whole: nothing says it is this alert's fault, and an alert is never given up on
        // a guess. It stays pending; back off.
        record_failure("alert " + req.alerts.front().alert.alert.id + ": the server refused the request: " +
                           refusal.substr(0, 300),
                       std::nullopt);
        return Sent::failed;
      }
      for (const auto& m : req.units.front().members) suspects_[m.seq] = refusal;
      log_.warning("sync", "request-refused", {{"readings", req.units.front().members.size()},
                                               {"action", "dead-lettered only if other requests go through"}});
      return Sent::again;
    case Exchange::ok: break;
  }
  // The server took this request: the suspects' refusals were about them.
  if (!confirm_suspects()) return Sent::failed;
  return record_outcomes(req, first_entry, outcomes) ? Sent::done : Sent::failed;
}

}  // namespace carehub::sync
