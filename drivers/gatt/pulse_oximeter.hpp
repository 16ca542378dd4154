#pragma once
// PLX Spot-Check Measurement (0x2A5E) and PLX Continuous Measurement (0x2A5F).
//
// Layouts (GATT Specification Supplement, PLX Spot-Check / PLX Continuous Measurement; Pulse Oximeter
// Service 1.0). SpO2 is in percent, PR in beats per minute, Pulse Amplitude Index in percent, all SFLOAT.
//
// Spot-Check:
//   flags   uint8  bit0 timestamp, bit1 measurement status, bit2 device and sensor status,
//                  bit3 pulse amplitude index, bit4 device clock is not set; bits 5-7 reserved (ignored)
//   SpO2, PR                      SFLOAT, SFLOAT
//   timestamp                     Date Time (7)   if bit0
//   measurement status            uint16          if bit1
//   device and sensor status      uint24          if bit2
//   pulse amplitude index         SFLOAT          if bit3
// Continuous:
//   flags   uint8  bit0 SpO2PR-Fast, bit1 SpO2PR-Slow, bit2 measurement status, bit3 device and sensor
//                  status, bit4 pulse amplitude index; bits 5-7 reserved (ignored)
//   SpO2, PR (normal)             SFLOAT, SFLOAT
//   SpO2, PR (fast)               SFLOAT, SFLOAT  if bit0
//   SpO2, PR (slow)               SFLOAT, SFLOAT  if bit1
//   measurement status            uint16          if bit2
//   device and sensor status      uint24          if bit3
//   pulse amplitude index         SFLOAT          if bit4
#include <cstdint>
#include <optional>
#include <span>

#include "drivers/gatt/date_time.hpp"
#include "drivers/gatt/number.hpp"
#include "drivers/gatt/result.hpp"

namespace carehub::gatt {

// Measurement Status: bits 0-4 reserved (dropped), 5-15 defined.
struct PlxMeasurementStatus {
  std::uint16_t bits = 0;

  bool measurement_ongoing() const { return (bits & (1u << 5)) != 0; }
  bool early_estimated_data() const { return (bits & (1u << 6)) != 0; }
  bool validated_data() const { return (bits & (1u << 7)) != 0; }
  bool fully_qualified_data() const { return (bits & (1u << 8)) != 0; }
  bool data_from_measurement_storage() const { return (bits & (1u << 9)) != 0; }
  bool data_for_demonstration() const { return (bits & (1u << 10)) != 0; }
  bool data_for_testing() const { return (bits & (1u << 11)) != 0; }
  bool calibration_ongoing() const { return (bits & (1u << 12)) != 0; }
  bool measurement_unavailable() const { return (bits & (1u << 13)) != 0; }
  bool questionable_measurement_detected() const { return (bits & (1u << 14)) != 0; }
  bool invalid_measurement_detected() const { return (bits & (1u << 15)) != 0; }

  friend bool operator==(const PlxMeasurementStatus&, const PlxMeasurementStatus&) = default;
};

// Device and Sensor Status: bits 0-15 defined, 16-23 reserved (dropped).
struct PlxDeviceAndSensorStatus {
  std::uint32_t bits = 0;

  bool extended_display_update_ongoing() const { return (bits & (1u << 0)) != 0; }
  bool equipment_malfunction_detected() const { return (bits & (1u << 1)) != 0; }
  bool signal_processing_irregularity_detected() const { return (bits & (1u << 2)) != 0; }
  bool inadequate_signal_detected() const { return (bits & (1u << 3)) != 0; }
  bool poor_signal_detected() const { return (bits & (1u << 4)) != 0; }
  bool low_perfusion_detected() const { return (bits & (1u << 5)) != 0; }
  bool erratic_signal_detected() const { return (bits & (1u << 6)) != 0; }
  bool nonpulsatile_signal_detected() const { return (bits & (1u << 7)) != 0; }
  bool questionable_pulse_detected() const { return (bits & (1u << 8)) != 0; }
  bool signal_analysis_ongoing() const { return (bits & (1u << 9)) != 0; }
  bool sensor_interference_detected() const { return (bits & (1u << 10)) != 0; }
  bool sensor_unconnected_to_user() const { return (bits & (1u << 11)) != 0; }
  bool unknown_sensor_connected() const { return (bits & (1u << 12)) != 0; }
  bool sensor_displaced() const { return (bits & (1u << 13)) != 0; }
  bool sensor_malfunctioning() const { return (bits & (1u << 14)) != 0; }
  bool sensor_disconnected() const { return (bits & (1u << 15)) != 0; }

  friend bool operator==(const PlxDeviceAndSensorStatus&, const PlxDeviceAndSensorStatus&) = default;
};

struct PlxSpotCheckMeasurement {
  Number spo2;        // %
  Number pulse_rate;  // beats per minute
  std::optional<DateTime> timestamp;
  bool device_clock_not_set = false;  // the timestamp, if any, is not to be trusted
  std::optional<PlxMeasurementStatus> measurement_status;
  std::optional<PlxDeviceAndSensorStatus> device_and_sensor_status;
  std::optional<Number> pulse_amplitude_index;  // %

  // The timestamp when it can be believed: present, a real instant, and the device's clock is set.
  std::optional<DateTime> trusted_timestamp() const {
    if (!timestamp || device_clock_not_set || !timestamp->is_valid()) {
      return std::nullopt;
    }
    return timestamp;
  }
};

struct PlxContinuousMeasurement {
  Number spo2;
  Number pulse_rate;
  std::optional<Number> spo2_fast;
  std::optional<Number> pulse_rate_fast;
  std::optional<Number> spo2_slow;
  std::optional<Number> pulse_rate_slow;
  std::optional<PlxMeasurementStatus> measurement_status;
  std::optional<PlxDeviceAndSensorStatus> device_and_sensor_status;
  std::optional<Number> pulse_amplitude_index;
};

Result<PlxSpotCheckMeasurement> decode_plx_spot_check(std::span<const std::uint8_t> packet);
Result<PlxContinuousMeasurement> decode_plx_continuous(std::span<const std::uint8_t> packet);

}  // namespace carehub::gatt
