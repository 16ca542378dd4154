#include "drivers/gatt/number.hpp"

#include <array>
#include <charconv>
#include <cstdlib>

namespace carehub::gatt {
namespace {

// Powers of ten that a double holds exactly: one multiplication or division by them rounds correctly.
constexpr std::array<double, 23> kExactPow10 = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                                1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

}  // namespace

Number Number::from_sfloat(std::uint16_t raw) {
  const int mantissa12 = raw & 0x0FFF;
  switch (mantissa12) {
    case 0x07FF:
      return special(Kind::nan);
    case 0x0800:
      return special(Kind::nres);
    case 0x07FE:
      return special(Kind::positive_infinity);
    case 0x0802:
      return special(Kind::negative_infinity);
    case 0x0801:
      return special(Kind::reserved);
    default:
      break;
  }
  const int exponent4 = raw >> 12;
  const int mantissa = mantissa12 >= 0x0800 ? mantissa12 - 0x1000 : mantissa12;
  const int exponent = exponent4 >= 0x8 ? exponent4 - 0x10 : exponent4;
  return finite(mantissa, static_cast<std::int8_t>(exponent));
}

Number Number::from_float(std::uint32_t raw) {
  const std::int32_t mantissa24 = static_cast<std::int32_t>(raw & 0x00FFFFFFu);
  switch (mantissa24) {
    case 0x007FFFFF:
      return special(Kind::nan);
    case 0x00800000:
      return special(Kind::nres);
    case 0x007FFFFE:
      return special(Kind::positive_infinity);
    case 0x00800002:
      return special(Kind::negative_infinity);
    case 0x00800001:
      return special(Kind::reserved);
    default:
      break;
  }
  const int exponent8 = static_cast<int>(raw >> 24);
  const std::int32_t mantissa = mantissa24 >= 0x00800000 ? mantissa24 - 0x01000000 : mantissa24;
  const int exponent = exponent8 >= 0x80 ? exponent8 - 0x100 : exponent8;
  return finite(mantissa, static_cast<std::int8_t>(exponent));
}

std::optional<double> Number::value() const {
  if (kind_ != Kind::finite) {
    return std::nullopt;
  }
  const auto m = static_cast<double>(mantissa_);
  const int e = exponent_;
  if (e >= 0 && e < static_cast<int>(kExactPow10.size())) {
    return m * kExactPow10[static_cast<std::size_t>(e)];
  }
  if (e < 0 && -e < static_cast<int>(kExactPow10.size())) {
    return m / kExactPow10[static_cast<std::size_t>(-e)];
  }
  // Exponents beyond 10^22 (FLOAT only): let from_chars round "<mantissa>e<exponent>" correctly.
  // At most 8 mantissa characters, 'e', 4 exponent characters: the buffer cannot run out.
  std::array<char, 32> text{};
  char* const last = text.data() + text.size();
  const auto mantissa_end = std::to_chars(text.data(), last - 8, mantissa_).ptr;
  *mantissa_end = 'e';
  const auto end = std::to_chars(mantissa_end + 1, last, e).ptr;
  double out = 0;
  std::from_chars(text.data(), end, out);
  return out;
}

std::string Number::to_string() const {
  if (kind_ != Kind::finite) {
    return std::string(gatt::to_string(kind_));
  }
  std::string digits = std::to_string(std::abs(static_cast<long long>(mantissa_)));
  std::string out = mantissa_ < 0 ? "-" : "";
  if (mantissa_ == 0) {
    return "0";
  }
  if (exponent_ >= 0) {
    out += digits;
    out.append(static_cast<std::size_t>(exponent_), '0');
    return out;
  }
  const auto shift = static_cast<std::size_t>(-static_cast<int>(exponent_));
  if (digits.size() <= shift) {
    digits.insert(0, shift - digits.size() + 1, '0');
  }
  digits.insert(digits.size() - shift, 1, '.');
  return out + digits;
}

std::string_view to_string(Number::Kind kind) {
  switch (kind) {
    case Number::Kind::finite:
      return "finite";
    case Number::Kind::nan:
      return "NaN";
    case Number::Kind::nres:
      return "NRes";
    case Number::Kind::positive_infinity:
      return "+INF";
    case Number::Kind::negative_infinity:
      return "-INF";
    case Number::Kind::reserved:
      return "reserved";
  }
  return "reserved";
}

}  // namespace carehub::gatt
