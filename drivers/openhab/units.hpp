#pragma once
// The unit symbols openHAB writes in Quantity states (its own labels: "°C", "°F", "K", "%", "lx", "hPa",
// "mbar", "inHg", "µg/m³", "ppm"...) and their UCUM spellings ("Cel", "[degF]", "ug/m3"...), grouped by
// what they measure, with the conversion into each group's canonical unit. Temperature converts affinely
// (°F and K to Cel); everything else scales. An unknown symbol is an error naming it: carehub never
// guesses a unit.
#include <span>
#include <string_view>

#include "drivers/openhab/result.hpp"

namespace carehub::openhab {

enum class Dimension {
  temperature,
  percent,
  illuminance,
  pressure,
  length,
  mass_concentration,
  parts_ratio,
  power,
  energy,
  angle,
  speed,
};

struct UnitInfo {
  std::string_view symbol;     // as written ("°F")
  Dimension dimension;
  std::string_view canonical;  // the dimension's canonical UCUM unit ("Cel")
  double factor;               // canonical = value * factor + offset
  double offset;
};

// "temperature", "illuminance"...
[[nodiscard]] std::string_view to_string(Dimension dimension);

// The canonical UCUM unit of a dimension ("Cel", "%", "lx", "hPa", "m", "ug/m3", "[ppm]", "W", "W.h",
// "deg", "m/s").
[[nodiscard]] std::string_view canonical_unit(Dimension dimension);

// nullptr when carehub does not know the symbol. Matching is exact (units are case-sensitive: "mW" is
// not "MW").
[[nodiscard]] const UnitInfo* find_unit(std::string_view symbol);

// Every known symbol, for documentation and tests.
[[nodiscard]] std::span<const UnitInfo> known_units();

// Converts `value` from `from_unit` into `to_unit`, both known symbols of the same dimension (normally
// `to_unit` is the canonical one). Fails naming the unit when a symbol is unknown, naming both units and
// their dimensions when they measure different things, and when the result is not finite.
[[nodiscard]] Result<double> convert(double value, std::string_view from_unit, std::string_view to_unit);

}  // namespace carehub::openhab
