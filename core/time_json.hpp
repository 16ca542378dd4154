#pragma once
// Instants in the JSON carehub shows people (status, `carehubctl devices`, driver health): RFC 3339 text,
// or null when the event has not happened yet, so a reader never mistakes "never" for the epoch.
#include <nlohmann/json.hpp>
#include <optional>

#include "core/time.hpp"

namespace carehub {

// "2026-11-21T10:00:00Z" (format_rfc3339) or null.
nlohmann::json optional_time_json(const std::optional<TimePoint>& t);

}  // namespace carehub
