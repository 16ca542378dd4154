#pragma once
// openHAB item states as carehub reads them. openHAB writes a state as text plus a type name: event
// payloads say {"type":"Quantity","value":"21.5 °C"}, GET /rest/items gives the item type
// ("Number:Temperature") beside the state text, and the MQTT bridge sends bare text. Every form parses into
// one State.
//
// Numbers are read with std::from_chars, never the C locale, and must be plain decimals with an optional
// exponent ("-0.125", "3.5E-4"): NaN/Infinity text, hex, a decimal comma, leading or trailing garbage and
// empty text are errors. NULL and UNDEF parse to NoValue, which is never a zero.
#include <chrono>
#include <string>
#include <string_view>
#include <variant>

#include "drivers/openhab/result.hpp"

namespace carehub::openhab {

// NULL (never set) or UNDEF (the binding lost the value): there is no value to store.
struct NoValue {
  bool undef = false;  // false: NULL, true: UNDEF

  bool operator==(const NoValue&) const = default;
};

// A dimensionless number ("Decimal", or a "Quantity" whose unit is one).
struct Decimal {
  double value = 0;

  bool operator==(const Decimal&) const = default;
};

// A number with a unit symbol exactly as openHAB wrote it: "°C", "µg/m³", "hPa". The symbol is checked
// for shape only (UTF-8, no spaces); units.hpp decides whether carehub knows it.
struct Quantity {
  double value = 0;
  std::string unit;

  bool operator==(const Quantity&) const = default;
};

// Dimmer and Rollershutter positions, 0..100.
struct Percent {
  double value = 0;

  bool operator==(const Percent&) const = default;
};

struct OnOff {
  bool on = false;

  bool operator==(const OnOff&) const = default;
};

struct OpenClosed {
  bool open = false;

  bool operator==(const OpenClosed&) const = default;
};

// An instant with the UTC offset it was written in ("2024-11-11T20:39:00.000+0100"). Sub-microsecond
// digits are dropped.
struct DateTime {
  std::chrono::sys_time<std::chrono::microseconds> instant{};
  std::chrono::minutes offset{0};

  bool operator==(const DateTime&) const = default;
};

// A state carehub does not interpret (String, HSB, Point, StringList, Raw...), kept as text with its type.
struct Text {
  std::string type;
  std::string value;

  bool operator==(const Text&) const = default;
};

using State = std::variant<NoValue, Decimal, Quantity, Percent, OnOff, OpenClosed, DateTime, Text>;

// A state from an event payload: `type` is openHAB's state type name ("Quantity", "Decimal", "Percent",
// "OnOff", "OpenClosed", "DateTime", "UnDef"); any other type name yields Text.
[[nodiscard]] Result<State> parse_state(std::string_view type, std::string_view value);

// A state from GET /rest/items, typed by the item type ("Number", "Number:Temperature", "Switch",
// "Contact", "Dimmer", "Rollershutter", "DateTime", "String", "Color", "Location"...). For a Group item
// pass its groupType; a Group without one is parsed as untyped.
[[nodiscard]] Result<State> parse_item_state(std::string_view item_type, std::string_view value);

// Text with no type (MQTT's openhab/out/<Item>/state), tried in order: NULL/UNDEF, ON/OFF, OPEN/CLOSED,
// date-time, number with optional unit; anything else is Text{"String", value}.
[[nodiscard]] Result<State> parse_untyped_state(std::string_view value);

// The pieces, for callers and tests that know what to expect.
[[nodiscard]] Result<double> parse_number(std::string_view text);
// A number with an optional unit; without a unit the result is a Decimal.
[[nodiscard]] Result<State> parse_number_with_unit(std::string_view text);
[[nodiscard]] Result<DateTime> parse_date_time(std::string_view text);

// For messages: "Quantity 21.5 °C", "OnOff ON", "UnDef NULL".
[[nodiscard]] std::string describe(const State& state);

}  // namespace carehub::openhab
