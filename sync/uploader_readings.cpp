// The uploader's reading path: collecting pending readings into units, sending them in batch Bundles,
// isolating the entry a server refuses, and recording every outcome through the pipeline.
#include <functional>
#include <set>
#include <tuple>

#include "sync/fhir_mapping.hpp"
#include "sync/uploader.hpp"

namespace carehub::sync {
namespace {

// Statuses by which a server refuses what a request carries (so an entry can be at fault), as opposed
// to refusing the request itself (credentials, address, method).
bool refusal_about_content(long status) { return status == 400 || status == 409 || status == 412 || status == 422; }

bool transient(long status) { return status == 408 || status == 429 || status >= 500; }

// Pending rows looked at per query while collecting a bundle (open aggregation windows, suspects and
// readings of a missing patient are skipped).
constexpr std::size_t kScanPage = 500;

}  // namespace

BodyCoding::Sent Uploader::post_bundle(const nlohmann::json& bundle) {
  HttpRequest req;
  req.method = "POST";
  req.url = options_.base_url;
  req.headers = {{"Content-Type", "application/fhir+json"}, {"Accept", "application/fhir+json"}};
  req.body = bundle.dump();
  const bool was_gzip = coding_.gzip();
  auto sent = coding_.send(req, [this](HttpRequest r) { return send_authorized(std::move(r)); });
  if (was_gzip && !coding_.gzip()) {
    counters_.add("sync_gzip_refused");
    {
      std::lock_guard lock(mu_);
      status_.gzip = false;
      status_.gzip_refused = coding_.refusal();
    }
    log_.notice("sync", "gzip-refused",
                {{"action", "sending uncompressed bodies"}, {"url", options_.base_url}, {"answer", coding_.refusal()}});
  }
  return sent;
}

Uploader::Exchange Uploader::exchange(const std::vector<BundleEntry>& entries, std::size_t units,
                                      std::vector<EntryOutcome>& outcomes, std::string& refusal) {
  {
    std::lock_guard lock(mu_);
    status_.in_flight = entries.size();
    status_.last_attempt = clock_.now();
  }
  auto sent = post_bundle(batch_bundle(entries));
  auto& resp = sent.response;
  if (!resp) {
    if (resp.error().code == Errc::timeout && units > 1) {
      // A slow link or a slow server: smaller bundles finish within the timeout.
      bundle_size_ = std::max<std::size_t>(1, units / 2);
      good_bundles_ = 0;
    }
    record_failure(resp.error().message, std::nullopt);
    return Exchange::failed;
  }
  if (transient(resp->status)) {
    std::optional<std::chrono::milliseconds> retry_after;
    // retry_after_seconds() bounds it (kMaxRetryAfter), so the conversion to milliseconds cannot overflow.
    if (auto s = retry_after_seconds(resp->header("retry-after"))) retry_after = std::chrono::seconds(*s);
    record_failure("HTTP " + std::to_string(resp->status) + " from " + options_.base_url, retry_after);
    return Exchange::failed;
  }
  if (resp->status >= 200 && resp->status < 300) {
    // Through the one safe parse: a deep outcome or a 1e999 is refused before anything recurses into it.
    auto parsed = read_batch_response_body(resp->body, entries.size());
    if (!parsed) {
      counters_.add("sync_bad_responses");  // unreadable, too deep, or not a batch-response for this bundle
      record_failure(parsed.error().message, std::nullopt);
      return Exchange::failed;
    }
    outcomes = std::move(*parsed);
    return Exchange::ok;
  }
  if (resp->status == 413 && units > 1) {
    bundle_size_ = std::max<std::size_t>(1, units / 2);
    good_bundles_ = 0;
    {
      std::lock_guard lock(mu_);
      status_.bundle_size = bundle_size_;
    }
    log_.notice("sync", "bundle-too-large", {{"status", 413}, {"entries", entries.size()}, {"bundle_size", bundle_size_}});
    return Exchange::retry_now;
  }
  if ((!refusal_about_content(resp->status) && resp->status != 413) || sent.compressed) {
    // 401 after a fresh token, 403 (credentials), 404 (wrong base URL), 3xx...: the request, not any
    // entry, is at fault; so is a refused gzip body when compression is forced on (it may be the
    // coding). Dead-lettering here would throw away the whole buffer over an expired token.
    record_failure("HTTP " + std::to_string(resp->status) + " from " + options_.base_url +
                       (sent.compressed ? " to a gzip body: " : ": ") + resp->body.substr(0, 300),
                   std::nullopt);
    return Exchange::failed;
  }
  if (units == 1) {
    // The whole request, carrying one unit, plain, was refused. The unit is suspect: it is the culprit
    // only if the server takes other requests (see suspects_).
    refusal = resp->body.substr(0, kMaxReasonBytes);
    if (resp->status == 413) refusal = "HTTP 413: too large for the server even on its own. " + refusal;
    return Exchange::refused;
  }
  // The server refused the bundle as a whole (4xx) without saying which entry: send these one at a time
  // so the culprit is isolated and the rest go through. Not the server's health: no backoff.
  log_.warning("sync", "bundle-refused",
               {{"status", resp->status}, {"entries", entries.size()}, {"action", "sending readings one by one"}});
  isolate_remaining_ = units;
  return Exchange::retry_now;
}

Result<std::vector<Uploader::Unit>> Uploader::collect_units(std::optional<TimePoint>& next_window_close) {
  const std::size_t limit = isolate_remaining_ > 0 ? 1 : bundle_size_;
  if (isolate_remaining_ > 0) --isolate_remaining_;
  const auto now = clock_.now();
  std::vector<Unit> units;
  std::set<std::tuple<std::string, std::string, Kind, std::int64_t>> windows_taken;  // patient, device, kind, start
  std::int64_t after = 0;
  // Rows may be skipped (suspects, a missing patient's): then read pages, not just what a bundle takes.
  const bool skipping = !suspects_.empty() || !patients_.missing().empty();
  while (units.size() < limit) {
    const std::size_t page = options_.aggregate.empty() && !skipping ? limit - units.size() : kScanPage;
    auto pending = reader_->readings({SyncState::pending, after, page, false});
    if (!pending) return pending.error();
    for (auto& s : *pending) {
      after = s.seq;
      if (units.size() >= limit) break;
      if (suspects_.contains(s.seq)) continue;
      auto patient_ok = patient_exists(s.reading.patient);
      if (!patient_ok) return patient_ok.error();
      if (!*patient_ok) continue;  // waits for the Patient; upload_once() reports the configuration error
      const auto* rule = matching_rule(options_.aggregate, s.reading);
      if (!rule) {
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
        return m.reading.patient != s.reading.patient || suspects_.contains(m.seq);
      });
      if (!members->empty()) units.push_back({std::move(*members), w});
    }
    if (pending->size() < page) break;
  }
  return units;
}

bool Uploader::send_units(std::vector<Unit> units) {
  auto hub = ensure_hub();
  if (!hub) {
    record_failure(hub.error().message, std::nullopt);
    return false;
  }
  // Readings whose Device the server refuses are dead-lettered with its reason; the rest go on.
  std::vector<Unit> sending;
  std::vector<std::size_t> first_entry;  // unit i's entries: [first_entry[i], first_entry[i + 1])
  std::vector<std::pair<std::int64_t, std::string>> refused;
  std::vector<BundleEntry> entries;
  for (auto& u : units) {
    const auto& first = u.members.front();
    fhir::References refs{"", *hub};
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
        return false;
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
  if (!refused.empty()) {
    if (!dead_letter(refused, refused.front().second)) return false;
    if (entries.empty()) return true;
  }

  std::vector<EntryOutcome> outcomes;
  std::string refusal;
  switch (exchange(entries, sending.size(), outcomes, refusal)) {
    case Exchange::failed: return false;
    case Exchange::retry_now: return true;
    case Exchange::refused:
      for (const auto& m : sending.front().members) suspects_[m.seq] = refusal;
      log_.warning("sync", "request-refused", {{"readings", sending.front().members.size()},
                                               {"action", "dead-lettered only if other requests go through"}});
      return true;
    case Exchange::ok: break;
  }
  // The server took this request: the suspects' refusals were about them.
  if (!confirm_suspects()) return false;
  if (!record_outcomes(sending, first_entry, outcomes)) return false;
  return true;
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
               })
               .get();
  if (!r) {
    record_failure("recording refused readings: " + r.error().message, std::nullopt);
    return false;
  }
  counters_.add("sync_dead", dead.size());
  log_.warning("sync", "dead-lettered", {{"readings", dead.size()}, {"reason", why}});
  return true;
}

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

bool Uploader::record_outcomes(const std::vector<Unit>& sending, const std::vector<std::size_t>& first_entry,
                               const std::vector<EntryOutcome>& outcomes) {
  const auto now = clock_.now();
  std::vector<const EntryOutcome*> per_unit;
  for (std::size_t i = 0; i < sending.size(); ++i) {
    const auto end = i + 1 < first_entry.size() ? first_entry[i + 1] : outcomes.size();
    per_unit.push_back(&unit_outcome(outcomes, first_entry[i], end));
  }
  auto applied = pipeline_
                     .apply([&](StoreWriter& w) -> Result<void> {
                       for (std::size_t i = 0; i < sending.size(); ++i) {
                         const auto& o = *per_unit[i];
                         for (const auto& m : sending[i].members) {
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
                     })
                     .get();
  if (!applied) {
    record_failure("recording sync outcomes: " + applied.error().message, std::nullopt);
    return false;
  }
  std::size_t synced = 0, dead = 0, retry = 0, missing = 0;
  const EntryOutcome* missing_example = nullptr;
  for (std::size_t i = 0; i < sending.size(); ++i) {
    const auto n = sending[i].members.size();
    switch (per_unit[i]->fate) {
      case EntryFate::synced: synced += n; break;
      case EntryFate::dead: dead += n; break;
      case EntryFate::retry: retry += n; break;
      case EntryFate::missing_reference:
        missing += n;
        missing_example = per_unit[i];
        break;
    }
  }
  counters_.add("sync_synced", synced);
  counters_.add("sync_dead", dead);
  if (dead > 0) {
    log_.warning("sync", "dead-lettered", {{"readings", dead}, {"reason", "the server refused them; see carehubctl sync dead"}});
  }
  if (missing > 0) {
    // The server lacks a Patient or Device these reference (wrong configuration, or expunged): believe
    // nothing remembered about what exists; the next attempt looks the Patient up and re-creates Devices.
    counters_.add("sync_config_errors");
    counters_.add("sync_missing_references", missing);
    device_refs_.clear();
    hub_ref_.clear();
    patients_.forget_all();
    const auto error = "configuration error: the server refused " + std::to_string(missing) +
                       " reading(s) because a resource they reference does not exist (kept pending): " +
                       missing_example->reason.substr(0, 300);
    set_config_error(error);
    log_.error("sync", "reference-missing", {{"readings", missing}, {"reason", missing_example->reason.substr(0, 300)}});
    record_failure(error, std::nullopt);
    return false;
  }
  if (retry > 0) {
    record_failure(std::to_string(retry) + " entries answered with a transient error", std::nullopt);
    return false;
  }
  record_success(sending.size());  // bundle_size_ counts readings (units), not entries
  return true;
}

}  // namespace carehub::sync
