#include "drivers/gatt/json.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace carehub::gatt {
namespace {

using nlohmann::json;

struct BitName {
  std::uint32_t mask;
  const char* name;
};

json set_bits(std::uint32_t bits, std::span<const BitName> table) {
  json out = json::array();
  for (const BitName& b : table) {
    if ((bits & b.mask) != 0) {
      out.push_back(b.name);
    }
  }
  return out;
}

// An enumeration's name, or "reserved_0xNN" so the raw code is not lost.
std::string code_name(std::string_view name, unsigned code) {
  if (name != "reserved") {
    return std::string(name);
  }
  char text[24];
  std::snprintf(text, sizeof text, "reserved_0x%02X", code);
  return text;
}

// `trusted` false: the device itself says its clock is not set.
void put_time(json& j, const std::string& key, const DateTime& t, bool trusted = true) {
  if (trusted && t.is_valid()) {
    j[key] = t.to_string();
  } else {
    j[key + "_raw"] = t.to_string();
  }
}

json header(std::uint16_t characteristic_uuid) {
  char text[8];
  std::snprintf(text, sizeof text, "%04X", unsigned{characteristic_uuid});
  return json{{"characteristic", std::string(characteristic_name(characteristic_uuid))}, {"uuid", std::string(text)}};
}

constexpr BitName kBloodPressureStatus[] = {
    {0x0001, "body_movement"},
    {0x0002, "cuff_too_loose"},
    {0x0004, "irregular_pulse"},
    {0x0020, "improper_measurement_position"},
};

json blood_pressure_status(const BloodPressureStatus& s) {
  json out = set_bits(s.bits, kBloodPressureStatus);
  switch (s.pulse_rate_range()) {
    case BloodPressureStatus::PulseRateRange::within_range:
      break;
    case BloodPressureStatus::PulseRateRange::exceeds_upper_limit:
      out.push_back("pulse_rate_exceeds_upper_limit");
      break;
    case BloodPressureStatus::PulseRateRange::below_lower_limit:
      out.push_back("pulse_rate_below_lower_limit");
      break;
    case BloodPressureStatus::PulseRateRange::reserved:
      out.push_back("pulse_rate_range_reserved");
      break;
  }
  return out;
}

constexpr BitName kPlxMeasurementStatus[] = {
    {1u << 5, "measurement_ongoing"},
    {1u << 6, "early_estimated_data"},
    {1u << 7, "validated_data"},
    {1u << 8, "fully_qualified_data"},
    {1u << 9, "data_from_measurement_storage"},
    {1u << 10, "data_for_demonstration"},
    {1u << 11, "data_for_testing"},
    {1u << 12, "calibration_ongoing"},
    {1u << 13, "measurement_unavailable"},
    {1u << 14, "questionable_measurement_detected"},
    {1u << 15, "invalid_measurement_detected"},
};

constexpr BitName kPlxDeviceStatus[] = {
    {1u << 0, "extended_display_update_ongoing"},
    {1u << 1, "equipment_malfunction_detected"},
    {1u << 2, "signal_processing_irregularity_detected"},
    {1u << 3, "inadequate_signal_detected"},
    {1u << 4, "poor_signal_detected"},
    {1u << 5, "low_perfusion_detected"},
    {1u << 6, "erratic_signal_detected"},
    {1u << 7, "nonpulsatile_signal_detected"},
    {1u << 8, "questionable_pulse_detected"},
    {1u << 9, "signal_analysis_ongoing"},
    {1u << 10, "sensor_interference_detected"},
    {1u << 11, "sensor_unconnected_to_user"},
    {1u << 12, "unknown_sensor_connected"},
    {1u << 13, "sensor_displaced"},
    {1u << 14, "sensor_malfunctioning"},
    {1u << 15, "sensor_disconnected"},
};

constexpr BitName kGlucoseSensorStatus[] = {
    {1u << 0, "device_battery_low"},
    {1u << 1, "sensor_malfunction"},
    {1u << 2, "sample_size_insufficient"},
    {1u << 3, "strip_insertion_error"},
    {1u << 4, "strip_type_incorrect"},
    {1u << 5, "result_higher_than_device_can_process"},
    {1u << 6, "result_lower_than_device_can_process"},
    {1u << 7, "temperature_too_high"},
    {1u << 8, "temperature_too_low"},
    {1u << 9, "read_interrupted"},
    {1u << 10, "general_device_fault"},
    {1u << 11, "time_fault"},
};

std::string pressure_suffix(PressureUnit unit) { return unit == PressureUnit::kPa ? "_kPa" : "_mmHg"; }

void put_common_pressure_fields(json& j, const std::optional<DateTime>& timestamp,
                                const std::optional<Number>& pulse_rate, const std::optional<std::uint8_t>& user_id,
                                const std::optional<BloodPressureStatus>& status) {
  if (timestamp) {
    put_time(j, "timestamp", *timestamp);
  }
  if (pulse_rate) {
    j["pulse_rate_bpm"] = to_json(*pulse_rate);
  }
  if (user_id) {
    j["user_id"] = *user_id;
  }
  if (status) {
    j["measurement_status"] = blood_pressure_status(*status);
  }
}

json encode(const BloodPressureMeasurement& m) {
  json j = header(uuid::kBloodPressureMeasurement);
  const std::string unit = pressure_suffix(m.unit);
  j["systolic" + unit] = to_json(m.systolic);
  j["diastolic" + unit] = to_json(m.diastolic);
  j["mean_arterial_pressure" + unit] = to_json(m.mean_arterial);
  put_common_pressure_fields(j, m.timestamp, m.pulse_rate, m.user_id, m.status);
  return j;
}

json encode(const IntermediateCuffPressure& m) {
  json j = header(uuid::kIntermediateCuffPressure);
  j["cuff_pressure" + pressure_suffix(m.unit)] = to_json(m.current_cuff_pressure);
  put_common_pressure_fields(j, m.timestamp, m.pulse_rate, m.user_id, m.status);
  return j;
}

json encode(const HeartRateMeasurement& m) {
  json j = header(uuid::kHeartRateMeasurement);
  j["heart_rate_bpm"] = m.heart_rate_bpm;
  switch (m.sensor_contact) {
    case SensorContact::not_supported:
      j["sensor_contact"] = "not_supported";
      break;
    case SensorContact::not_detected:
      j["sensor_contact"] = "not_detected";
      break;
    case SensorContact::detected:
      j["sensor_contact"] = "detected";
      break;
  }
  if (m.energy_expended_kj) {
    j["energy_expended_kJ"] = *m.energy_expended_kj;
  }
  if (!m.rr_intervals_1024ths.empty()) {
    json rr = json::array();
    for (const std::uint16_t v : m.rr_intervals_1024ths) {
      rr.push_back(v / 1024.0);
    }
    j["rr_intervals_s"] = std::move(rr);
  }
  return j;
}

json encode(const TemperatureMeasurement& m) {
  json j = header(uuid::kTemperatureMeasurement);
  j[m.unit == TemperatureUnit::fahrenheit ? "temperature_F" : "temperature_C"] = to_json(m.temperature);
  if (m.timestamp) {
    put_time(j, "timestamp", *m.timestamp);
  }
  if (m.temperature_type) {
    j["temperature_type"] = code_name(temperature_type_name(*m.temperature_type), *m.temperature_type);
  }
  return j;
}

json encode(const WeightMeasurement& m) {
  json j = header(uuid::kWeightMeasurement);
  const bool imperial = m.unit == WeightUnit::imperial;
  j[imperial ? "weight_lb" : "weight_kg"] = to_json(m.weight);
  if (m.measurement_unsuccessful) {
    j["measurement_unsuccessful"] = true;
  }
  if (m.timestamp) {
    put_time(j, "timestamp", *m.timestamp);
  }
  if (m.user_id) {
    j["user_id"] = *m.user_id;
  }
  if (m.bmi) {
    j["bmi"] = to_json(*m.bmi);
  }
  if (m.height) {
    j[imperial ? "height_in" : "height_m"] = to_json(*m.height);
  }
  return j;
}

void put_plx_status(json& j, const std::optional<PlxMeasurementStatus>& measurement,
                    const std::optional<PlxDeviceAndSensorStatus>& device, const std::optional<Number>& pai) {
  if (measurement) {
    j["measurement_status"] = set_bits(measurement->bits, kPlxMeasurementStatus);
  }
  if (device) {
    j["device_and_sensor_status"] = set_bits(device->bits, kPlxDeviceStatus);
  }
  if (pai) {
    j["pulse_amplitude_index_pct"] = to_json(*pai);
  }
}

json encode(const PlxSpotCheckMeasurement& m) {
  json j = header(uuid::kPlxSpotCheckMeasurement);
  j["spo2_pct"] = to_json(m.spo2);
  j["pulse_rate_bpm"] = to_json(m.pulse_rate);
  if (m.timestamp) {
    put_time(j, "timestamp", *m.timestamp, !m.device_clock_not_set);
  }
  if (m.device_clock_not_set) {
    j["device_clock_not_set"] = true;
  }
  put_plx_status(j, m.measurement_status, m.device_and_sensor_status, m.pulse_amplitude_index);
  return j;
}

json encode(const PlxContinuousMeasurement& m) {
  json j = header(uuid::kPlxContinuousMeasurement);
  j["spo2_pct"] = to_json(m.spo2);
  j["pulse_rate_bpm"] = to_json(m.pulse_rate);
  if (m.spo2_fast) {
    j["spo2_fast_pct"] = to_json(*m.spo2_fast);
  }
  if (m.pulse_rate_fast) {
    j["pulse_rate_fast_bpm"] = to_json(*m.pulse_rate_fast);
  }
  if (m.spo2_slow) {
    j["spo2_slow_pct"] = to_json(*m.spo2_slow);
  }
  if (m.pulse_rate_slow) {
    j["pulse_rate_slow_bpm"] = to_json(*m.pulse_rate_slow);
  }
  put_plx_status(j, m.measurement_status, m.device_and_sensor_status, m.pulse_amplitude_index);
  return j;
}

json encode(const GlucoseMeasurement& m) {
  json j = header(uuid::kGlucoseMeasurement);
  j["sequence_number"] = m.sequence_number;
  put_time(j, "base_time", m.base_time);
  if (m.time_offset_minutes) {
    j["time_offset_min"] = *m.time_offset_minutes;
  }
  if (const auto when = m.measurement_time()) {
    j["timestamp"] = when->to_string();
  }
  if (m.concentration) {
    const GlucoseConcentration& c = *m.concentration;
    j[c.unit == GlucoseUnit::mol_per_L ? "glucose_mol_per_L" : "glucose_kg_per_L"] = to_json(c.value);
    j["sample_type"] = code_name(glucose_type_name(c.type), c.type);
    j["sample_location"] = code_name(glucose_sample_location_name(c.sample_location), c.sample_location);
  }
  if (m.sensor_status) {
    j["sensor_status"] = set_bits(m.sensor_status->bits, kGlucoseSensorStatus);
  }
  if (m.context_follows) {
    j["context_follows"] = true;
  }
  return j;
}

json encode(const RacpNumberOfRecords& m) {
  json j = header(uuid::kRecordAccessControlPoint);
  j["response"] = "number_of_stored_records";
  j["number_of_records"] = m.count;
  return j;
}

json encode(const RacpResponseCode& m) {
  json j = header(uuid::kRecordAccessControlPoint);
  j["response"] = "response_code";
  j["request_op_code"] = code_name(racp_op_code_name(m.request_op_code), m.request_op_code);
  j["response_code"] = code_name(racp_response_code_name(m.response_code), m.response_code);
  return j;
}

json encode(const DateTime& m) {
  json j = header(uuid::kDateTime);
  put_time(j, "timestamp", m);
  return j;
}

}  // namespace

json to_json(const Number& number) {
  const auto v = number.value();
  if (!v) {
    return std::string(to_string(number.kind()));
  }
  // Whole numbers the device sent with a non-negative exponent print as integers ("120", not "120.0").
  constexpr double kExactIntegerLimit = 9007199254740992.0;  // 2^53
  if (number.exponent() >= 0 && std::fabs(*v) <= kExactIntegerLimit) {
    return static_cast<std::int64_t>(*v);
  }
  return *v;
}

json to_json(const Decoded& decoded) {
  return std::visit([](const auto& value) { return encode(value); }, decoded);
}

json to_json(const DecodeError& error) {
  return json{{"error", std::string(to_string(error.kind))}, {"detail", error.detail}};
}

json to_json(const DecodeResult& result) { return result ? to_json(*result) : to_json(result.error()); }

}  // namespace carehub::gatt
