#include "web/server/home_view.hpp"

namespace carehub::web {
namespace {

// Typed reads that never throw: carehubd's answers are trusted, but a view must not die on a shape it
// did not expect (the fuzzer feeds it anything).
std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
bool flag(const nlohmann::json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}
nlohmann::json any(const nlohmann::json& j, const char* key, nlohmann::json fallback) {
  auto it = j.find(key);
  return it != j.end() ? *it : fallback;
}

}  // namespace

const std::vector<std::string>& display_kinds() {
  static const std::vector<std::string> kinds = {"blood-pressure", "body-weight", "body-temperature", "spo2",
                                                 "heart-rate",     "glucose"};
  return kinds;
}

bool shown_to_patient(const nlohmann::json& reading, const std::string& patient) {
  if (!reading.is_object()) return false;
  const auto sync = str(reading, "sync");
  if (sync == "unassigned" || sync == "discarded" || sync == "quarantined") return false;
  const auto owner = str(reading, "patient");
  // No patient on the hub's configuration: a single-person kit, every attributed reading is theirs.
  return patient.empty() || owner.empty() || owner == patient;
}

nlohmann::json latest_reading(const nlohmann::json& rows, const std::string& patient) {
  if (!rows.is_array()) return nullptr;
  for (const auto& r : rows) {
    if (!shown_to_patient(r, patient)) continue;
    return {{"kind", str(r, "kind")}, {"time", str(r, "time")}, {"values", any(r, "values", nlohmann::json::object())},
            {"device", str(r, "device")}};
  }
  return nullptr;
}

nlohmann::json devices_needing_attention(const nlohmann::json& devices, TimePoint now) {
  nlohmann::json out = nlohmann::json::array();
  if (!devices.is_array()) return out;
  for (const auto& d : devices) {
    if (!d.is_object()) continue;
    const auto battery = any(d, "battery", nullptr);
    if (battery.is_number() && battery.get<double>() < 20) {
      out.push_back({{"id", str(d, "id")}, {"name", str(d, "name")}, {"category", str(d, "category")}, {"reason", "battery-low"}, {"battery", battery}});
      continue;
    }
    const auto seen = str(d, "last_seen");
    const auto t = seen.empty() ? std::nullopt : parse_rfc3339(seen);
    if (t && now - *t > std::chrono::hours(72)) {
      out.push_back({{"id", str(d, "id")}, {"name", str(d, "name")}, {"category", str(d, "category")}, {"reason", "not-seen"}, {"last_seen", seen}});
    }
  }
  return out;
}

nlohmann::json alert_view(const nlohmann::json& alerts, const std::string& patient, TimePoint now) {
  nlohmann::json list = nlohmann::json::array();
  nlohmann::json red = nullptr, repeat = nullptr;
  if (alerts.is_array()) {
    for (const auto& a : alerts) {
      if (!a.is_object() || str(a, "state") != "open") continue;
      if (!patient.empty() && !str(a, "patient").empty() && str(a, "patient") != patient) continue;
      // Filtered (notify false) and clinician-only alerts are the clinician's business, not the screen's.
      if (flag(a, "notify", true) == false || str(a, "audience") == "clinician") continue;
      list.push_back({{"id", str(a, "id")}, {"event", str(a, "event")}, {"severity", str(a, "severity")},
                      {"text", str(a, "text")}, {"raised", str(a, "raised")}, {"rule", str(a, "rule")},
                      {"requires_ack", flag(a, "requires_ack", false)}, {"acknowledged", any(a, "acknowledged", nullptr)}});
      if (red.is_null() && flag(a, "requires_ack", false) && any(a, "acknowledged", nullptr).is_null()) {
        red = {{"id", str(a, "id")}, {"text", str(a, "text")}, {"raised", str(a, "raised")}, {"rule", str(a, "rule")},
               {"reminders", any(a, "reminders", 0)}};
      }
      // The patient is counted down to the end of the window in which a repeat still counts (repeat_by);
      // the later no-repeat deadline only matters to the clinician. An older carehubd sends no repeat_by.
      const auto no_repeat = str(a, "deadline");
      const auto repeat_by = str(a, "repeat_by");
      const auto deadline = repeat_by.empty() ? no_repeat : repeat_by;
      if (repeat.is_null() && str(a, "event") == "repeat-request" && !deadline.empty()) {
        const auto t = parse_rfc3339(deadline);
        const long long left = t ? std::chrono::duration_cast<std::chrono::seconds>(*t - now).count() : 0;
        repeat = {{"id", str(a, "id")}, {"text", str(a, "text")}, {"rule", str(a, "rule")}, {"raised", str(a, "raised")},
                  {"deadline", deadline}, {"no_repeat_deadline", no_repeat}, {"seconds_left", left > 0 ? left : 0}};
      }
    }
  }
  return {{"alerts", list}, {"red_alert", red}, {"repeat_request", repeat}, {"ok", red.is_null() && repeat.is_null()}};
}

nlohmann::json series_points(const nlohmann::json& rows, const std::string& patient) {
  nlohmann::json out = nlohmann::json::array();
  if (!rows.is_array()) return out;
  for (const auto& r : rows) {
    if (!shown_to_patient(r, patient)) continue;
    out.push_back({{"time", str(r, "time")}, {"values", any(r, "values", nlohmann::json::object())}});
  }
  return out;
}

}  // namespace carehub::web
