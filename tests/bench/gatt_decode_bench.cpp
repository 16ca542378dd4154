// Decode throughput of drivers/gatt per characteristic, in packets per second (items_per_second), for the
// longest packet each characteristic sends, plus decode + JSON as `carehubctl decode` runs it.
// Target: gatt_decode_bench (deps: carehub_gatt, benchmark::benchmark).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "drivers/gatt/decode.hpp"
#include "drivers/gatt/json.hpp"
#include "drivers/gatt/parse.hpp"

namespace {

using namespace carehub::gatt;

std::vector<std::uint8_t> packet(std::string_view hex) { return std::move(*parse_hex(hex)); }

void decode_packets(benchmark::State& state, std::uint16_t id, std::string_view hex) {
  const auto bytes = packet(hex);
  for (auto _ : state) {
    auto result = decode(id, bytes);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}

void decode_to_json(benchmark::State& state, std::uint16_t id, std::string_view hex) {
  const auto bytes = packet(hex);
  for (auto _ : state) {
    auto text = to_json(decode(id, bytes)).dump();
    benchmark::DoNotOptimize(text);
  }
  state.SetItemsProcessed(state.iterations());
}

constexpr std::string_view kBloodPressure = "1E 78 00 50 00 5D 00 E8 07 03 0F 0A 1E 2D 48 00 02 04 00";
constexpr std::string_view kHeartRate = "1F 48 00 2C 01 00 04 00 02 52 03";
constexpr std::string_view kTemperature = "06 6C 01 00 FF E8 07 03 0F 0A 1E 2D 03";
constexpr std::string_view kWeight = "0E B0 36 E8 07 03 0F 0A 1E 2D 01 F0 00 C2 06";
constexpr std::string_view kPlxSpotCheck = "1F 61 00 48 00 E8 07 03 0F 0A 1E 2D 80 00 20 00 00 1E F0";
constexpr std::string_view kPlxContinuous = "1F 62 00 4B 00 61 00 4C 00 62 00 4A 00 00 01 00 80 00 1E F0";
constexpr std::string_view kGlucose = "1F 05 00 E8 07 03 0F 0A 1E 2D F6 FF 43 C0 F2 01 00";
constexpr std::string_view kRecordAccess = "06 00 01 01";
constexpr std::string_view kDateTime = "E8 07 03 0F 0A 1E 2D";

BENCHMARK_CAPTURE(decode_packets, blood_pressure, uuid::kBloodPressureMeasurement, kBloodPressure);
BENCHMARK_CAPTURE(decode_packets, intermediate_cuff_pressure, uuid::kIntermediateCuffPressure, kBloodPressure);
BENCHMARK_CAPTURE(decode_packets, heart_rate_3rr, uuid::kHeartRateMeasurement, kHeartRate);
BENCHMARK_CAPTURE(decode_packets, temperature, uuid::kTemperatureMeasurement, kTemperature);
BENCHMARK_CAPTURE(decode_packets, weight, uuid::kWeightMeasurement, kWeight);
BENCHMARK_CAPTURE(decode_packets, plx_spot_check, uuid::kPlxSpotCheckMeasurement, kPlxSpotCheck);
BENCHMARK_CAPTURE(decode_packets, plx_continuous, uuid::kPlxContinuousMeasurement, kPlxContinuous);
BENCHMARK_CAPTURE(decode_packets, glucose, uuid::kGlucoseMeasurement, kGlucose);
BENCHMARK_CAPTURE(decode_packets, record_access, uuid::kRecordAccessControlPoint, kRecordAccess);
BENCHMARK_CAPTURE(decode_packets, date_time, uuid::kDateTime, kDateTime);
BENCHMARK_CAPTURE(decode_packets, truncated_blood_pressure, uuid::kBloodPressureMeasurement, "02 78 00 50 00 5D 00");

BENCHMARK_CAPTURE(decode_to_json, blood_pressure, uuid::kBloodPressureMeasurement, kBloodPressure);
BENCHMARK_CAPTURE(decode_to_json, glucose, uuid::kGlucoseMeasurement, kGlucose);

}  // namespace

BENCHMARK_MAIN();
