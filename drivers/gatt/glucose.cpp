#include "drivers/gatt/glucose.hpp"

#include <array>

#include "drivers/gatt/byte_reader.hpp"
#include "drivers/gatt/fields.hpp"

namespace carehub::gatt {
namespace {

constexpr unsigned kTimeOffset = 0x01;
constexpr unsigned kConcentration = 0x02;
constexpr unsigned kUnitsMolPerL = 0x04;
constexpr unsigned kSensorStatus = 0x08;
constexpr unsigned kContextFollows = 0x10;
constexpr std::uint16_t kDefinedSensorStatusBits = 0x0FFF;

constexpr std::array<std::string_view, 11> kTypeNames = {
    "reserved",           "capillary_whole_blood", "capillary_plasma",         "venous_whole_blood",
    "venous_plasma",      "arterial_whole_blood",  "arterial_plasma",          "undetermined_whole_blood",
    "undetermined_plasma", "interstitial_fluid",   "control_solution"};

constexpr std::array<std::string_view, 5> kLocationNames = {"reserved", "finger", "alternate_site_test", "earlobe",
                                                            "control_solution"};

}  // namespace

std::string_view glucose_type_name(std::uint8_t type) {
  return type < kTypeNames.size() ? kTypeNames[type] : "reserved";
}

std::string_view glucose_sample_location_name(std::uint8_t location) {
  if (location == 0x0F) {
    return "not_available";
  }
  return location < kLocationNames.size() ? kLocationNames[location] : "reserved";
}

std::optional<DateTime> GlucoseMeasurement::measurement_time() const {
  return add_minutes(base_time, time_offset_minutes.value_or(0));
}

Result<GlucoseMeasurement> decode_glucose_measurement(std::span<const std::uint8_t> packet) {
  ByteReader r(packet, "glucose");
  GlucoseMeasurement out;
  const unsigned flags = r.u8("flags");
  out.sequence_number = r.u16("sequence number");
  out.base_time = read_date_time(r, "base time");
  if (has(flags, kTimeOffset)) {
    out.time_offset_minutes = r.s16("time offset");
  }
  if (has(flags, kConcentration)) {
    GlucoseConcentration c;
    c.unit = has(flags, kUnitsMolPerL) ? GlucoseUnit::mol_per_L : GlucoseUnit::kg_per_L;
    c.value = read_sfloat(r, "glucose concentration");
    const std::uint8_t type_location = r.u8("type-sample location");
    c.type = type_location & 0x0F;
    c.sample_location = static_cast<std::uint8_t>(type_location >> 4);
    out.concentration = c;
  }
  if (has(flags, kSensorStatus)) {
    out.sensor_status = GlucoseSensorStatus{
        static_cast<std::uint16_t>(r.u16("sensor status annunciation") & kDefinedSensorStatusBits)};
  }
  out.context_follows = has(flags, kContextFollows);
  if (!r.ok()) {
    return *r.error();
  }
  return out;
}

}  // namespace carehub::gatt
