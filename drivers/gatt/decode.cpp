#include "drivers/gatt/decode.hpp"

#include <array>
#include <cstdio>
#include <string>

namespace carehub::gatt {
namespace {

struct Entry {
  std::uint16_t uuid;
  std::string_view name;
};

constexpr std::array<Entry, 10> kCharacteristics = {{
    {uuid::kDateTime, "date_time"},
    {uuid::kGlucoseMeasurement, "glucose_measurement"},
    {uuid::kTemperatureMeasurement, "temperature_measurement"},
    {uuid::kBloodPressureMeasurement, "blood_pressure_measurement"},
    {uuid::kIntermediateCuffPressure, "intermediate_cuff_pressure"},
    {uuid::kHeartRateMeasurement, "heart_rate_measurement"},
    {uuid::kRecordAccessControlPoint, "record_access_control_point"},
    {uuid::kPlxSpotCheckMeasurement, "plx_spot_check_measurement"},
    {uuid::kPlxContinuousMeasurement, "plx_continuous_measurement"},
    {uuid::kWeightMeasurement, "weight_measurement"},
}};

constexpr std::array<std::uint16_t, kCharacteristics.size()> kUuids = [] {
  std::array<std::uint16_t, kCharacteristics.size()> out{};
  for (std::size_t i = 0; i < kCharacteristics.size(); ++i) {
    out[i] = kCharacteristics[i].uuid;
  }
  return out;
}();

// Widens a per-characteristic Result<T> into the DecodeResult variant.
template <class T>
DecodeResult widen(Result<T> r) {
  if (!r) {
    return r.error();
  }
  return Decoded(std::move(*r));
}

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

DecodeResult decode(std::uint16_t characteristic_uuid, std::span<const std::uint8_t> packet) {
  switch (characteristic_uuid) {
    case uuid::kBloodPressureMeasurement:
      return widen(decode_blood_pressure_measurement(packet));
    case uuid::kIntermediateCuffPressure:
      return widen(decode_intermediate_cuff_pressure(packet));
    case uuid::kHeartRateMeasurement:
      return widen(decode_heart_rate_measurement(packet));
    case uuid::kTemperatureMeasurement:
      return widen(decode_temperature_measurement(packet));
    case uuid::kWeightMeasurement:
      return widen(decode_weight_measurement(packet));
    case uuid::kPlxSpotCheckMeasurement:
      return widen(decode_plx_spot_check(packet));
    case uuid::kPlxContinuousMeasurement:
      return widen(decode_plx_continuous(packet));
    case uuid::kGlucoseMeasurement:
      return widen(decode_glucose_measurement(packet));
    case uuid::kDateTime:
      return widen(decode_date_time(packet));
    case uuid::kRecordAccessControlPoint: {
      auto r = decode_record_access_response(packet);
      if (!r) {
        return r.error();
      }
      return std::visit([](auto v) { return Decoded(v); }, *r);
    }
    default:
      break;
  }
  char text[64];
  std::snprintf(text, sizeof text, "no decoder for characteristic 0x%04X", unsigned{characteristic_uuid});
  return DecodeError{ErrorKind::unsupported, text};
}

std::span<const std::uint16_t> supported_uuids() { return kUuids; }

std::string_view characteristic_name(std::uint16_t characteristic_uuid) {
  for (const Entry& e : kCharacteristics) {
    if (e.uuid == characteristic_uuid) {
      return e.name;
    }
  }
  return {};
}

std::uint16_t characteristic_uuid(const Decoded& decoded) {
  return std::visit(Overloaded{
                        [](const BloodPressureMeasurement&) { return uuid::kBloodPressureMeasurement; },
                        [](const IntermediateCuffPressure&) { return uuid::kIntermediateCuffPressure; },
                        [](const HeartRateMeasurement&) { return uuid::kHeartRateMeasurement; },
                        [](const TemperatureMeasurement&) { return uuid::kTemperatureMeasurement; },
                        [](const WeightMeasurement&) { return uuid::kWeightMeasurement; },
                        [](const PlxSpotCheckMeasurement&) { return uuid::kPlxSpotCheckMeasurement; },
                        [](const PlxContinuousMeasurement&) { return uuid::kPlxContinuousMeasurement; },
                        [](const GlucoseMeasurement&) { return uuid::kGlucoseMeasurement; },
                        [](const RacpNumberOfRecords&) { return uuid::kRecordAccessControlPoint; },
                        [](const RacpResponseCode&) { return uuid::kRecordAccessControlPoint; },
                        [](const DateTime&) { return uuid::kDateTime; },
                    },
                    decoded);
}

}  // namespace carehub::gatt
