// The uploader's record of what the server said about each entry of a request: readings synced, dead or
// kept pending, alert revisions synced or dead, all in one pipeline operation.
#include "sync/uploader.hpp"

namespace carehub::sync {

namespace {

// One reading's fate from all of its entries: dead if any is dead (with that reason), else pending if
// any is not synced, else synced as its own (first) Observation.
const EntryOutcome& unit_outcome(const std::vector<EntryOutcome>& outcomes, std::size_t begin, std::size_t end) {
  const EntryOutcome* worst = &outcomes[begin];
  const auto rank = [](EntryFate f) {
    switch (f) {
      case EntryFate::dead: return 3;
      case EntryFate::missing_reference: return 2;
      case EntryFate::retry: return 1;
      case EntryFate::synced: return 0;
    }
    return 1;
  };
  for (std::size_t i = begin; i < end; ++i) {
    if (rank(outcomes[i].fate) > rank(worst->fate)) worst = &outcomes[i];
  }
  return worst->fate == EntryFate::synced ? outcomes[begin] : *worst;
}

}  // namespace

bool Uploader::record_outcomes(const Request& sent, const std::vector<std::size_t>& first_entry,
                               const std::vector<EntryOutcome>& outcomes) {
  const auto now = clock_.now();
  const auto& units = sent.units;
  const auto& alerts = sent.alerts;
  std::vector<const EntryOutcome*> per_unit;
  for (std::size_t i = 0; i < units.size(); ++i) {
    const auto end = i + 1 < first_entry.size() ? first_entry[i + 1] : outcomes.size();
    per_unit.push_back(&unit_outcome(outcomes, first_entry[i], end));
  }
  // Alert entries come first, one each. A revision the server took is synced unless a newer one came
  // meanwhile (mark_alert_synced); a refused one is dead; a transient answer leaves it pending.
  const auto alert_server_id = [&](std::size_t i) {
    return outcomes[i].server_id.empty() ? alerts[i].alert.server_id : outcomes[i].server_id;
  };
  // One operation (one transaction) per request, however many entries it carried. It needs no fsync of
  // its own (Durability::deferred): an outcome lost at a power cut only sends again what the server holds,
  // and conditional creates and updates keep that exactly-once.
  auto applied = pipeline_
                     .apply([&](StoreWriter& w) -> Result<void> {
                       for (std::size_t i = 0; i < alerts.size(); ++i) {
                         const auto& a = alerts[i].alert;
                         Result<void> r;
                         if (outcomes[i].fate == EntryFate::synced) {
                           r = w.mark_alert_synced(a.alert.id, a.revision, alert_server_id(i));
                         } else if (outcomes[i].fate == EntryFate::dead) {
                           r = w.mark_alert_dead(a.alert.id, a.revision, outcomes[i].reason);
                         }
                         if (!r) return r;
                       }
                       for (std::size_t i = 0; i < units.size(); ++i) {
                         const auto& o = *per_unit[i];
                         for (const auto& m : units[i].members) {
                           Result<void> r;
                           switch (o.fate) {
                             case EntryFate::synced: r = w.mark_synced(m.seq, o.server_id, now); break;
                             case EntryFate::dead: r = w.mark_dead(m.seq, o.reason); break;
                             case EntryFate::retry:
                             case EntryFate::missing_reference: r = w.mark_attempt(m.seq); break;
                           }
                           if (!r) return r;
                         }
                       }
                       return {};
                     },
                            Durability::deferred)
                     .get();
  if (!applied) {
    record_failure("recording sync outcomes: " + applied.error().message, std::nullopt);
    return false;
  }
  std::size_t synced = 0, dead = 0, retry = 0, missing = 0;
  const EntryOutcome* missing_example = nullptr;
  const EntryOutcome* retry_example = nullptr;
  for (std::size_t i = 0; i < units.size(); ++i) {
    const auto n = units[i].members.size();
    switch (per_unit[i]->fate) {
      case EntryFate::synced: synced += n; break;
      case EntryFate::dead: dead += n; break;
      case EntryFate::retry:
        retry += n;
        retry_example = per_unit[i];
        break;
      case EntryFate::missing_reference:
        missing += n;
        missing_example = per_unit[i];
        break;
    }
  }
  std::size_t alerts_missing = 0;
  for (std::size_t i = 0; i < alerts.size(); ++i) {
    const auto& o = outcomes[i];
    switch (o.fate) {
      case EntryFate::synced: counters_.add("sync_alerts"); break;
      case EntryFate::dead:
        counters_.add("sync_alerts_dead");
        log_.error("sync", "alert-refused",
                   {{"alert", alerts[i].alert.alert.id}, {"status", o.status}, {"reason", "see carehubctl sync dead"}});
        break;
      case EntryFate::retry:
        ++retry;
        retry_example = &o;
        break;
      case EntryFate::missing_reference:
        ++alerts_missing;
        missing_example = &o;
        break;
    }
  }
  counters_.add("sync_synced", synced);
  counters_.add("sync_dead", dead);
  if (dead > 0) {
    log_.warning("sync", "dead-lettered", {{"readings", dead}, {"reason", "the server refused them; see carehubctl sync dead"}});
  }
  if (missing + alerts_missing > 0) {
    // The server lacks a Patient or Device these reference (wrong configuration, or expunged): believe
    // nothing remembered about what exists; the next attempt looks the Patient up and re-creates Devices.
    counters_.add("sync_config_errors");
    counters_.add("sync_missing_references", missing);
    const auto error = "configuration error: the server refused " + std::to_string(missing) + " reading(s)" +
                       (alerts_missing > 0 ? " and " + std::to_string(alerts_missing) + " alert(s)" : std::string()) +
                       " because a resource they reference does not exist (kept pending): " +
                       missing_example->reason.substr(0, 300);
    log_.error("sync", "reference-missing",
               {{"readings", missing}, {"alerts", alerts_missing}, {"reason", missing_example->reason.substr(0, 300)}});
    reference_missing(error);
    record_failure(error, std::nullopt);
    return false;
  }
  if (retry > 0) {
    record_failure(std::to_string(retry) + " entries answered with a transient error: status " +
                       std::to_string(retry_example->status) + " " + retry_example->reason.substr(0, 300),
                   std::nullopt);
    return false;
  }
  record_success(sent.items());  // bundle_size_ counts readings (units) and alerts, not entries
  return true;
}

void Uploader::reference_missing(const std::string& error) {
  device_refs_.clear();
  hub_ref_.clear();
  patients_.forget_all();
  set_config_error(error);
}

}  // namespace carehub::sync
