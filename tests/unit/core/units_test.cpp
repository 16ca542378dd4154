#include "core/units.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace carehub {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

struct Conversion {
  std::string from;
  std::string canonical;
  double value;
  double expected;
};

// Every spelling units.cpp knows, with a value whose canonical equivalent is known independently.
const std::vector<Conversion> kConversions{
    {"mm[Hg]", "mm[Hg]", 120, 120},
    {"mmHg", "mm[Hg]", 120, 120},
    {"kPa", "mm[Hg]", 1, 7.500615758},  // 1 kPa = 1000 / 133.322387415 mm[Hg]
    {"kPa", "mm[Hg]", 16, 120.009852135},
    {"Cel", "Cel", 37.5, 37.5},
    {"°C", "Cel", 37.5, 37.5},
    {"C", "Cel", 37.5, 37.5},
    {"[degF]", "Cel", 212, 100},
    {"°F", "Cel", 32, 0},
    {"F", "Cel", -40, -40},
    {"°F", "Cel", 98.6, 37},
    {"K", "Cel", 273.15, 0},
    {"K", "Cel", 310.15, 37},
    {"kg", "kg", 72.5, 72.5},
    {"g", "kg", 1500, 1.5},
    {"[lb_av]", "kg", 1, 0.45359237},
    {"lb", "kg", 150, 68.0388555},
    {"m", "m", 1.75, 1.75},
    {"cm", "m", 180, 1.8},
    {"[in_i]", "m", 1, 0.0254},
    {"in", "m", 70, 1.778},
    {"kg/m2", "kg/m2", 24.5, 24.5},
    {"mg/dL", "mg/dL", 99, 99},
    {"mmol/L", "mg/dL", 5.5, 99.0858},  // glucose: 180.156 g/mol
    {"%", "%", 97, 97},
    {"/min", "/min", 72, 72},
    {"bpm", "/min", 72, 72},
    {"{beats}/min", "/min", 72, 72},
    {"lx", "lx", 350, 350},
    {"{steps}", "{steps}", 8000, 8000},
    {"{bool}", "{bool}", 1, 1},
};

TEST(ToCanonical, ConvertsEveryKnownSpellingIntoItsCanonicalUnit) {
  for (const auto& c : kConversions) {
    SCOPED_TRACE(c.from + " -> " + c.canonical);
    auto r = to_canonical(c.value, c.from, c.canonical);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_NEAR(*r, c.expected, 1e-9);
  }
}

TEST(ToCanonical, RoundsAwayFloatingPointNoiseFromFahrenheit) {
  // 100.4 °F is 38.00000000000001 Cel in plain double arithmetic; the clinician must see exactly 38.
  auto r = to_canonical(100.4, "°F", "Cel");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 38.0);
}

TEST(ToCanonical, RoundsAwayFloatingPointNoiseFromKelvin) {
  auto r = to_canonical(310.15, "K", "Cel");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 37.0);
}

TEST(ToCanonical, KeepsNegativeValues) {
  auto r = to_canonical(-4, "°F", "Cel");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, -20.0);
}

TEST(ToCanonical, RefusesUnitsThatMeasureDifferentThingsNamingBoth) {
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"kg", "mm[Hg]"}, {"kPa", "Cel"}, {"mmol/L", "kg"}, {"%", "/min"}, {"°F", "kg"}, {"cm", "kg"}}) {
    SCOPED_TRACE(from + " -> " + to);
    auto r = to_canonical(1, from, to);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_THAT(r.error().message, AllOf(HasSubstr('"' + from + '"'), HasSubstr('"' + to + '"')));
  }
}

TEST(ToCanonical, RefusesAnUnknownUnitNamingIt) {
  auto r = to_canonical(1, "furlong", "m");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_THAT(r.error().message, AllOf(HasSubstr("unknown unit"), HasSubstr("\"furlong\"")));
}

TEST(ToCanonical, TreatsUnitsAsCaseSensitiveLikeUcum) {
  EXPECT_FALSE(to_canonical(1, "KPA", "mm[Hg]").has_value());
  EXPECT_FALSE(to_canonical(1, "", "mm[Hg]").has_value());
}

}  // namespace
}  // namespace carehub
