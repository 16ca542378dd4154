#pragma once
// Unit conversion into carehub's canonical units. Drivers and the reading JSON call this at the edge so
// everything inside carehub compares like with like.
#include <string_view>

#include "core/result.hpp"

namespace carehub {

// Converts `value` given in `from_unit` (UCUM or a common spelling: "kPa", "°F", "[degF]", "lb",
// "mmol/L", "bpm"...) into `canonical_unit`. Fails, naming both units, when they measure different
// things or `from_unit` is unknown. mmol/L to mg/dL uses glucose's molar mass: the only kind in mg/dL.
Result<double> to_canonical(double value, std::string_view from_unit, std::string_view canonical_unit);

}  // namespace carehub
