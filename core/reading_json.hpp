#pragma once
// The reading line format shared by `carehubctl measure add --json`, `rules simulate`, MQTT JSON
// ingestion and `carehubctl measurements --json` (design.md):
//   {"kind":"blood-pressure","time":"2026-11-21T10:00:00Z","device":"manual",
//    "values":{"systolic":200,"diastolic":130},"units":{"systolic":"kPa"}}
// "device" defaults to "manual"; "units" converts on input; "patient" optionally names the patient.
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/reading.hpp"

namespace carehub {

// Parses and validates one line. `received` stamps the reading. Errors name the JSON path.
Result<Reading> parse_reading_json(std::string_view line, TimePoint received);
Result<Reading> reading_from_json(const nlohmann::json& doc, TimePoint received);

// The inverse: canonical units, no "units" member.
nlohmann::json reading_to_json(const Reading& r);

}  // namespace carehub
