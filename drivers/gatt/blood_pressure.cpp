#include "drivers/gatt/blood_pressure.hpp"

#include "drivers/gatt/byte_reader.hpp"
#include "drivers/gatt/fields.hpp"

namespace carehub::gatt {
namespace {

constexpr unsigned kUnitsKpa = 0x01;
constexpr unsigned kTimeStamp = 0x02;
constexpr unsigned kPulseRate = 0x04;
constexpr unsigned kUserId = 0x08;
constexpr unsigned kMeasurementStatus = 0x10;
constexpr std::uint16_t kDefinedStatusBits = 0x003F;

// Both characteristics share one layout; only the meaning of the compound value differs.
struct Layout {
  PressureUnit unit = PressureUnit::mmHg;
  Number first;
  Number second;
  Number third;
  std::optional<DateTime> timestamp;
  std::optional<Number> pulse_rate;
  std::optional<std::uint8_t> user_id;
  std::optional<BloodPressureStatus> status;
};

Result<Layout> read_layout(std::span<const std::uint8_t> packet, std::string_view what, std::string_view first,
                           std::string_view second, std::string_view third) {
  ByteReader r(packet, what);
  Layout out;
  const unsigned flags = r.u8("flags");
  out.unit = has(flags, kUnitsKpa) ? PressureUnit::kPa : PressureUnit::mmHg;
  out.first = read_sfloat(r, first);
  out.second = read_sfloat(r, second);
  out.third = read_sfloat(r, third);
  if (has(flags, kTimeStamp)) {
    out.timestamp = read_date_time(r, "timestamp");
  }
  if (has(flags, kPulseRate)) {
    out.pulse_rate = read_sfloat(r, "pulse rate");
  }
  if (has(flags, kUserId)) {
    out.user_id = r.u8("user id");
  }
  if (has(flags, kMeasurementStatus)) {
    out.status = BloodPressureStatus{static_cast<std::uint16_t>(r.u16("measurement status") & kDefinedStatusBits)};
  }
  if (!r.ok()) {
    return *r.error();
  }
  return out;
}

}  // namespace

Result<BloodPressureMeasurement> decode_blood_pressure_measurement(std::span<const std::uint8_t> packet) {
  auto layout = read_layout(packet, "blood pressure", "systolic", "diastolic", "mean arterial pressure");
  if (!layout) {
    return layout.error();
  }
  Layout& l = *layout;
  return BloodPressureMeasurement{l.unit, l.first, l.second, l.third, l.timestamp, l.pulse_rate, l.user_id, l.status};
}

Result<IntermediateCuffPressure> decode_intermediate_cuff_pressure(std::span<const std::uint8_t> packet) {
  auto layout = read_layout(packet, "intermediate cuff pressure", "current cuff pressure", "unused diastolic",
                            "unused mean arterial pressure");
  if (!layout) {
    return layout.error();
  }
  Layout& l = *layout;
  return IntermediateCuffPressure{l.unit, l.first, l.timestamp, l.pulse_rate, l.user_id, l.status};
}

}  // namespace carehub::gatt
