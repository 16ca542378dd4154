#include "drivers/gatt/temperature.hpp"

#include <array>

#include "drivers/gatt/byte_reader.hpp"
#include "drivers/gatt/fields.hpp"

namespace carehub::gatt {
namespace {

constexpr unsigned kFahrenheit = 0x01;
constexpr unsigned kTimeStamp = 0x02;
constexpr unsigned kTemperatureType = 0x04;

constexpr std::array<std::string_view, 10> kTypeNames = {
    "reserved", "armpit", "body", "ear", "finger", "gastrointestinal_tract", "mouth", "rectum", "toe", "tympanum"};

}  // namespace

std::string_view temperature_type_name(std::uint8_t code) {
  return code < kTypeNames.size() ? kTypeNames[code] : "reserved";
}

Result<TemperatureMeasurement> decode_temperature_measurement(std::span<const std::uint8_t> packet) {
  ByteReader r(packet, "temperature");
  TemperatureMeasurement out;
  const unsigned flags = r.u8("flags");
  out.unit = has(flags, kFahrenheit) ? TemperatureUnit::fahrenheit : TemperatureUnit::celsius;
  out.temperature = read_float(r, "temperature");
  if (has(flags, kTimeStamp)) {
    out.timestamp = read_date_time(r, "timestamp");
  }
  if (has(flags, kTemperatureType)) {
    out.temperature_type = r.u8("temperature type");
  }
  if (!r.ok()) {
    return *r.error();
  }
  return out;
}

}  // namespace carehub::gatt
