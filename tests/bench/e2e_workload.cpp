#include "tests/bench/e2e_workload.hpp"

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "core/time.hpp"

namespace carehub::bench {

std::string rules_json() {
  return R"({"categories": {"VITAL": {"notify": true}},
  "rules": [{"id": "bp-extreme", "type": "bands", "category": "VITAL", "kind": "blood-pressure",
             "bands": {"systolic": {"extreme_high": 180}}, "outcomes": {"extreme_high": "red"}}]})";
}

std::int64_t Workload::alerts() const {
  const std::int64_t full = count / kAlertEvery;
  return full + (count % kAlertEvery > kAlertEvery / 2 ? 1 : 0);
}

Reading Workload::reading(std::int64_t i) const {
  Reading r;
  r.time = from_epoch_ms(base_ms + i);
  r.received = r.time;
  r.patient = kPatient;
  r.source = "mqtt";
  if (extreme(i)) {
    r.kind = Kind::blood_pressure;
    r.device = "bench-cuff";
    r.values = {{"systolic", 200.0 + static_cast<double>(extreme_seq(i)) / 10000.0}, {"diastolic", 95.0}};
  } else if (i % 2 == 0) {
    r.kind = Kind::heart_rate;
    r.device = "bench-watch";
    r.values = {{"value", 60.0 + static_cast<double>(i % 40)}};
  } else {
    r.kind = Kind::blood_pressure;
    r.device = "bench-cuff";
    r.values = {{"systolic", 110.0 + static_cast<double>(i % 20)}, {"diastolic", 70.0 + static_cast<double>(i % 10)}};
  }
  return r;
}

std::string Workload::payload(std::int64_t i) const {
  const auto r = reading(i);
  nlohmann::json values = nlohmann::json::object();
  for (const auto& [name, v] : r.values) values[name] = v;
  return nlohmann::json{{"kind", std::string(to_string(r.kind))},
                        {"time", format_rfc3339(r.time)},
                        {"device", r.device},
                        {"values", values}}
      .dump();
}

std::optional<std::int64_t> seq_from_alert_text(const std::string& text) {
  const auto at = text.find("systolic ");
  if (at == std::string::npos) return std::nullopt;
  const double v = std::strtod(text.c_str() + at + 9, nullptr);
  if (v < 200.0) return std::nullopt;
  return static_cast<std::int64_t>(std::llround((v - 200.0) * 10000.0));
}

}  // namespace carehub::bench
