#pragma once
// Date Time (0x2A08), also the Time Stamp / Base Time field inside the measurements.
// Layout (GATT Specification Supplement, Date Time): year uint16 (1582..9999, 0 = not known),
// month uint8 (1..12, 0 = not known), day uint8 (1..31, 0 = not known), hours 0..23, minutes 0..59,
// seconds 0..59: 7 bytes. The device's local time, no zone.
//
// A device clock that was never set or sends nonsense does not spoil the measurement it stamps: the
// fields are kept as sent and is_valid() says whether they name a real instant (design.md: a device
// without a usable clock gets the receive time).
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "drivers/gatt/byte_reader.hpp"
#include "drivers/gatt/result.hpp"

namespace carehub::gatt {

struct DateTime {
  std::uint16_t year = 0;
  std::uint8_t month = 0;
  std::uint8_t day = 0;
  std::uint8_t hours = 0;
  std::uint8_t minutes = 0;
  std::uint8_t seconds = 0;

  // Every field known and in range, and the day exists in that month (no 30 February).
  bool is_valid() const;
  // "YYYY-MM-DDTHH:MM:SS" exactly as sent, zero padded, whether valid or not.
  std::string to_string() const;

  friend bool operator==(const DateTime&, const DateTime&) = default;
};

// Reads the 7-byte Date Time structure as one field.
DateTime read_date_time(ByteReader& reader, std::string_view field);

// The Date Time characteristic itself.
Result<DateTime> decode_date_time(std::span<const std::uint8_t> packet);

// `time` moved by `minutes`; empty when `time` is not valid or the result leaves years 1582..9999.
std::optional<DateTime> add_minutes(const DateTime& time, int minutes);

}  // namespace carehub::gatt
