#pragma once
// Weight Measurement (0x2A9D).
//
// Layout (GATT Specification Supplement 3.252 Weight Measurement; Weight Scale Service 1.0):
//   flags      uint8   bit0 units (0 SI: kg and m, 1 imperial: lb and in), bit1 time stamp, bit2 user id,
//                      bit3 BMI and height; bits 4-7 reserved (ignored)
//   weight     uint16  SI: 0.005 kg per count; imperial: 0.01 lb per count. 0xFFFF = "measurement
//                      unsuccessful" (Weight Scale Service: then only time stamp and user id may follow)
//   time stamp Date Time (7)   if bit1
//   user id    uint8 (0xFF = unknown user)  if bit2
//   BMI        uint16  0.1 kg/m2 per count   if bit3
//   height     uint16  SI: 0.001 m per count; imperial: 0.1 in per count   if bit3
// These resolutions are fixed by the characteristic; Weight Scale Feature (0x2A9E) only says how precise
// the scale really is, it does not change the encoding.
#include <cstdint>
#include <optional>
#include <span>

#include "drivers/gatt/date_time.hpp"
#include "drivers/gatt/number.hpp"
#include "drivers/gatt/result.hpp"

namespace carehub::gatt {

enum class WeightUnit : std::uint8_t { si, imperial };

struct WeightMeasurement {
  WeightUnit unit = WeightUnit::si;
  // kg (SI) or lb (imperial), exact: 14000 counts SI -> 70000e-3. NaN when measurement_unsuccessful.
  Number weight;
  bool measurement_unsuccessful = false;
  std::optional<DateTime> timestamp;
  std::optional<std::uint8_t> user_id;
  std::optional<Number> bmi;     // kg/m2
  std::optional<Number> height;  // m (SI) or in (imperial)
};

Result<WeightMeasurement> decode_weight_measurement(std::span<const std::uint8_t> packet);

}  // namespace carehub::gatt
