#pragma once
// What the patient display shows, built from carehubd's answers (status, alerts, measurements). Pure
// functions of those answers and the time, so each rule of what a patient sees has a unit test. Only
// the hub's own patient's readings appear: unassigned, discarded and quarantined readings (not known to
// be theirs, or with a time not believed) and readings of another person on a shared device never do.
#include <nlohmann/json.hpp>
#include <string>

#include "core/time.hpp"

namespace carehub::web {

// The kinds a patient measures (the environment sensors are not shown as "your measurements").
const std::vector<std::string>& display_kinds();

// Whether a `measurements` row belongs on this patient's display.
bool shown_to_patient(const nlohmann::json& reading, const std::string& patient);

// The first row of `rows` (newest first) shown to the patient, as {kind,time,values,device}; null if none.
nlohmann::json latest_reading(const nlohmann::json& rows, const std::string& patient);

// Devices that need attention, from `status.devices`: battery below 20 % or not seen for 3 days.
nlohmann::json devices_needing_attention(const nlohmann::json& devices, TimePoint now);

// The alert part of the home screen from `alerts` (open ones): red_alert, repeat_request (with
// seconds_left to its deadline), the list, and ok.
nlohmann::json alert_view(const nlohmann::json& alerts, const std::string& patient, TimePoint now);

// Series points for a chart: {time, values} oldest first, from a `measurements` answer.
nlohmann::json series_points(const nlohmann::json& rows, const std::string& patient);

}  // namespace carehub::web
