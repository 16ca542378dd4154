#pragma once
// IEEE 11073-20601 numbers as Bluetooth health devices send them: SFLOAT (16 bits: 4-bit exponent,
// 12-bit mantissa) and FLOAT (32 bits: 8-bit exponent, 24-bit mantissa), both two's complement, value =
// mantissa x 10^exponent. A Number keeps mantissa and exponent, so 0xF36C prints exactly "87.6".
//
// Special values (IEEE 11073-20601, FLOAT-Type and SFLOAT-Type; Bluetooth SIG Personal Health Devices
// Transcoding White Paper):
//   SFLOAT mantissa 0x07FF NaN, 0x0800 NRes (not at this resolution), 0x07FE +INF, 0x0802 -INF,
//   0x0801 reserved; FLOAT mantissa 0x7FFFFF, 0x800000, 0x7FFFFE, 0x800002, 0x800001 likewise.
// The standard defines them with exponent 0. We classify by mantissa whatever the exponent: a cuff that
// failed and sent 0xF7FF must not become "204.7 mmHg" and trip an extreme-blood-pressure alert, while
// the only price is that five mantissa values can never carry a number. A special never yields a
// double: value() is empty for it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace carehub::gatt {

class Number {
 public:
  enum class Kind : std::uint8_t { finite, nan, nres, positive_infinity, negative_infinity, reserved };

  // NaN: a Number nobody filled in is never mistaken for a measurement.
  constexpr Number() = default;

  static Number from_sfloat(std::uint16_t raw);
  static Number from_float(std::uint32_t raw);
  // A finite decimal, also used for the fixed-point fields (weight 0.005 kg -> mantissa 5*raw, exp -3).
  static constexpr Number finite(std::int32_t mantissa, std::int8_t exponent) {
    return Number(Kind::finite, mantissa, exponent);
  }
  static constexpr Number special(Kind kind) { return Number(kind, 0, 0); }

  Kind kind() const { return kind_; }
  bool is_finite() const { return kind_ == Kind::finite; }
  // Zero for a special value.
  std::int32_t mantissa() const { return mantissa_; }
  std::int8_t exponent() const { return exponent_; }

  // The nearest double to mantissa x 10^exponent; empty for every special value.
  std::optional<double> value() const;
  // Exact decimal text ("120", "87.6", "-0.05", "1200") or "NaN", "NRes", "+INF", "-INF", "reserved".
  std::string to_string() const;

  // Representation equality: 1200e-1 and 120e0 are different Numbers (the device chose the resolution).
  friend bool operator==(const Number&, const Number&) = default;

 private:
  constexpr Number(Kind kind, std::int32_t mantissa, std::int8_t exponent)
      : kind_(kind), exponent_(exponent), mantissa_(mantissa) {}

  Kind kind_ = Kind::nan;
  std::int8_t exponent_ = 0;
  std::int32_t mantissa_ = 0;
};

// "finite", "NaN", "NRes", "+INF", "-INF", "reserved".
std::string_view to_string(Number::Kind kind);

}  // namespace carehub::gatt
