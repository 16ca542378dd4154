#include "core/units.hpp"

#include <array>
#include <cmath>
#include <string>

namespace carehub {
namespace {

struct UnitDef {
  std::string_view spelling;
  std::string_view canonical;
  double factor;  // canonical = value * factor + offset
  double offset;
};

constexpr std::array kUnits{
    UnitDef{"mm[Hg]", "mm[Hg]", 1, 0},
    UnitDef{"mmHg", "mm[Hg]", 1, 0},
    UnitDef{"kPa", "mm[Hg]", 7.500615758456563, 0},
    UnitDef{"Cel", "Cel", 1, 0},
    UnitDef{"°C", "Cel", 1, 0},
    UnitDef{"C", "Cel", 1, 0},
    UnitDef{"[degF]", "Cel", 5.0 / 9.0, -32.0 * 5.0 / 9.0},
    UnitDef{"°F", "Cel", 5.0 / 9.0, -32.0 * 5.0 / 9.0},
    UnitDef{"F", "Cel", 5.0 / 9.0, -32.0 * 5.0 / 9.0},
    UnitDef{"K", "Cel", 1, -273.15},
    UnitDef{"kg", "kg", 1, 0},
    UnitDef{"g", "kg", 0.001, 0},
    UnitDef{"[lb_av]", "kg", 0.45359237, 0},
    UnitDef{"lb", "kg", 0.45359237, 0},
    UnitDef{"m", "m", 1, 0},
    UnitDef{"cm", "m", 0.01, 0},
    UnitDef{"[in_i]", "m", 0.0254, 0},
    UnitDef{"in", "m", 0.0254, 0},
    UnitDef{"kg/m2", "kg/m2", 1, 0},
    UnitDef{"mg/dL", "mg/dL", 1, 0},
    UnitDef{"mmol/L", "mg/dL", 18.0156, 0},  // glucose, molar mass 180.156 g/mol
    UnitDef{"%", "%", 1, 0},
    UnitDef{"/min", "/min", 1, 0},
    UnitDef{"bpm", "/min", 1, 0},
    UnitDef{"{beats}/min", "/min", 1, 0},
    UnitDef{"lx", "lx", 1, 0},
    UnitDef{"{steps}", "{steps}", 1, 0},
    UnitDef{"{bool}", "{bool}", 1, 0},
};

}  // namespace

Result<double> to_canonical(double value, std::string_view from_unit, std::string_view canonical_unit) {
  for (const auto& u : kUnits) {
    if (u.spelling != from_unit) continue;
    if (u.canonical != canonical_unit) {
      return make_error(Errc::invalid_argument, "unit \"" + std::string(from_unit) + "\" cannot be converted to \"" +
                                                    std::string(canonical_unit) + "\"");
    }
    // Round to 1e-9: conversion noise (100.4 °F -> 38.00000000000001) must not reach the de-duplication
    // identity or the clinician's screen; no sensor resolves anywhere near this finely.
    return std::round((value * u.factor + u.offset) * 1e9) / 1e9;
  }
  return make_error(Errc::invalid_argument, "unknown unit \"" + std::string(from_unit) + "\"");
}

}  // namespace carehub
