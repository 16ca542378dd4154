#pragma once
// From a decoded GATT value to carehub Readings: canonical units (core/units.hpp), the device's own
// time when it can be believed, the receive time always. Pure: the driver and its tests share it.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/reading.hpp"
#include "drivers/gatt/decode.hpp"

namespace carehub::ble {

struct TimeOptions {
  // Devices send local time without a zone. true: read it as UTC (tests, devices set to UTC).
  bool device_time_utc = false;
  // A device time further ahead of the hub than this is a wrong clock, not a measurement time.
  std::chrono::minutes future_tolerance{60};
};

struct Converted {
  std::vector<Reading> readings;          // none when the value is not a measurement (RACP, cuff pressure)
  std::optional<TimePoint> device_time;   // the usable device time, which orders a device's records
  std::optional<std::uint16_t> sequence;  // the record's sequence number (glucose)
  std::string skipped;                    // why no reading was made, for the log; empty otherwise
};

// The device's local date-time as an instant; empty when it is not a real one.
std::optional<TimePoint> to_time_point(const gatt::DateTime& t, bool utc);

Converted convert(const gatt::Decoded& decoded, const std::string& device, TimePoint received,
                  const TimeOptions& options);

}  // namespace carehub::ble
