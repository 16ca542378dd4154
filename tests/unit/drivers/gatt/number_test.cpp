#include "drivers/gatt/number.hpp"

#include <gtest/gtest.h>

namespace carehub::gatt {
namespace {

TEST(AnSfloat, WithExponentZeroIsItsMantissa) {
  const Number n = Number::from_sfloat(0x0078);
  EXPECT_TRUE(n.is_finite());
  EXPECT_EQ(n.mantissa(), 120);
  EXPECT_EQ(n.exponent(), 0);
  EXPECT_EQ(n.value(), 120.0);
  EXPECT_EQ(n.to_string(), "120");
}

TEST(AnSfloat, WithNegativeExponentKeepsItsDecimalDigits) {
  const Number n = Number::from_sfloat(0xF36C);  // exponent -1, mantissa 876
  EXPECT_EQ(n.mantissa(), 876);
  EXPECT_EQ(n.exponent(), -1);
  EXPECT_EQ(n.to_string(), "87.6");
  EXPECT_EQ(n.value(), 87.6);  // the nearest double, exactly as the literal
}

TEST(AnSfloat, WithNegativeMantissaIsNegative) {
  EXPECT_EQ(Number::from_sfloat(0x0FFF).to_string(), "-1");
  EXPECT_EQ(Number::from_sfloat(0x0FFF).value(), -1.0);
  EXPECT_EQ(Number::from_sfloat(0xEFFB).to_string(), "-0.05");  // exponent -2, mantissa -5
  EXPECT_EQ(Number::from_sfloat(0xEFFB).value(), -0.05);
}

TEST(AnSfloat, CoversTheWholeExponentRange) {
  EXPECT_EQ(Number::from_sfloat(0x8001).to_string(), "0.00000001");  // exponent -8
  EXPECT_EQ(Number::from_sfloat(0x8001).value(), 1e-8);
  EXPECT_EQ(Number::from_sfloat(0x7001).to_string(), "10000000");  // exponent 7
  EXPECT_EQ(Number::from_sfloat(0x7001).value(), 1e7);
  EXPECT_EQ(Number::from_sfloat(0x0000).to_string(), "0");
  EXPECT_EQ(Number::from_sfloat(0xF000).value(), 0.0);
}

TEST(AnSfloat, NextToTheSpecialCodesIsAnOrdinaryNumber) {
  EXPECT_EQ(Number::from_sfloat(0x07FD).to_string(), "2045");
  EXPECT_EQ(Number::from_sfloat(0x0803).to_string(), "-2045");
}

struct SpecialCase {
  std::uint32_t raw;
  Number::Kind kind;
  const char* text;
};

class AnSfloatSpecialValue : public ::testing::TestWithParam<SpecialCase> {};

TEST_P(AnSfloatSpecialValue, IsNeverANumber) {
  const Number n = Number::from_sfloat(static_cast<std::uint16_t>(GetParam().raw));
  EXPECT_EQ(n.kind(), GetParam().kind);
  EXPECT_FALSE(n.is_finite());
  EXPECT_FALSE(n.value().has_value());
  EXPECT_EQ(n.to_string(), GetParam().text);
}

INSTANTIATE_TEST_SUITE_P(
    AllFiveCodesWithExponentZeroAndWithOtherExponents, AnSfloatSpecialValue,
    ::testing::Values(SpecialCase{0x07FF, Number::Kind::nan, "NaN"}, SpecialCase{0x0800, Number::Kind::nres, "NRes"},
                      SpecialCase{0x07FE, Number::Kind::positive_infinity, "+INF"},
                      SpecialCase{0x0802, Number::Kind::negative_infinity, "-INF"},
                      SpecialCase{0x0801, Number::Kind::reserved, "reserved"},
                      // A failed cuff that sets an exponent must not read 204.7 mmHg.
                      SpecialCase{0xF7FF, Number::Kind::nan, "NaN"}, SpecialCase{0x1800, Number::Kind::nres, "NRes"},
                      SpecialCase{0x87FE, Number::Kind::positive_infinity, "+INF"},
                      SpecialCase{0x7802, Number::Kind::negative_infinity, "-INF"},
                      SpecialCase{0xE801, Number::Kind::reserved, "reserved"}));

class AFloatSpecialValue : public ::testing::TestWithParam<SpecialCase> {};

TEST_P(AFloatSpecialValue, IsNeverANumber) {
  const Number n = Number::from_float(GetParam().raw);
  EXPECT_EQ(n.kind(), GetParam().kind);
  EXPECT_FALSE(n.value().has_value());
  EXPECT_EQ(n.to_string(), GetParam().text);
}

INSTANTIATE_TEST_SUITE_P(
    AllFiveCodesWithExponentZeroAndWithOtherExponents, AFloatSpecialValue,
    ::testing::Values(SpecialCase{0x007FFFFF, Number::Kind::nan, "NaN"},
                      SpecialCase{0x00800000, Number::Kind::nres, "NRes"},
                      SpecialCase{0x007FFFFE, Number::Kind::positive_infinity, "+INF"},
                      SpecialCase{0x00800002, Number::Kind::negative_infinity, "-INF"},
                      SpecialCase{0x00800001, Number::Kind::reserved, "reserved"},
                      SpecialCase{0xFF7FFFFF, Number::Kind::nan, "NaN"},
                      SpecialCase{0x02800000, Number::Kind::nres, "NRes"},
                      SpecialCase{0x807FFFFE, Number::Kind::positive_infinity, "+INF"},
                      SpecialCase{0x7F800002, Number::Kind::negative_infinity, "-INF"},
                      SpecialCase{0xFE800001, Number::Kind::reserved, "reserved"}));

TEST(AFloat, WithNegativeExponentKeepsItsDecimalDigits) {
  const Number n = Number::from_float(0xFF00016C);  // exponent -1, mantissa 364
  EXPECT_EQ(n.to_string(), "36.4");
  EXPECT_EQ(n.value(), 36.4);
}

TEST(AFloat, WithNegativeMantissaIsNegative) {
  EXPECT_EQ(Number::from_float(0x00FFFFFF).to_string(), "-1");
  EXPECT_EQ(Number::from_float(0x00800003).to_string(), "-8388605");
  EXPECT_EQ(Number::from_float(0x007FFFFD).to_string(), "8388605");
}

TEST(AFloat, WithExtremeExponentsStillRoundsCorrectly) {
  EXPECT_EQ(Number::from_float(0x80000001).value(), 1e-128);
  EXPECT_EQ(Number::from_float(0x7F000003).value(), 3e127);
  EXPECT_EQ(Number::from_float(0xE9000007).value(), 7e-23);  // just past the exact powers of ten
  EXPECT_EQ(Number::from_float(0xFD00007B).to_string(), "0.123");
}

TEST(ANumber, ByDefaultIsNaNSoAnUnsetFieldIsNeverAValue) {
  EXPECT_EQ(Number().kind(), Number::Kind::nan);
  EXPECT_FALSE(Number().value().has_value());
}

TEST(ANumber, ComparesByRepresentation) {
  EXPECT_EQ(Number::from_sfloat(0x0078), Number::finite(120, 0));
  EXPECT_NE(Number::finite(1200, -1), Number::finite(120, 0));
  EXPECT_EQ(Number::from_sfloat(0x07FF), Number::special(Number::Kind::nan));
}

}  // namespace
}  // namespace carehub::gatt
