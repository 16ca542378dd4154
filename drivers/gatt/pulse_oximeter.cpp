#include "drivers/gatt/pulse_oximeter.hpp"

#include "drivers/gatt/byte_reader.hpp"
#include "drivers/gatt/fields.hpp"

namespace carehub::gatt {
namespace {

constexpr unsigned kSpotTimestamp = 0x01;
constexpr unsigned kSpotMeasurementStatus = 0x02;
constexpr unsigned kSpotDeviceStatus = 0x04;
constexpr unsigned kSpotPulseAmplitude = 0x08;
constexpr unsigned kSpotClockNotSet = 0x10;

constexpr unsigned kContFast = 0x01;
constexpr unsigned kContSlow = 0x02;
constexpr unsigned kContMeasurementStatus = 0x04;
constexpr unsigned kContDeviceStatus = 0x08;
constexpr unsigned kContPulseAmplitude = 0x10;

constexpr std::uint16_t kDefinedMeasurementStatusBits = 0xFFE0;
constexpr std::uint32_t kDefinedDeviceStatusBits = 0x00FFFF;

PlxMeasurementStatus read_measurement_status(ByteReader& r) {
  return {static_cast<std::uint16_t>(r.u16("measurement status") & kDefinedMeasurementStatusBits)};
}

PlxDeviceAndSensorStatus read_device_status(ByteReader& r) {
  return {r.u24("device and sensor status") & kDefinedDeviceStatusBits};
}

}  // namespace

Result<PlxSpotCheckMeasurement> decode_plx_spot_check(std::span<const std::uint8_t> packet) {
  ByteReader r(packet, "plx spot-check");
  PlxSpotCheckMeasurement out;
  const unsigned flags = r.u8("flags");
  out.spo2 = read_sfloat(r, "spo2");
  out.pulse_rate = read_sfloat(r, "pulse rate");
  out.device_clock_not_set = has(flags, kSpotClockNotSet);
  if (has(flags, kSpotTimestamp)) {
    out.timestamp = read_date_time(r, "timestamp");
  }
  if (has(flags, kSpotMeasurementStatus)) {
    out.measurement_status = read_measurement_status(r);
  }
  if (has(flags, kSpotDeviceStatus)) {
    out.device_and_sensor_status = read_device_status(r);
  }
  if (has(flags, kSpotPulseAmplitude)) {
    out.pulse_amplitude_index = read_sfloat(r, "pulse amplitude index");
  }
  if (!r.ok()) {
    return *r.error();
  }
  return out;
}

Result<PlxContinuousMeasurement> decode_plx_continuous(std::span<const std::uint8_t> packet) {
  ByteReader r(packet, "plx continuous");
  PlxContinuousMeasurement out;
  const unsigned flags = r.u8("flags");
  out.spo2 = read_sfloat(r, "spo2");
  out.pulse_rate = read_sfloat(r, "pulse rate");
  if (has(flags, kContFast)) {
    out.spo2_fast = read_sfloat(r, "spo2 fast");
    out.pulse_rate_fast = read_sfloat(r, "pulse rate fast");
  }
  if (has(flags, kContSlow)) {
    out.spo2_slow = read_sfloat(r, "spo2 slow");
    out.pulse_rate_slow = read_sfloat(r, "pulse rate slow");
  }
  if (has(flags, kContMeasurementStatus)) {
    out.measurement_status = read_measurement_status(r);
  }
  if (has(flags, kContDeviceStatus)) {
    out.device_and_sensor_status = read_device_status(r);
  }
  if (has(flags, kContPulseAmplitude)) {
    out.pulse_amplitude_index = read_sfloat(r, "pulse amplitude index");
  }
  if (!r.ok()) {
    return *r.error();
  }
  return out;
}

}  // namespace carehub::gatt
