#pragma once
// The contract of drivers/gatt: pure decoders for the Bluetooth SIG health characteristics carehub reads.
// No I/O, no global state; allocates only what it returns (error text, the RR list); any thread may call.
//
//   auto result = carehub::gatt::decode(0x2A35, bytes);
//   if (!result) { log(result.error().detail); count(result.error().kind); return; }
//   std::visit(..., *result);             // or carehub::gatt::to_json(*result) (json.hpp)
//
// Rules every decoder follows:
//   - every flag the specification defines is honoured; reserved flag and status bits are ignored;
//   - a packet shorter than its flags require is `truncated`, naming the field and its offset;
//   - bytes after the last field the flags announce are ignored (later spec versions append fields);
//   - IEEE 11073 special values (NaN, NRes, +INF, -INF, reserved) stay special, never numbers;
//   - nothing reads past the end of the packet (every read goes through ByteReader).
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

#include "drivers/gatt/blood_pressure.hpp"
#include "drivers/gatt/date_time.hpp"
#include "drivers/gatt/glucose.hpp"
#include "drivers/gatt/heart_rate.hpp"
#include "drivers/gatt/pulse_oximeter.hpp"
#include "drivers/gatt/record_access.hpp"
#include "drivers/gatt/result.hpp"
#include "drivers/gatt/temperature.hpp"
#include "drivers/gatt/weight.hpp"

namespace carehub::gatt {

// 16-bit characteristic UUIDs (Bluetooth SIG Assigned Numbers).
namespace uuid {
inline constexpr std::uint16_t kDateTime = 0x2A08;
inline constexpr std::uint16_t kGlucoseMeasurement = 0x2A18;
inline constexpr std::uint16_t kTemperatureMeasurement = 0x2A1C;
inline constexpr std::uint16_t kBloodPressureMeasurement = 0x2A35;
inline constexpr std::uint16_t kIntermediateCuffPressure = 0x2A36;
inline constexpr std::uint16_t kHeartRateMeasurement = 0x2A37;
inline constexpr std::uint16_t kRecordAccessControlPoint = 0x2A52;
inline constexpr std::uint16_t kPlxSpotCheckMeasurement = 0x2A5E;
inline constexpr std::uint16_t kPlxContinuousMeasurement = 0x2A5F;
inline constexpr std::uint16_t kWeightMeasurement = 0x2A9D;
}  // namespace uuid

using Decoded = std::variant<BloodPressureMeasurement, IntermediateCuffPressure, HeartRateMeasurement,
                             TemperatureMeasurement, WeightMeasurement, PlxSpotCheckMeasurement,
                             PlxContinuousMeasurement, GlucoseMeasurement, RacpNumberOfRecords, RacpResponseCode,
                             DateTime>;

using DecodeResult = Result<Decoded>;

// Decodes one characteristic value. An unknown UUID is an `unsupported` error, never a crash.
DecodeResult decode(std::uint16_t characteristic_uuid, std::span<const std::uint8_t> packet);

// Every UUID decode() understands, in ascending order.
std::span<const std::uint16_t> supported_uuids();

// "blood_pressure_measurement", "heart_rate_measurement"... ; empty for an unsupported UUID.
std::string_view characteristic_name(std::uint16_t characteristic_uuid);

// The UUID a decoded value came from.
std::uint16_t characteristic_uuid(const Decoded& decoded);

}  // namespace carehub::gatt
