#pragma once
// Temperature Measurement (0x2A1C).
//
// Layout (GATT Specification Supplement 3.216 Temperature Measurement; Health Thermometer Service 1.0):
//   flags             uint8   bit0 units (0 Celsius, 1 Fahrenheit), bit1 time stamp, bit2 temperature type;
//                             bits 3-7 reserved (ignored)
//   temperature       FLOAT (32-bit IEEE 11073) in the unit of bit 0
//   time stamp        Date Time (7)   if bit1
//   temperature type  uint8           if bit2 (GSS 3.219 Temperature Type: 1 armpit, 2 body (general),
//                                      3 ear, 4 finger, 5 gastro-intestinal tract, 6 mouth, 7 rectum,
//                                      8 toe, 9 tympanum (ear drum); 0 and 10-255 reserved)
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "drivers/gatt/date_time.hpp"
#include "drivers/gatt/number.hpp"
#include "drivers/gatt/result.hpp"

namespace carehub::gatt {

enum class TemperatureUnit : std::uint8_t { celsius, fahrenheit };

struct TemperatureMeasurement {
  TemperatureUnit unit = TemperatureUnit::celsius;
  Number temperature;
  std::optional<DateTime> timestamp;
  std::optional<std::uint8_t> temperature_type;  // raw code; see temperature_type_name()
};

// "armpit", "body", "ear", "finger", "gastrointestinal_tract", "mouth", "rectum", "toe", "tympanum",
// or "reserved".
std::string_view temperature_type_name(std::uint8_t code);

Result<TemperatureMeasurement> decode_temperature_measurement(std::span<const std::uint8_t> packet);

}  // namespace carehub::gatt
