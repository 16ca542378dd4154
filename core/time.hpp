#pragma once
// Wall-clock instants as carehub stores and exchanges them: milliseconds since the Unix epoch, UTC.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace carehub {

using Millis = std::chrono::milliseconds;
using TimePoint = std::chrono::sys_time<Millis>;

inline std::int64_t to_epoch_ms(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint from_epoch_ms(std::int64_t ms) { return TimePoint{Millis{ms}}; }

// RFC 3339 date-time ("2026-11-21T10:00:00Z", "2026-11-21T11:00:00.250+01:00"). A zone is required:
// a time without one is ambiguous on a hub whose clock zone a technician may change.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

// "2026-11-21T10:00:00Z", or with ".mmm" when the instant has milliseconds.
std::string format_rfc3339(TimePoint t);

}  // namespace carehub
