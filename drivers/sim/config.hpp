#pragma once
// The simulator's configuration: `/sources/sim` in carehubd.json. Parsing validates everything, each
// configured reading included (known kind, components, plausible values), and reads no file.
#include <array>
#include <chrono>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/kind.hpp"
#include "core/result.hpp"
#include "drivers/option_table.hpp"

namespace carehub::sim {

// Every option of `/sources/sim`, once: the parser accepts these keys and no other; the README documents
// each (tests/conventions/drivers_test.cpp checks it).
inline constexpr std::array kOptions{
    ConfigOption{"/device", OptionType::string, "\"sim\"", "the device id of every reading"},
    ConfigOption{"/interval_s", OptionType::integer, "60", "1..86400: seconds between rounds; the first is at start"},
    ConfigOption{"/readings", OptionType::array, "required", "what each round emits, one reading per entry"},
    ConfigOption{"/readings/*/kind", OptionType::string, "required", "a kind name: heart-rate, blood-pressure, ..."},
    ConfigOption{"/readings/*/values", OptionType::object, "required",
                 "component -> value in its canonical unit, checked as any reading is"},
};

struct SimReading {
  Kind kind = Kind::heart_rate;
  std::map<std::string, double> values;  // component -> value, canonical unit
};

struct SimConfig {
  std::string device = "sim";
  std::chrono::seconds interval{60};
  std::vector<SimReading> readings;
};

// Reads `section` (found at `path`, e.g. "/sources/sim"). Every problem is reported at once, one per line,
// each naming its JSON path.
[[nodiscard]] Result<SimConfig> parse_sim_config(const nlohmann::json& section, const std::string& path);

}  // namespace carehub::sim
