#include "drivers/gatt/json.hpp"

#include <gtest/gtest.h>

#include "tests/unit/drivers/gatt/maximal_packets.hpp"
#include "tests/unit/drivers/gatt/packets.hpp"

namespace carehub::gatt {
namespace {

using nlohmann::json;
using testing::bytes;

json decoded_json(std::uint16_t uuid, std::string_view hex) {
  const auto r = decode(uuid, bytes(hex));
  EXPECT_TRUE(r) << r.error().detail;
  return to_json(r);
}

TEST(TheJsonOfABloodPressure, NamesEachValueWithItsUnit) {
  EXPECT_EQ(decoded_json(0x2A35, "00 78 00 50 00 5d 00"), json::parse(R"({
    "characteristic": "blood_pressure_measurement", "uuid": "2A35",
    "systolic_mmHg": 120, "diastolic_mmHg": 80, "mean_arterial_pressure_mmHg": 93})"));
}

TEST(TheJsonOfABloodPressure, PrintsTheDevicesDecimalsAsSent) {
  const json j = decoded_json(0x2A35, "01 A0 F0 6B F0 7D F0");
  EXPECT_EQ(j.dump(), R"({"characteristic":"blood_pressure_measurement","diastolic_kPa":10.7,)"
                      R"("mean_arterial_pressure_kPa":12.5,"systolic_kPa":16.0,"uuid":"2A35"})");
}

TEST(TheJsonOfABloodPressure, CarriesEveryOptionalField) {
  EXPECT_EQ(decoded_json(0x2A35, "1E 78 00 50 00 5D 00 E8 07 03 0F 0A 1E 2D 48 00 FF 0C 00"), json::parse(R"({
    "characteristic": "blood_pressure_measurement", "uuid": "2A35",
    "systolic_mmHg": 120, "diastolic_mmHg": 80, "mean_arterial_pressure_mmHg": 93,
    "timestamp": "2024-03-15T10:30:45", "pulse_rate_bpm": 72, "user_id": 255,
    "measurement_status": ["irregular_pulse", "pulse_rate_exceeds_upper_limit"]})"));
}

TEST(TheJsonOfABloodPressure, ShowsSpecialValuesAsStringsNeverNumbers) {
  const json j = decoded_json(0x2A35, "00 FF 07 00 08 FE 07");
  EXPECT_EQ(j["systolic_mmHg"], "NaN");
  EXPECT_EQ(j["diastolic_mmHg"], "NRes");
  EXPECT_EQ(j["mean_arterial_pressure_mmHg"], "+INF");
  EXPECT_EQ(to_json(Number::from_sfloat(0x0802)), "-INF");
  EXPECT_EQ(to_json(Number::from_sfloat(0x0801)), "reserved");
}

TEST(TheJsonOfAnIntermediateCuffPressure, HasOnlyTheCuffPressure) {
  EXPECT_EQ(decoded_json(0x2A36, "00 8C 00 FF 07 FF 07"), json::parse(R"({
    "characteristic": "intermediate_cuff_pressure", "uuid": "2A36", "cuff_pressure_mmHg": 140})"));
}

TEST(TheJsonOfAHeartRate, ListsRrIntervalsInSecondsAndEnergyInKilojoules) {
  EXPECT_EQ(decoded_json(0x2A37, "1E 48 2C 01 00 04 00 02"), json::parse(R"({
    "characteristic": "heart_rate_measurement", "uuid": "2A37", "heart_rate_bpm": 72,
    "sensor_contact": "detected", "energy_expended_kJ": 300, "rr_intervals_s": [1.0, 0.5]})"));
}

TEST(TheJsonOfATemperature, UsesTheDevicesUnitAndNamesTheSite) {
  EXPECT_EQ(decoded_json(0x2A1C, "05 DA 03 00 FF 0A"), json::parse(R"({
    "characteristic": "temperature_measurement", "uuid": "2A1C", "temperature_F": 98.6,
    "temperature_type": "reserved_0x0A"})"));
  EXPECT_EQ(decoded_json(0x2A1C, "04 6C 01 00 FF 03")["temperature_C"].dump(), "36.4");
  EXPECT_EQ(decoded_json(0x2A1C, "04 6C 01 00 FF 03")["temperature_type"], "ear");
}

TEST(TheJsonOfAWeight, CarriesBmiAndHeightInTheDevicesUnits) {
  EXPECT_EQ(decoded_json(0x2A9D, "0E B0 36 E8 07 03 0F 0A 1E 2D 01 F0 00 C2 06"), json::parse(R"({
    "characteristic": "weight_measurement", "uuid": "2A9D", "weight_kg": 70.0, "timestamp": "2024-03-15T10:30:45",
    "user_id": 1, "bmi": 24.0, "height_m": 1.73})"));
  const json imperial = decoded_json(0x2A9D, "09 5C 3A F0 00 A6 02");
  EXPECT_EQ(imperial["weight_lb"], 149.4);
  EXPECT_EQ(imperial["height_in"], 67.8);
}

TEST(TheJsonOfAWeight, MarksAnUnsuccessfulMeasurement) {
  EXPECT_EQ(decoded_json(0x2A9D, "00 FF FF"), json::parse(R"({
    "characteristic": "weight_measurement", "uuid": "2A9D", "weight_kg": "NaN", "measurement_unsuccessful": true})"));
}

TEST(TheJsonOfAPlxSpotCheck, ListsTheStatusBitsThatAreSet) {
  EXPECT_EQ(decoded_json(0x2A5E, "0F 61 00 48 00 E8 07 03 0F 0A 1E 2D 80 00 20 00 00 1E F0"), json::parse(R"({
    "characteristic": "plx_spot_check_measurement", "uuid": "2A5E", "spo2_pct": 97, "pulse_rate_bpm": 72,
    "timestamp": "2024-03-15T10:30:45",
    "measurement_status": ["validated_data"], "device_and_sensor_status": ["low_perfusion_detected"],
    "pulse_amplitude_index_pct": 3.0})"));
}

TEST(TheJsonOfAPlxSpotCheck, ShowsTheTimestampRawWhenTheDeviceClockIsNotSet) {
  EXPECT_EQ(decoded_json(0x2A5E, "11 61 00 48 00 E8 07 03 0F 0A 1E 2D"), json::parse(R"({
    "characteristic": "plx_spot_check_measurement", "uuid": "2A5E", "spo2_pct": 97, "pulse_rate_bpm": 72,
    "timestamp_raw": "2024-03-15T10:30:45", "device_clock_not_set": true})"));
}

TEST(TheJsonOfAPlxContinuous, CarriesFastAndSlowValues) {
  EXPECT_EQ(decoded_json(0x2A5F, "03 62 00 4B 00 61 00 4C 00 62 00 4A 00"), json::parse(R"({
    "characteristic": "plx_continuous_measurement", "uuid": "2A5F", "spo2_pct": 98, "pulse_rate_bpm": 75,
    "spo2_fast_pct": 97, "pulse_rate_fast_bpm": 76, "spo2_slow_pct": 98, "pulse_rate_slow_bpm": 74})"));
}

TEST(TheJsonOfAGlucose, GivesTheMeasurementTimeAndTheConcentrationUnit) {
  EXPECT_EQ(decoded_json(0x2A18, "0B 05 00 E8 07 03 0F 0A 1E 2D F6 FF 78 B0 11 01 00"), json::parse(R"({
    "characteristic": "glucose_measurement", "uuid": "2A18", "sequence_number": 5,
    "base_time": "2024-03-15T10:30:45", "time_offset_min": -10, "timestamp": "2024-03-15T10:20:45",
    "glucose_kg_per_L": 0.0012, "sample_type": "capillary_whole_blood", "sample_location": "finger",
    "sensor_status": ["device_battery_low"]})"));
  const json molar = decoded_json(0x2A18, "16 05 00 E8 07 03 0F 0A 1E 2D 43 C0 F2");
  EXPECT_EQ(molar["glucose_mol_per_L"], 0.0067);
  EXPECT_EQ(molar["sample_location"], "not_available");
  EXPECT_EQ(molar["context_follows"], true);
}

TEST(TheJsonOfAGlucose, ShowsAnUnknownBaseTimeRawAndNoTimestamp) {
  const json j = decoded_json(0x2A18, "00 01 00 00 00 00 00 00 00 00");
  EXPECT_EQ(j["base_time_raw"], "0000-00-00T00:00:00");
  EXPECT_FALSE(j.contains("base_time"));
  EXPECT_FALSE(j.contains("timestamp"));
}

TEST(TheJsonOfARecordAccessResponse, NamesTheRequestAndTheOutcome) {
  EXPECT_EQ(decoded_json(0x2A52, "06 00 01 06"), json::parse(R"({
    "characteristic": "record_access_control_point", "uuid": "2A52", "response": "response_code",
    "request_op_code": "report_stored_records", "response_code": "no_records_found"})"));
  EXPECT_EQ(decoded_json(0x2A52, "05 00 0A 00"), json::parse(R"({
    "characteristic": "record_access_control_point", "uuid": "2A52", "response": "number_of_stored_records",
    "number_of_records": 10})"));
  EXPECT_EQ(decoded_json(0x2A52, "06 00 0C 0B")["response_code"], "reserved_0x0B");
}

TEST(TheJsonOfADateTime, IsATimestampOrARawTimestamp) {
  EXPECT_EQ(decoded_json(0x2A08, "E8 07 03 0F 0A 1E 2D"), json::parse(R"({
    "characteristic": "date_time", "uuid": "2A08", "timestamp": "2024-03-15T10:30:45"})"));
  EXPECT_EQ(decoded_json(0x2A08, "E8 07 02 1E 0A 1E 2D"), json::parse(R"({
    "characteristic": "date_time", "uuid": "2A08", "timestamp_raw": "2024-02-30T10:30:45"})"));
}

TEST(TheJsonOfAnError, GivesItsKindAndDetail) {
  const auto r = decode(0x2A35, bytes("00 78"));
  EXPECT_EQ(to_json(r), json::parse(R"j({"error": "truncated",
    "detail": "blood pressure: systolic needs 2 bytes at offset 1, only 1 remains (packet is 2 bytes)"})j"));
  EXPECT_EQ(to_json(decode(0x1234, {}))["error"], "unsupported");
  EXPECT_EQ(to_json(decode(0x2A52, bytes("00")))["error"], "malformed");
}

TEST(TheJsonOfANumber, IsAnIntegerOnlyForWholeNumbersSentWithoutDecimals) {
  EXPECT_EQ(to_json(Number::from_sfloat(0x0078)).dump(), "120");
  EXPECT_EQ(to_json(Number::from_sfloat(0x2078)).dump(), "12000");  // 120 x 10^2
  EXPECT_EQ(to_json(Number::from_sfloat(0xF36C)).dump(), "87.6");
  EXPECT_EQ(to_json(Number::finite(-5, -2)).dump(), "-0.05");
  EXPECT_EQ(to_json(Number::from_float(0x7F000003)).dump(), "3e+127");
}

TEST(TheJsonOfEveryMaximalPacket, IsAnObjectNamingItsCharacteristic) {
  for (const auto& p : testing::kMaximalPackets) {
    const json j = decoded_json(p.uuid, p.hex);
    EXPECT_EQ(j["characteristic"], characteristic_name(p.uuid)) << p.name;
    EXPECT_FALSE(j.contains("error")) << p.name;
  }
}

}  // namespace
}  // namespace carehub::gatt
