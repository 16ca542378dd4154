#include "drivers/gatt/weight.hpp"

#include "drivers/gatt/byte_reader.hpp"
#include "drivers/gatt/fields.hpp"

namespace carehub::gatt {
namespace {

constexpr unsigned kImperial = 0x01;
constexpr unsigned kTimeStamp = 0x02;
constexpr unsigned kUserId = 0x04;
constexpr unsigned kBmiAndHeight = 0x08;
constexpr std::uint16_t kMeasurementUnsuccessful = 0xFFFF;

}  // namespace

Result<WeightMeasurement> decode_weight_measurement(std::span<const std::uint8_t> packet) {
  ByteReader r(packet, "weight");
  WeightMeasurement out;
  const unsigned flags = r.u8("flags");
  const bool imperial = has(flags, kImperial);
  out.unit = imperial ? WeightUnit::imperial : WeightUnit::si;
  const std::uint16_t weight = r.u16("weight");
  if (weight == kMeasurementUnsuccessful) {
    out.measurement_unsuccessful = true;
    out.weight = Number::special(Number::Kind::nan);
  } else if (imperial) {
    out.weight = Number::finite(weight, -2);
  } else {
    out.weight = Number::finite(std::int32_t{weight} * 5, -3);
  }
  if (has(flags, kTimeStamp)) {
    out.timestamp = read_date_time(r, "timestamp");
  }
  if (has(flags, kUserId)) {
    out.user_id = r.u8("user id");
  }
  if (has(flags, kBmiAndHeight)) {
    out.bmi = Number::finite(r.u16("bmi"), -1);
    const std::uint16_t height = r.u16("height");
    out.height = imperial ? Number::finite(height, -1) : Number::finite(height, -3);
  }
  if (!r.ok()) {
    return *r.error();
  }
  return out;
}

}  // namespace carehub::gatt
