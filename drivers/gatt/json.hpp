#pragma once
// One JSON object per decoded value, for `carehubctl decode`, logs and tests. Keys are snake_case with the
// unit as suffix in the unit the device sent (systolic_mmHg or systolic_kPa, weight_kg or weight_lb...);
// converting to carehub's canonical units is the BLE driver's job (units.hpp). Every object names its
// "characteristic" and "uuid" ("2A35"). IEEE 11073 special values are the strings "NaN", "NRes", "+INF",
// "-INF", "reserved", never numbers. Time stamps are "YYYY-MM-DDTHH:MM:SS" (device local time, no zone);
// a time stamp that is unknown, out of range, or from a clock the device says is not set appears as
// "<field>_raw" instead, so it cannot be taken for a real instant. Reserved enumeration codes appear as "reserved_0xNN".
// Errors: {"error":"truncated"|"malformed"|"unsupported","detail":"..."}.
#include <nlohmann/json.hpp>

#include "drivers/gatt/decode.hpp"
#include "drivers/gatt/number.hpp"
#include "drivers/gatt/result.hpp"

namespace carehub::gatt {

nlohmann::json to_json(const Decoded& decoded);
nlohmann::json to_json(const DecodeError& error);
nlohmann::json to_json(const DecodeResult& result);
// A JSON integer when the value is a whole number that fits, a JSON number otherwise, or the special's name.
nlohmann::json to_json(const Number& number);

}  // namespace carehub::gatt
