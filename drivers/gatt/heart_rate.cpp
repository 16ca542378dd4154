#include "drivers/gatt/heart_rate.hpp"

#include "drivers/gatt/byte_reader.hpp"
#include "drivers/gatt/fields.hpp"

namespace carehub::gatt {
namespace {

constexpr unsigned kValueUint16 = 0x01;
constexpr unsigned kContactDetected = 0x02;
constexpr unsigned kContactSupported = 0x04;
constexpr unsigned kEnergyExpended = 0x08;
constexpr unsigned kRrIntervals = 0x10;

}  // namespace

Result<HeartRateMeasurement> decode_heart_rate_measurement(std::span<const std::uint8_t> packet) {
  ByteReader r(packet, "heart rate");
  HeartRateMeasurement out;
  const unsigned flags = r.u8("flags");
  out.sixteen_bit_value = has(flags, kValueUint16);
  out.heart_rate_bpm = out.sixteen_bit_value ? r.u16("heart rate (uint16)") : r.u8("heart rate (uint8)");
  if (!has(flags, kContactSupported)) {
    out.sensor_contact = SensorContact::not_supported;
  } else {
    out.sensor_contact = has(flags, kContactDetected) ? SensorContact::detected : SensorContact::not_detected;
  }
  if (has(flags, kEnergyExpended)) {
    out.energy_expended_kj = r.u16("energy expended");
  }
  if (has(flags, kRrIntervals)) {
    // The flag promises at least one interval; after that the packet's length decides how many.
    out.rr_intervals_1024ths.reserve(r.remaining() / 2 + 1);
    do {
      const std::uint16_t rr = r.u16("rr interval");
      if (r.ok()) {
        out.rr_intervals_1024ths.push_back(rr);
      }
    } while (r.ok() && r.remaining() > 0);
  }
  if (!r.ok()) {
    return *r.error();
  }
  return out;
}

}  // namespace carehub::gatt
