// The uploader's alert path (see alert_upload.hpp for why every revision is a conditional update).
#include "sync/alert_upload.hpp"

#include <set>
#include <unordered_map>

#include "core/reading.hpp"
#include "sync/uploader.hpp"

namespace carehub::sync {
namespace {

// Alerts read per pass; they go in the pass's request, with the readings.
constexpr std::size_t kAlertsPerPass = 20;

}  // namespace

BundleEntry alert_entry(const AlertToSync& a, const fhir::AlertReferences& refs) {
  BundleEntry entry;
  entry.resource = fhir::detected_issue(a.alert, refs);
  entry.update = "DetectedIssue?" + fhir::detected_issue_if_none_exist(a.alert.id);
  entry.full_url = "urn:uuid:" + name_uuid("carehub:DetectedIssue:" + a.alert.id);
  return entry;
}

Result<Uploader::AlertPlan> Uploader::plan_alerts() {
  AlertPlan plan;
  auto alerts = reader_->alerts_to_sync(kAlertsPerPass);
  if (!alerts) return make_error(alerts.error().code, "reading alerts: " + alerts.error().message);
  if (alerts->empty()) return plan;
  plan.more = alerts->size() >= kAlertsPerPass;
  // An alert for a Patient the server lacks waits with its readings (upload_once() reports it).
  std::vector<AlertToSync> sendable;
  ReadingQuery q;
  for (auto& a : *alerts) {
    auto patient_ok = patient_exists(a.alert.patient);
    if (!patient_ok) return make_error(patient_ok.error().code, "looking up " + a.alert.patient + ": " + patient_ok.error().message);
    if (!*patient_ok) continue;
    q.uids.insert(q.uids.end(), a.alert.readings.begin(), a.alert.readings.end());
    sendable.push_back(std::move(a));
  }
  // Every alert's evidence in one query.
  std::unordered_map<std::string, StoredReading> evidence;
  if (!q.uids.empty()) {
    q.limit = q.uids.size() + 1;
    auto rows = reader_->readings(q);
    if (!rows) return make_error(rows.error().code, "reading an alert's evidence: " + rows.error().message);
    for (auto& s : *rows) evidence.emplace(s.uid, std::move(s));
  }
  std::set<std::int64_t> waited_for;
  for (auto& a : sendable) {
    // The evidence first: the server must hold the Observations the alert cites (HAPI refuses references
    // to resources it does not have, and a batch's entries cannot cite each other), and they are the
    // clinician's reason to look. A pending one goes now, ahead of the backlog; the alert in the next request.
    fhir::AlertReferences refs;
    bool waits = false;
    for (const auto& uid : a.alert.readings) {
      const auto it = evidence.find(uid);
      if (it == evidence.end()) continue;
      const auto& s = it->second;
      if (s.state == SyncState::pending && !suspects_.contains(s.seq)) {
        waits = true;
        if (waited_for.insert(s.seq).second) plan.evidence.push_back({{s}, std::nullopt});
      }
      // Dead-lettered evidence is not on the server; the alert still goes, citing what is there.
      if (s.state == SyncState::synced && !s.server_id.empty()) refs.observations.push_back(s.server_id);
    }
    if (waits) {
      plan.more = true;
      continue;
    }
    plan.ready.push_back({std::move(a), std::move(refs)});
  }
  return plan;
}

}  // namespace carehub::sync
