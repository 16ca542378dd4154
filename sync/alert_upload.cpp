// The uploader's alert path (see alert_upload.hpp for why every revision is a conditional update).
#include "sync/alert_upload.hpp"

#include "core/reading.hpp"
#include "sync/uploader.hpp"

namespace carehub::sync {
namespace {

// Alerts per pass; each goes in a bundle of its own after its evidence.
constexpr std::size_t kAlertsPerPass = 20;

}  // namespace

BundleEntry alert_entry(const AlertToSync& a, const fhir::AlertReferences& refs) {
  BundleEntry entry;
  entry.resource = fhir::detected_issue(a.alert, refs);
  entry.update = "DetectedIssue?" + fhir::detected_issue_if_none_exist(a.alert.id);
  entry.full_url = "urn:uuid:" + name_uuid("carehub:DetectedIssue:" + a.alert.id);
  return entry;
}

bool Uploader::upload_alerts() {
  auto alerts = reader_->alerts_to_sync(kAlertsPerPass);
  if (!alerts) {
    record_failure("reading alerts: " + alerts.error().message, std::nullopt);
    return false;
  }
  for (const auto& a : *alerts) {
    // An alert for a Patient the server lacks waits with its readings (upload_once() reports it).
    auto patient_ok = patient_exists(a.alert.patient);
    if (!patient_ok) {
      record_failure("looking up " + a.alert.patient + ": " + patient_ok.error().message, std::nullopt);
      return false;
    }
    if (!*patient_ok) continue;
    // The evidence first: the server must hold the Observations the alert cites (HAPI refuses references
    // to resources it does not have), and they are the clinician's reason to look.
    ReadingQuery q;
    q.uids = a.alert.readings;
    q.limit = a.alert.readings.size() + 1;
    auto evidence = reader_->readings(q);
    if (!evidence) {
      record_failure("reading an alert's evidence: " + evidence.error().message, std::nullopt);
      return false;
    }
    std::vector<Unit> unsent;
    for (const auto& s : *evidence) {
      if (s.state == SyncState::pending && !suspects_.contains(s.seq)) unsent.push_back({{s}, std::nullopt});
    }
    if (!unsent.empty()) {
      if (!send_units(std::move(unsent))) return false;
      evidence = reader_->readings(q);
      if (!evidence) {
        record_failure("reading an alert's evidence: " + evidence.error().message, std::nullopt);
        return false;
      }
    }
    auto hub = ensure_hub();
    if (!hub) {
      record_failure(hub.error().message, std::nullopt);
      return false;
    }
    fhir::AlertReferences refs{*hub, {}};
    for (const auto& s : *evidence) {
      // Dead-lettered evidence is not on the server; the alert still goes, citing what is there.
      if (s.state == SyncState::synced && !s.server_id.empty()) refs.observations.push_back(s.server_id);
    }
    std::vector<EntryOutcome> outcomes;
    std::string refusal;
    switch (exchange({alert_entry(a, refs)}, 1, outcomes, refusal)) {
      case Exchange::failed: return false;
      case Exchange::retry_now: return true;  // cannot happen for one entry; handled for completeness
      case Exchange::refused:
        // Refused as a whole: nothing says it is this alert's fault, and an alert is never given up on
        // a guess. It stays pending; back off.
        record_failure("alert " + a.alert.id + ": the server refused the request: " + refusal.substr(0, 300), std::nullopt);
        return false;
      case Exchange::ok: break;
    }
    const auto& o = outcomes.front();
    if (o.fate == EntryFate::retry || o.fate == EntryFate::missing_reference) {
      if (o.fate == EntryFate::missing_reference) {
        counters_.add("sync_config_errors");
        device_refs_.clear();
        hub_ref_.clear();
        patients_.forget_all();
        set_config_error("configuration error: the server refused alert " + a.alert.id +
                         " because a resource it references does not exist (kept pending): " + o.reason.substr(0, 300));
      }
      record_failure("alert " + a.alert.id + ": entry status " + std::to_string(o.status) + " " + o.reason.substr(0, 300),
                     std::nullopt);
      return false;
    }
    const auto server_id = o.server_id.empty() ? a.server_id : o.server_id;
    auto applied = pipeline_
                       .apply([&](StoreWriter& w) -> Result<void> {
                         if (o.fate == EntryFate::synced) return w.mark_alert_synced(a.alert.id, a.revision, server_id);
                         return w.mark_alert_dead(a.alert.id, a.revision, o.reason);
                       })
                       .get();
    if (!applied) {
      record_failure("recording an alert's sync: " + applied.error().message, std::nullopt);
      return false;
    }
    if (o.fate == EntryFate::synced) {
      counters_.add("sync_alerts");
    } else {
      counters_.add("sync_alerts_dead");
      log_.error("sync", "alert-refused", {{"alert", a.alert.id}, {"status", o.status}, {"reason", "see carehubctl sync dead"}});
    }
    record_success(0);
  }
  return true;
}

}  // namespace carehub::sync
