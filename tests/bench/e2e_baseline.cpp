#include "tests/bench/e2e_baseline.hpp"

#include <sys/resource.h>

#include <chrono>
#include <deque>
#include <map>
#include <vector>

#include "store/store.hpp"
#include "sync/alert_upload.hpp"
#include "sync/bundle.hpp"
#include "sync/fhir_mapping.hpp"
#include "sync/http_client.hpp"

namespace carehub::bench {
namespace {

constexpr std::size_t kBundle = 100;

double self_cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The alert carehubd's bands rule raises for an extreme reading, as the engine makes it.
Alert alert_for(const StoredReading& s, std::int64_t seq) {
  Alert a;
  a.id = "al-bench-" + std::to_string(seq) + "-" + s.uid.substr(0, 8);
  a.rule = "bp-extreme";
  a.patient = kPatient;
  a.event = "alert";
  a.severity = Severity::red;
  a.state = AlertState::open;
  a.notify = true;
  a.raised = s.reading.time;
  a.text = "Reading extreme_high (diastolic 95, systolic 200).";
  a.readings = {s.uid};
  a.category = "VITAL";
  a.audience = "both";
  a.requires_ack = true;
  return a;
}

struct Poster {
  std::unique_ptr<sync::HttpClient> http = sync::make_curl_client({});
  std::string url;
  std::int64_t requests = 0;
  Result<std::vector<sync::EntryOutcome>> post(const std::vector<sync::BundleEntry>& entries) {
    ++requests;
    auto resp = http->send({"POST", url, {{"Content-Type", "application/fhir+json"}, {"Accept", "application/fhir+json"}},
                            sync::batch_bundle(entries).dump()});
    if (!resp) return resp.error();
    if (resp->status != 200) return make_error(Errc::io, "HTTP " + std::to_string(resp->status) + ": " + resp->body.substr(0, 500));
    auto out = sync::read_batch_response_body(resp->body, entries.size());
    if (!out) return out.error();
    for (const auto& o : *out) {
      if (o.fate != sync::EntryFate::synced) return make_error(Errc::io, "entry refused: " + o.reason.substr(0, 500));
    }
    return out;
  }
};

}  // namespace

BaselineResult run_direct_bulk_client(const std::string& base_url, const Workload& workload,
                                      const std::set<std::int64_t>* alerted) {
  BaselineResult result;
  Poster poster{sync::make_curl_client({}), base_url, 0};
  // The hub's and the sensors' Devices first, as the uploader does before their Observations.
  Device watch, cuff;
  watch.id = "bench-watch";
  cuff.id = "bench-cuff";
  auto devices = poster.post({{fhir::hub_device(kHubId), fhir::hub_if_none_exist(kHubId), {}},
                              {fhir::sensor_device(watch, kHubId), fhir::device_if_none_exist(watch, kHubId), {}},
                              {fhir::sensor_device(cuff, kHubId), fhir::device_if_none_exist(cuff, kHubId), {}}});
  if (!devices) {
    result.error = "devices: " + devices.error().message;
    return result;
  }
  const auto hub = (*devices)[0].server_id;
  const std::map<std::string, std::string> sensor{{"bench-watch", (*devices)[1].server_id}, {"bench-cuff", (*devices)[2].server_id}};

  std::vector<StoredReading> readings(static_cast<std::size_t>(workload.count));
  for (std::int64_t i = 0; i < workload.count; ++i) {
    auto& s = readings[static_cast<std::size_t>(i)];
    s.seq = i + 1;
    s.reading = workload.reading(i);
    s.uid = reading_uid(s.reading, kHubId);
  }
  struct Pending {
    AlertToSync alert;
    std::string evidence;  // "Observation/<id>"
  };
  std::deque<Pending> ready;  // revisions whose evidence the server holds, in order
  const auto cpu0 = self_cpu();
  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t next = 0;
  while (next < workload.count || !ready.empty()) {
    std::vector<sync::BundleEntry> entries;
    std::vector<Pending> sent_alerts;
    while (!ready.empty() && entries.size() < kBundle) {
      auto& p = ready.front();
      entries.push_back(sync::alert_entry(p.alert, {hub, {p.evidence}}));
      sent_alerts.push_back(std::move(p));
      ready.pop_front();
    }
    std::vector<std::size_t> reading_of;  // entry index -> reading index (-1 for alert entries)
    reading_of.assign(entries.size(), SIZE_MAX);
    for (; next < workload.count && entries.size() < kBundle; ++next) {
      const auto& s = readings[static_cast<std::size_t>(next)];
      fhir::References refs{sensor.at(s.reading.device), hub};
      if (Workload::extreme(next)) refs.flags["systolic"] = fhir::Flag::critical_high;
      for (auto& o : fhir::observations(s, refs)) {
        entries.push_back({std::move(o.resource), std::move(o.if_none_exist), {}});
        reading_of.push_back(static_cast<std::size_t>(next));
      }
    }
    auto out = poster.post(entries);
    if (!out) {
      result.error = out.error().message;
      return result;
    }
    for (std::size_t e = 0; e < entries.size(); ++e) {
      if (reading_of[e] == SIZE_MAX) {
        ++result.alert_revisions;
        continue;
      }
      ++result.observations;
      const auto i = static_cast<std::int64_t>(reading_of[e]);
      // An extreme reading's own Observation (the first of its entries): its alert goes next.
      const auto seq = Workload::extreme_seq(i);
      if (Workload::extreme(i) && (e == 0 || reading_of[e - 1] != reading_of[e]) && (!alerted || alerted->count(seq))) {
        ++result.alerts;
        const auto& s = readings[static_cast<std::size_t>(i)];
        ready.push_back({{alert_for(s, seq), 1, ""}, (*out)[e].server_id});
      }
    }
    // Each created alert's acknowledgement follows in the next bundle, as the display answers at once.
    for (auto& p : sent_alerts) {
      if (p.alert.alert.state != AlertState::open) continue;
      p.alert.alert.state = AlertState::acknowledged;
      p.alert.alert.acknowledged = p.alert.alert.raised;
      p.alert.revision = 2;
      ready.push_back(std::move(p));
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  result.cpu_seconds = self_cpu() - cpu0;
  result.requests = poster.requests;
  result.ok = true;
  return result;
}

}  // namespace carehub::bench
