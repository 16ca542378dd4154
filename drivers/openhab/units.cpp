#include "drivers/openhab/units.hpp"

#include <array>
#include <cmath>
#include <numbers>
#include <string>

#include "drivers/openhab/text.hpp"

namespace carehub::openhab {
namespace {

using D = Dimension;

// openHAB's labels come from its Units/SIUnits/ImperialUnits classes (e.g. "µg/m³" with U+00B5 MICRO
// SIGN, "mbar", "inHg" = 3386.388 Pa, "mmHg" = 133.322368 Pa); the bracketed and dotted forms are UCUM.
// The first symbol listed for a dimension is its canonical unit.
constexpr std::array kUnits{
    UnitInfo{"Cel", D::temperature, "Cel", 1, 0},
    UnitInfo{"°C", D::temperature, "Cel", 1, 0},
    UnitInfo{"℃", D::temperature, "Cel", 1, 0},
    UnitInfo{"[degF]", D::temperature, "Cel", 5.0 / 9.0, -160.0 / 9.0},
    UnitInfo{"°F", D::temperature, "Cel", 5.0 / 9.0, -160.0 / 9.0},
    UnitInfo{"℉", D::temperature, "Cel", 5.0 / 9.0, -160.0 / 9.0},
    UnitInfo{"K", D::temperature, "Cel", 1, -273.15},

    UnitInfo{"%", D::percent, "%", 1, 0},

    UnitInfo{"lx", D::illuminance, "lx", 1, 0},
    UnitInfo{"klx", D::illuminance, "lx", 1000, 0},

    UnitInfo{"hPa", D::pressure, "hPa", 1, 0},
    UnitInfo{"Pa", D::pressure, "hPa", 0.01, 0},
    UnitInfo{"kPa", D::pressure, "hPa", 10, 0},
    UnitInfo{"mbar", D::pressure, "hPa", 1, 0},
    UnitInfo{"bar", D::pressure, "hPa", 1000, 0},
    UnitInfo{"mm[Hg]", D::pressure, "hPa", 1.33322368, 0},
    UnitInfo{"mmHg", D::pressure, "hPa", 1.33322368, 0},
    UnitInfo{"[in_i'Hg]", D::pressure, "hPa", 33.86388, 0},
    UnitInfo{"inHg", D::pressure, "hPa", 33.86388, 0},
    UnitInfo{"[psi]", D::pressure, "hPa", 68.94757293168361, 0},
    UnitInfo{"psi", D::pressure, "hPa", 68.94757293168361, 0},

    UnitInfo{"m", D::length, "m", 1, 0},
    UnitInfo{"km", D::length, "m", 1000, 0},
    UnitInfo{"cm", D::length, "m", 0.01, 0},
    UnitInfo{"mm", D::length, "m", 0.001, 0},
    UnitInfo{"[in_i]", D::length, "m", 0.0254, 0},
    UnitInfo{"in", D::length, "m", 0.0254, 0},
    UnitInfo{"[ft_i]", D::length, "m", 0.3048, 0},
    UnitInfo{"ft", D::length, "m", 0.3048, 0},
    UnitInfo{"[mi_i]", D::length, "m", 1609.344, 0},
    UnitInfo{"mi", D::length, "m", 1609.344, 0},

    UnitInfo{"ug/m3", D::mass_concentration, "ug/m3", 1, 0},
    UnitInfo{"µg/m³", D::mass_concentration, "ug/m3", 1, 0},  // U+00B5 MICRO SIGN, as openHAB writes it
    UnitInfo{"μg/m³", D::mass_concentration, "ug/m3", 1, 0},  // U+03BC GREEK SMALL LETTER MU
    UnitInfo{"mg/m3", D::mass_concentration, "ug/m3", 1000, 0},
    UnitInfo{"mg/m³", D::mass_concentration, "ug/m3", 1000, 0},

    UnitInfo{"[ppm]", D::parts_ratio, "[ppm]", 1, 0},
    UnitInfo{"ppm", D::parts_ratio, "[ppm]", 1, 0},
    UnitInfo{"[ppb]", D::parts_ratio, "[ppm]", 0.001, 0},
    UnitInfo{"ppb", D::parts_ratio, "[ppm]", 0.001, 0},

    UnitInfo{"W", D::power, "W", 1, 0},
    UnitInfo{"mW", D::power, "W", 0.001, 0},
    UnitInfo{"kW", D::power, "W", 1000, 0},

    UnitInfo{"W.h", D::energy, "W.h", 1, 0},
    UnitInfo{"Wh", D::energy, "W.h", 1, 0},
    UnitInfo{"kW.h", D::energy, "W.h", 1000, 0},
    UnitInfo{"kWh", D::energy, "W.h", 1000, 0},

    UnitInfo{"deg", D::angle, "deg", 1, 0},
    UnitInfo{"°", D::angle, "deg", 1, 0},
    UnitInfo{"rad", D::angle, "deg", 180.0 / std::numbers::pi, 0},

    UnitInfo{"m/s", D::speed, "m/s", 1, 0},
    UnitInfo{"km/h", D::speed, "m/s", 1.0 / 3.6, 0},
    UnitInfo{"mph", D::speed, "m/s", 0.44704, 0},
    UnitInfo{"kn", D::speed, "m/s", 1852.0 / 3600.0, 0},
};

std::string unit_error(std::string_view symbol) { return "unknown unit " + in_quotes(symbol); }

}  // namespace

std::string_view to_string(Dimension dimension) {
  switch (dimension) {
    case D::temperature: return "temperature";
    case D::percent: return "percentage";
    case D::illuminance: return "illuminance";
    case D::pressure: return "pressure";
    case D::length: return "length";
    case D::mass_concentration: return "mass concentration";
    case D::parts_ratio: return "parts ratio";
    case D::power: return "power";
    case D::energy: return "energy";
    case D::angle: return "angle";
    case D::speed: return "speed";
  }
  return "unknown";
}

std::string_view canonical_unit(Dimension dimension) {
  for (const auto& u : kUnits) {
    if (u.dimension == dimension) return u.canonical;
  }
  return {};
}

const UnitInfo* find_unit(std::string_view symbol) {
  for (const auto& u : kUnits) {
    if (u.symbol == symbol) return &u;
  }
  return nullptr;
}

std::span<const UnitInfo> known_units() { return kUnits; }

Result<double> convert(double value, std::string_view from_unit, std::string_view to_unit) {
  const UnitInfo* from = find_unit(from_unit);
  if (!from) return make_error(unit_error(from_unit));
  const UnitInfo* to = find_unit(to_unit);
  if (!to) return make_error(unit_error(to_unit));
  if (from->dimension != to->dimension) {
    return make_error("cannot convert " + std::string(from_unit) + " (" + std::string(to_string(from->dimension)) +
                      ") to " + std::string(to_unit) + " (" + std::string(to_string(to->dimension)) + ")");
  }
  if (from == to || (from->factor == to->factor && from->offset == to->offset)) {
    if (!std::isfinite(value)) return make_error("value is not a finite number");
    return value;  // exact: no round trip through the canonical unit
  }
  const double canonical = value * from->factor + from->offset;
  const double result = (canonical - to->offset) / to->factor;
  if (!std::isfinite(result)) {
    return make_error("value out of range converting " + std::string(from_unit) + " to " + std::string(to_unit));
  }
  return result;
}

}  // namespace carehub::openhab
