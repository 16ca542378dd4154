#pragma once
// Blood Pressure Measurement (0x2A35) and Intermediate Cuff Pressure (0x2A36).
//
// Layout (GATT Specification Supplement 3.31 Blood Pressure Measurement; Blood Pressure Service 1.1):
//   flags            uint8   bit0 units (0 mmHg, 1 kPa), bit1 time stamp, bit2 pulse rate, bit3 user id,
//                            bit4 measurement status; bits 5-7 reserved (ignored)
//   systolic         SFLOAT  in the unit of bit 0
//   diastolic        SFLOAT  in the unit of bit 0
//   mean arterial    SFLOAT  in the unit of bit 0
//   time stamp       Date Time (7)   if bit1
//   pulse rate       SFLOAT bpm      if bit2
//   user id          uint8 (0xFF = unknown user)  if bit3
//   measurement status  uint16       if bit4 (GSS 3.31.3; bits 6-15 reserved, dropped)
// Intermediate Cuff Pressure has the same layout; its systolic slot carries the current cuff pressure
// and the diastolic and mean arterial slots are unused (devices send NaN there), so they are skipped.
#include <cstdint>
#include <optional>
#include <span>

#include "drivers/gatt/date_time.hpp"
#include "drivers/gatt/number.hpp"
#include "drivers/gatt/result.hpp"

namespace carehub::gatt {

enum class PressureUnit : std::uint8_t { mmHg, kPa };

inline constexpr std::uint8_t kUnknownUser = 0xFF;

struct BloodPressureStatus {
  enum class PulseRateRange : std::uint8_t { within_range, exceeds_upper_limit, below_lower_limit, reserved };

  std::uint16_t bits = 0;  // defined bits only (0-5)

  bool body_movement() const { return (bits & 0x0001) != 0; }
  bool cuff_too_loose() const { return (bits & 0x0002) != 0; }
  bool irregular_pulse() const { return (bits & 0x0004) != 0; }
  PulseRateRange pulse_rate_range() const { return static_cast<PulseRateRange>((bits >> 3) & 0x3); }
  bool improper_position() const { return (bits & 0x0020) != 0; }

  friend bool operator==(const BloodPressureStatus&, const BloodPressureStatus&) = default;
};

struct BloodPressureMeasurement {
  PressureUnit unit = PressureUnit::mmHg;
  Number systolic;
  Number diastolic;
  Number mean_arterial;
  std::optional<DateTime> timestamp;
  std::optional<Number> pulse_rate;  // beats per minute
  std::optional<std::uint8_t> user_id;
  std::optional<BloodPressureStatus> status;
};

struct IntermediateCuffPressure {
  PressureUnit unit = PressureUnit::mmHg;
  Number current_cuff_pressure;
  std::optional<DateTime> timestamp;
  std::optional<Number> pulse_rate;
  std::optional<std::uint8_t> user_id;
  std::optional<BloodPressureStatus> status;
};

Result<BloodPressureMeasurement> decode_blood_pressure_measurement(std::span<const std::uint8_t> packet);
Result<IntermediateCuffPressure> decode_intermediate_cuff_pressure(std::span<const std::uint8_t> packet);

}  // namespace carehub::gatt
