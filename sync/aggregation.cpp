#include "sync/aggregation.hpp"

#include <algorithm>

#include "core/time.hpp"

namespace carehub::sync {
namespace {

using nlohmann::json;

constexpr std::string_view kStatistics = "http://terminology.hl7.org/CodeSystem/observation-statistics";

}  // namespace

bool aggregatable(Kind kind) {
  switch (kind) {
    case Kind::heart_rate:
    case Kind::room_temperature:
    case Kind::room_humidity:
    case Kind::illuminance: return true;
    default: return false;
  }
}

const AggregationRule* matching_rule(const std::vector<AggregationRule>& rules, const Reading& r) {
  if (r.device == kManualDevice) return nullptr;
  for (const auto& rule : rules) {
    if (rule.kind != r.kind) continue;
    if (rule.devices.empty() || std::find(rule.devices.begin(), rule.devices.end(), r.device) != rule.devices.end()) {
      return &rule;
    }
  }
  return nullptr;
}

Window window_of(TimePoint t, std::chrono::seconds period) {
  const auto ms = to_epoch_ms(t);
  const auto p = std::chrono::duration_cast<std::chrono::milliseconds>(period).count();
  auto start = ms - ((ms % p) + p) % p;  // floor, also before 1970
  return {from_epoch_ms(start), from_epoch_ms(start + p)};
}

bool window_closed(const Window& w, std::chrono::seconds period, TimePoint now) { return now >= w.end + period; }

std::string aggregate_uid(const std::vector<StoredReading>& members) {
  std::vector<std::string> uids;
  uids.reserve(members.size());
  for (const auto& m : members) uids.push_back(m.uid);
  std::sort(uids.begin(), uids.end());
  std::string key = "carehub-aggregate-v1";
  for (const auto& u : uids) key += "\n" + u;
  return name_uuid(key);
}

json aggregate_observation(const std::vector<StoredReading>& members, const Window& window, const fhir::References& refs) {
  const auto& first = members.front();
  const auto value_name = std::string(info(first.reading.kind).components.front().name);
  double sum = 0, lo = 0, hi = 0;
  bool any = false;
  for (const auto& m : members) {
    const auto it = m.reading.values.find(value_name);
    if (it == m.reading.values.end()) continue;
    sum += it->second;
    lo = any ? std::min(lo, it->second) : it->second;
    hi = any ? std::max(hi, it->second) : it->second;
    any = true;
  }
  StoredReading mean = first;
  mean.uid = aggregate_uid(members);
  mean.reading.values = {{value_name, sum / static_cast<double>(members.size())}};
  mean.reading.device_time.reset();
  // Computed by the hub, not measured by a PHD: no PHD profile, coincident timestamp or flag applies.
  fhir::References own{refs.sensor, refs.hub};
  auto obs = fhir::observation(mean, own);
  obs.erase("effectiveDateTime");
  obs["effectivePeriod"] = {{"start", format_rfc3339(window.start)}, {"end", format_rfc3339(window.end)}};
  const auto& unit = obs["valueQuantity"];
  // As R4's $stats: Observation.code says what was measured, each component's code only which statistic.
  // Repeating Observation.code in a component would break obs-7 (the value would be stated twice).
  auto statistic = [&](std::string_view stat, std::string_view display, json value) {
    json c = {{"code", {{"coding", json::array({{{"system", kStatistics}, {"code", stat}, {"display", display}}})}}}};
    c.update(value);
    return c;
  };
  auto quantity = [&](double v) {
    json q = unit;
    q["value"] = v;
    return json{{"valueQuantity", q}};
  };
  // No "count" component: a vital sign's component values are bound (required) to ucum-vitals-common, which
  // has no unit for a count, and a valueInteger there is refused by stricter checkers. The note states it.
  obs["component"] = json::array({statistic("minimum", "Minimum", quantity(lo)), statistic("maximum", "Maximum", quantity(hi))});
  obs["note"] = json::array({{{"text", "Mean of " + std::to_string(members.size()) + " readings in this period"}}});
  return obs;
}

}  // namespace carehub::sync
