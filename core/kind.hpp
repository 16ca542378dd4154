#pragma once
// The catalogue of measurement kinds carehub understands, with each kind's components, their canonical
// UCUM units and the physically plausible range outside which a value is rejected as bad input.
#include <optional>
#include <span>
#include <string_view>

namespace carehub {

enum class Kind {
  blood_pressure,
  heart_rate,
  body_temperature,
  body_weight,
  spo2,
  glucose,
  steps,
  room_temperature,
  room_humidity,
  illuminance,
  motion,
};

struct Component {
  std::string_view name;  // "systolic"; "value" for single-valued kinds
  std::string_view unit;  // canonical UCUM unit, e.g. "mm[Hg]"
  bool required;
  double min;  // plausible range, inclusive
  double max;
};

struct KindInfo {
  Kind kind;
  std::string_view name;  // "blood-pressure"
  std::span<const Component> components;
  // Spot clinical measurements are never shed or aggregated; environmental streams are high-rate and may be.
  bool environmental;
};

const KindInfo& info(Kind kind);
std::span<const KindInfo> all_kinds();
std::string_view to_string(Kind kind);
std::optional<Kind> kind_from_string(std::string_view name);
const Component* find_component(Kind kind, std::string_view name);

}  // namespace carehub
