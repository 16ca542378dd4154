#pragma once
// Heart Rate Measurement (0x2A37).
//
// Layout (GATT Specification Supplement, Heart Rate Measurement; Heart Rate Service 1.0):
//   flags              uint8   bit0 value format (0 uint8, 1 uint16), bits1-2 sensor contact status
//                              (0 or 1 not supported, 2 supported but no contact, 3 contact detected),
//                              bit3 energy expended present, bit4 RR-intervals present; bits 5-7 reserved
//   heart rate         uint8 or uint16, beats per minute
//   energy expended    uint16 kJ, cumulative; 0xFFFF means "at least 65535" (the sensor saturates)  if bit3
//   RR-intervals       uint16 each, 1/1024 s, as many as fill the rest of the packet (at least one)  if bit4
// An RR field that is missing or ends in half a value is truncated.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "drivers/gatt/result.hpp"

namespace carehub::gatt {

enum class SensorContact : std::uint8_t { not_supported, not_detected, detected };

struct HeartRateMeasurement {
  std::uint16_t heart_rate_bpm = 0;
  bool sixteen_bit_value = false;  // the device used the uint16 format
  SensorContact sensor_contact = SensorContact::not_supported;
  std::optional<std::uint16_t> energy_expended_kj;
  std::vector<std::uint16_t> rr_intervals_1024ths;  // raw, in 1/1024 s

  // RR interval `i` in seconds.
  double rr_interval_s(std::size_t i) const { return rr_intervals_1024ths.at(i) / 1024.0; }
};

Result<HeartRateMeasurement> decode_heart_rate_measurement(std::span<const std::uint8_t> packet);

}  // namespace carehub::gatt
