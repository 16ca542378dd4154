#pragma once
// Glucose Measurement (0x2A18).
//
// Layout (GATT Specification Supplement, Glucose Measurement; Glucose Service 1.0):
//   flags               uint8   bit0 time offset, bit1 concentration + type-sample location,
//                               bit2 concentration units (0 kg/L, 1 mol/L), bit3 sensor status annunciation,
//                               bit4 context information follows (in 0x2A34); bits 5-7 reserved (ignored)
//   sequence number     uint16
//   base time           Date Time (7)
//   time offset         sint16 minutes, added to base time            if bit0
//   concentration       SFLOAT in kg/L or mol/L (bit2)                if bit1
//   type-sample location uint8: type in the low nibble, sample location in the high nibble   if bit1
//   sensor status annunciation  uint16 (bits 0-11 defined, 12-15 reserved and dropped)   if bit3
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "drivers/gatt/date_time.hpp"
#include "drivers/gatt/number.hpp"
#include "drivers/gatt/result.hpp"

namespace carehub::gatt {

enum class GlucoseUnit : std::uint8_t { kg_per_L, mol_per_L };

struct GlucoseConcentration {
  Number value;  // in `unit`
  GlucoseUnit unit = GlucoseUnit::kg_per_L;
  std::uint8_t type = 0;             // low nibble; see glucose_type_name()
  std::uint8_t sample_location = 0;  // high nibble; see glucose_sample_location_name()
};

struct GlucoseSensorStatus {
  std::uint16_t bits = 0;  // defined bits only (0-11)

  bool device_battery_low() const { return (bits & (1u << 0)) != 0; }
  bool sensor_malfunction() const { return (bits & (1u << 1)) != 0; }
  bool sample_size_insufficient() const { return (bits & (1u << 2)) != 0; }
  bool strip_insertion_error() const { return (bits & (1u << 3)) != 0; }
  bool strip_type_incorrect() const { return (bits & (1u << 4)) != 0; }
  bool result_too_high() const { return (bits & (1u << 5)) != 0; }
  bool result_too_low() const { return (bits & (1u << 6)) != 0; }
  bool temperature_too_high() const { return (bits & (1u << 7)) != 0; }
  bool temperature_too_low() const { return (bits & (1u << 8)) != 0; }
  bool read_interrupted() const { return (bits & (1u << 9)) != 0; }
  bool general_device_fault() const { return (bits & (1u << 10)) != 0; }
  bool time_fault() const { return (bits & (1u << 11)) != 0; }

  friend bool operator==(const GlucoseSensorStatus&, const GlucoseSensorStatus&) = default;
};

struct GlucoseMeasurement {
  std::uint16_t sequence_number = 0;
  DateTime base_time;
  std::optional<std::int16_t> time_offset_minutes;
  std::optional<GlucoseConcentration> concentration;
  std::optional<GlucoseSensorStatus> sensor_status;
  bool context_follows = false;

  // Base time plus the time offset (the user-facing time); empty when the base time is not valid.
  std::optional<DateTime> measurement_time() const;
};

// "capillary_whole_blood", "capillary_plasma", "venous_whole_blood", "venous_plasma",
// "arterial_whole_blood", "arterial_plasma", "undetermined_whole_blood", "undetermined_plasma",
// "interstitial_fluid", "control_solution", or "reserved".
std::string_view glucose_type_name(std::uint8_t type);
// "finger", "alternate_site_test", "earlobe", "control_solution", "not_available", or "reserved".
std::string_view glucose_sample_location_name(std::uint8_t location);

Result<GlucoseMeasurement> decode_glucose_measurement(std::span<const std::uint8_t> packet);

}  // namespace carehub::gatt
