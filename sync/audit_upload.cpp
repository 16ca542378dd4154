// The uploader's audit step (see audit_upload.hpp).
#include "sync/audit_upload.hpp"

#include <chrono>
#include <optional>

#include "sync/audit_mapping.hpp"
#include "sync/uploader.hpp"

namespace carehub::sync {
namespace {

// After the server refused an audit batch as a whole, the next try waits this long: passes run every
// 200 ms under load, and a refusal (a server that does not take AuditEvents) is not fixed by repeating it.
constexpr auto kRefusedPause = std::chrono::minutes(5);
// Per upload thread (one per Uploader): when the audit step may try again after a refusal.
thread_local std::optional<std::chrono::steady_clock::time_point> refused_until;

}  // namespace

BundleEntry audit_entry(const AuditEvent& e, const std::string& hub_id) {
  BundleEntry entry;
  entry.resource = fhir::audit_event(e, hub_id);
  entry.update = fhir::audit_event_url(e);
  entry.full_url = "urn:uuid:" + name_uuid("carehub:AuditEvent:" + e.uid);
  return entry;
}

Uploader::Sent Uploader::send_audit_events() {
  if (refused_until && clock_.monotonic() < *refused_until) return Sent::done;
  auto rows = reader_->audit_to_sync(kAuditPerPass);
  if (!rows) {
    record_failure("reading the audit trail: " + rows.error().message, std::nullopt);
    return Sent::failed;
  }
  if (rows->empty()) return Sent::done;
  std::vector<BundleEntry> entries;
  for (const auto& e : *rows) entries.push_back(audit_entry(e, options_.hub_id));
  std::vector<EntryOutcome> outcomes;
  std::string refusal;
  // As one unit: a batch refused as a whole is not split (that is the readings' isolation of a culprit,
  // and an audit row is never dead-lettered on a guess).
  switch (exchange(entries, 1, outcomes, refusal)) {
    case Exchange::failed: return Sent::failed;  // recorded: the pass backs off, as for readings
    case Exchange::retry_now: return Sent::again;
    case Exchange::refused:
      // Nothing says which row is at fault, and an audit row is never given up on a guess: it stays
      // pending, and the readings go on.
      counters_.add("sync_audit_refusals");
      refused_until = clock_.monotonic() + kRefusedPause;
      log_.rate_limited(LogLevel::warning, "sync", "sync:audit-refused", "audit-events-refused",
                        {{"events", entries.size()}, {"answer", refusal.substr(0, 300)}}, std::chrono::minutes(10));
      return Sent::done;
    case Exchange::ok: break;
  }
  refused_until.reset();
  const auto& sent = *rows;
  auto applied = pipeline_
                     .apply([&](StoreWriter& w) -> Result<void> {
                       for (std::size_t i = 0; i < sent.size(); ++i) {
                         const auto& o = outcomes[i];
                         Result<void> r;
                         switch (o.fate) {
                           case EntryFate::synced:
                             r = w.mark_audit_synced(sent[i].seq, o.server_id.empty() ? fhir::audit_event_url(sent[i]) : o.server_id);
                             break;
                           case EntryFate::dead: r = w.mark_audit_dead(sent[i].seq, o.reason); break;
                           case EntryFate::retry:
                           case EntryFate::missing_reference: r = w.mark_audit_attempt(sent[i].seq); break;
                         }
                         if (!r) return r;
                       }
                       return {};
                     },
                            Durability::deferred)  // a lost outcome only sends the same PUT again
                     .get();
  if (!applied) {
    record_failure("recording audit upload outcomes: " + applied.error().message, std::nullopt);
    return Sent::failed;
  }
  // The server took the request: the uploader's failure count, backoff and in-flight count reset (0: an
  // audit batch says nothing about the bundle size the readings' requests may grow to).
  record_success(0);
  std::size_t synced = 0;
  for (const auto& o : outcomes) synced += o.fate == EntryFate::synced ? 1 : 0;
  counters_.add("sync_audit_events", synced);
  if (synced < outcomes.size()) counters_.add("sync_audit_not_taken", outcomes.size() - synced);
  return Sent::done;
}

}  // namespace carehub::sync
