// libFuzzer target for drivers/gatt: every decoder, its JSON, and the text parsers behind
// `carehubctl decode`. Input layout: byte 0 selects the target (kTargets below, modulo its size), the rest
// is the packet (or the text for the two parsers). Seed corpus: tests/fuzz/corpus/gatt_fuzz/, one file per
// interesting packet, named for the characteristic and case.
#include <cstddef>
#include <cstdint>
#include <cmath>
#include <cstdlib>
#include <span>
#include <string_view>

#include "drivers/gatt/decode.hpp"
#include "drivers/gatt/json.hpp"
#include "drivers/gatt/parse.hpp"

namespace {

using namespace carehub::gatt;

// Index = first input byte. Keep the order: the seed corpus depends on it.
constexpr std::uint16_t kTargets[] = {
    uuid::kBloodPressureMeasurement,  // 0
    uuid::kIntermediateCuffPressure,  // 1
    uuid::kHeartRateMeasurement,      // 2
    uuid::kTemperatureMeasurement,    // 3
    uuid::kWeightMeasurement,         // 4
    uuid::kPlxSpotCheckMeasurement,   // 5
    uuid::kPlxContinuousMeasurement,  // 6
    uuid::kGlucoseMeasurement,        // 7
    uuid::kRecordAccessControlPoint,  // 8
    uuid::kDateTime,                  // 9
    0x0000,                           // 10: parse_hex on the rest as text
    0x0001,                           // 11: parse_uuid on the rest as text
    0x2A19,                           // 12: an unsupported characteristic
};
constexpr std::size_t kTargetCount = sizeof kTargets / sizeof kTargets[0];

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

void fuzz_decode(std::uint16_t id, std::span<const std::uint8_t> packet) {
  const DecodeResult result = decode(id, packet);
  const nlohmann::json j = to_json(result);
  check(j.is_object());
  check(!j.dump().empty());
  if (result) {
    check(characteristic_uuid(*result) == id);
    // Special values must never surface as numbers: every number in the JSON is finite.
    for (const auto& item : j.items()) {
      if (item.value().is_number_float()) {
        check(std::isfinite(item.value().get<double>()));
      }
    }
  } else {
    check(!result.error().detail.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::uint16_t target = kTargets[data[0] % kTargetCount];
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  const std::string_view text(reinterpret_cast<const char*>(rest.data()), rest.size());
  if (target == 0x0000) {
    const auto bytes = parse_hex(text);
    if (bytes) {
      check(bytes->size() <= text.size() / 2);
      fuzz_decode(uuid::kBloodPressureMeasurement, *bytes);
    } else {
      check(!bytes.error().detail.empty());
    }
    return 0;
  }
  if (target == 0x0001) {
    const auto id = parse_uuid(text);
    if (id) {
      fuzz_decode(*id, {});
    }
    return 0;
  }
  fuzz_decode(target, rest);
  return 0;
}
