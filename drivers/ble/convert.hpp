#pragma once
// From a decoded GATT value to carehub Readings: canonical units (core/units.hpp), the receive time,
// and the instants the device's own clock may name. Whether that clock is believed, and so which time
// a reading takes, is the record guard's decision (record_guard.hpp): it needs the device's history.
// Pure apart from the hub's zone rules (TZ): the driver and its tests share it.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/reading.hpp"
#include "drivers/gatt/decode.hpp"

namespace carehub::ble {

// The user slot of a reading whose multi-user device said "unknown user" (User ID 0xFF in Blood Pressure
// and Weight Measurements, User Index 0xFF in UDS). Kept as a slot rather than dropped: an empty
// Reading::user means "a device without users", which its device binding attributes; a reading from a
// multi-user device that does not know whose it is must stay unassigned (design.md invariant 7), and
// no binding may ever name this slot.
inline constexpr int kUnknownUserSlot = kUnknownUser;  // core's name for it (core/reading.hpp): 255

struct TimeOptions {
  // Devices send local time without a zone. true: read it as UTC (tests, devices set to UTC).
  bool device_time_utc = false;
  // A device time further ahead of the hub than this is a wrong clock, not a measurement time.
  std::chrono::minutes future_tolerance{60};
  // A device time further behind the hub than this is a clock that was reset (battery change, factory
  // date) or never set, not a measurement time: the reading takes the receive time.
  std::chrono::hours reset_after{24 * 365};
  // A record whose device time is this close to the receive time was sent as it was taken: the evidence
  // that picks the second occurrence of a wall time that happens twice (autumn) for a live reading.
  std::chrono::minutes live_window{5};
};

struct Converted {
  // None when the value is not a measurement (RACP, cuff pressure). Each has time = received and no
  // device time yet: the record guard places it.
  std::vector<Reading> readings;
  // The instants the record's own time stamp can name, earliest first: none (no or an invalid stamp),
  // one, or two for a local wall time that occurs twice (device_instants).
  std::vector<TimePoint> device_times;
  std::optional<std::uint16_t> sequence;  // the record's sequence number (glucose)
  std::string skipped;                    // why no reading was made, for the log; empty otherwise
};

// The instants a device's date-time names, earliest first; empty when its fields are not a real one.
// `utc`: the fields are UTC, one instant. Otherwise they are the hub's local time, read with the hub's
// zone rules (TZ database through the C library's mktime, asked once for standard and once for summer
// time, keeping each answer that gives back the same wall time):
//  - an ordinary wall time: one instant;
//  - a wall time that occurs twice (the autumn switch): both instants; the record guard picks one;
//  - a wall time that never occurs (the spring gap): one instant, read with the offset in force before
//    the switch, i.e. a device clock not yet put forward (02:30 in Berlin on the spring day is 01:30Z).
std::vector<TimePoint> device_instants(const gatt::DateTime& t, bool utc);

Converted convert(const gatt::Decoded& decoded, const std::string& device, TimePoint received,
                  const TimeOptions& options);

}  // namespace carehub::ble
