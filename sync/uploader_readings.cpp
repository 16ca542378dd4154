// The uploader's reading path: collecting pending readings into units and units into bundle entries, and
// dead-lettering the readings a server refused.
#include <functional>
#include <set>
#include <tuple>

#include "sync/fhir_mapping.hpp"
#include "sync/uploader.hpp"

namespace carehub::sync {
namespace {

// Pending rows looked at per query while collecting a bundle (open aggregation windows, suspects and
// readings of a missing patient are skipped).
constexpr std::size_t kScanPage = 500;

}  // namespace

Result<std::vector<Uploader::Unit>> Uploader::collect_units(std::size_t limit, std::set<std::int64_t>& taken,
                                                            std::optional<TimePoint>& next_window_close) {
  const auto now = clock_.now();
  std::vector<Unit> units;
  std::set<std::tuple<std::string, std::string, Kind, std::int64_t>> windows_taken;  // patient, device, kind, start
  std::int64_t after = 0;
  // Rows may be skipped (suspects, a missing patient's): then read pages, not just what a bundle takes.
  const bool skipping = !suspects_.empty() || !patients_.missing().empty() || !taken.empty();
  while (units.size() < limit) {
    const std::size_t page = options_.aggregate.empty() && !skipping ? limit - units.size() : kScanPage;
    auto pending = reader_->readings({SyncState::pending, after, page, false});
    if (!pending) return pending.error();
    for (auto& s : *pending) {
      after = s.seq;
      if (units.size() >= limit) break;
      if (suspects_.contains(s.seq) || taken.contains(s.seq)) continue;
      auto patient_ok = patient_exists(s.reading.patient);
      if (!patient_ok) return patient_ok.error();
      if (!*patient_ok) continue;  // waits for the Patient; upload_once() reports the configuration error
      const auto* rule = matching_rule(options_.aggregate, s.reading);
      if (!rule) {
        taken.insert(s.seq);
        units.push_back({{std::move(s)}, std::nullopt});
        continue;
      }
      const auto w = window_of(s.reading.time, rule->period);
      if (!window_closed(w, rule->period, now)) {
        const auto closes = w.end + rule->period;
        if (!next_window_close || closes < *next_window_close) next_window_close = closes;
        continue;
      }
      const auto key = std::make_tuple(s.reading.patient, s.reading.device, s.reading.kind, to_epoch_ms(w.start));
      if (!windows_taken.insert(key).second) continue;
      ReadingQuery q{SyncState::pending, 0, 1'000'000, false};
      q.device = s.reading.device;
      q.kind = s.reading.kind;
      q.from = w.start;
      q.to = w.end;
      auto members = reader_->readings(q);
      if (!members) return members.error();
      std::erase_if(*members, [&](const StoredReading& m) {
        return m.reading.patient != s.reading.patient || suspects_.contains(m.seq) || taken.contains(m.seq);
      });
      for (const auto& m : *members) taken.insert(m.seq);
      if (!members->empty()) units.push_back({std::move(*members), w});
    }
    if (pending->size() < page) break;
  }
  return units;
}

Uploader::Sent Uploader::reading_entries(std::vector<Unit>& units, const std::string& hub,
                                        std::vector<BundleEntry>& entries, std::vector<std::size_t>& first_entry) {
  // Readings whose Device the server refuses are dead-lettered with its reason; the rest go on.
  std::vector<Unit> sending;
  std::vector<std::pair<std::int64_t, std::string>> refused;
  for (auto& u : units) {
    const auto& first = u.members.front();
    fhir::References refs{"", hub};
    // The registry entry makes a PHD's Observations claim the PHD IG profiles (fhir::References::device).
    if (auto it = registry_.find(first.reading.device); it != registry_.end()) refs.device = &it->second;
    if (first.reading.device != kManualDevice) {
      auto sensor = ensure_device(first.reading.device);
      if (!sensor && sensor.error().code == Errc::invalid_argument) {
        for (const auto& m : u.members) refused.emplace_back(m.seq, sensor.error().message);
        continue;
      }
      if (!sensor) {
        record_failure(sensor.error().message, std::nullopt);
        return Sent::failed;
      }
      refs.sensor = *sensor;
    }
    const auto begin = entries.size();
    if (u.window) {
      entries.push_back({aggregate_observation(u.members, *u.window, refs), fhir::observation_if_none_exist(aggregate_uid(u.members))});
    } else {
      // Out-of-band values are flagged as the rules judged them, so a dashboard sees what the hub saw.
      if (options_.bands) {
        for (const auto& [component, band] : options_.bands(first.reading)) {
          if (const auto flag = fhir::flag_from_band(band)) refs.flags[component] = *flag;
        }
      }
      // A reading may become several Observations (derived height, BMI, pulse): all go, in one bundle.
      for (auto& o : options_.observations(first, refs)) entries.push_back({std::move(o.resource), std::move(o.if_none_exist)});
    }
    if (entries.size() == begin) {  // a mapping that yields nothing: say so, never loop on it
      for (const auto& m : u.members) refused.emplace_back(m.seq, "the FHIR mapping produced no Observation for this reading");
      continue;
    }
    first_entry.push_back(begin);
    sending.push_back(std::move(u));
  }
  units = std::move(sending);
  if (!refused.empty() && !dead_letter(refused, refused.front().second)) return Sent::failed;
  return Sent::done;
}

bool Uploader::confirm_suspects() {
  if (suspects_.empty()) return true;
  if (!dead_letter({suspects_.begin(), suspects_.end()},
                   "refused alone while other requests went through; see carehubctl sync dead")) {
    return false;
  }
  suspects_.clear();
  return true;
}

bool Uploader::dead_letter(const std::vector<std::pair<std::int64_t, std::string>>& dead, const std::string& why) {
  auto r = pipeline_
               .apply([&dead](StoreWriter& w) -> Result<void> {
                 for (const auto& [seq, reason] : dead) {
                   if (auto m = w.mark_dead(seq, reason); !m) return m;
                 }
                 return {};
               },
                      Durability::deferred)  // lost at a power cut: sent again, refused again
               .get();
  if (!r) {
    record_failure("recording refused readings: " + r.error().message, std::nullopt);
    return false;
  }
  counters_.add("sync_dead", dead.size());
  log_.warning("sync", "dead-lettered", {{"readings", dead.size()}, {"reason", why}});
  return true;
}

}  // namespace carehub::sync
