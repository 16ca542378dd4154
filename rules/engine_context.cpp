// Helpers of the rules engine (declared in engine_context.hpp).
#include <cstdio>

#include "rules/engine_context.hpp"

namespace carehub::rules::detail {

bool extreme(Band b) { return b == Band::extreme_low || b == Band::extreme_high; }

// The worst band over the rule's components present in the reading (SBP 200 *or* DBP 130 is extreme).
Classified classify(const Rule& rule, const Reading& r) {
  Classified out;
  for (const auto& b : rule.bands) {
    auto it = r.values.find(b.component);
    if (it == r.values.end()) continue;
    const Band band = band_of(b, it->second);
    if (band_rank(band) > band_rank(out.band)) out = {band, b.component, it->second};
  }
  return out;
}

// Still extreme for a repeat: at or beyond the limit, or within the rule's threshold of it, on the side
// the episode opened on (a low reading never confirms a high episode, nor the reverse). An episode stored
// without a direction (an older carehub) is judged on both sides, as it was then.
bool still_extreme(const Rule& rule, const Reading& r, std::optional<Direction> side) {
  for (const auto& b : rule.bands) {
    auto it = r.values.find(b.component);
    if (it == r.values.end()) continue;
    const double v = it->second;
    if (side != Direction::low && b.extreme_high && v >= *b.extreme_high - b.threshold - kEpsilon) return true;
    if (side != Direction::high && b.extreme_low && v <= *b.extreme_low + b.threshold + kEpsilon) return true;
  }
  return false;
}

std::optional<Direction> direction_of(const nlohmann::json& episode) {
  const auto d = episode.value("direction", std::string{});
  if (d == "high") return Direction::high;
  if (d == "low") return Direction::low;
  return std::nullopt;
}

std::string values_text(const Reading& r) {
  std::string out;
  for (const auto& [name, v] : r.values) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s %.10g", name.c_str(), v);
    out += (out.empty() ? "" : ", ") + std::string(buf);
  }
  return out;
}

std::optional<Severity> severity_of(Outcome o) {
  switch (o) {
    case Outcome::info: return Severity::info;
    case Outcome::amber: return Severity::amber;
    case Outcome::red: return Severity::red;
    case Outcome::none:
    case Outcome::confirm: return std::nullopt;
  }
  return std::nullopt;
}

std::optional<TimePoint> opt_time(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number_integer()) return std::nullopt;
  return from_epoch_ms(j[key].get<std::int64_t>());
}

}  // namespace carehub::rules::detail
