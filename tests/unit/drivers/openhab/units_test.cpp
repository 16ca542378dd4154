#include "drivers/openhab/units.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace carehub::openhab {
namespace {

using ::testing::DoubleNear;

double converted(double value, std::string_view from, std::string_view to) {
  auto result = convert(value, from, to);
  EXPECT_TRUE(result.has_value()) << result.error().message;
  return result ? *result : -999999;
}

TEST(ConvertingUnits, BringsTemperaturesToCelsius) {
  EXPECT_EQ(converted(21.5, "°C", "Cel"), 21.5);
  EXPECT_THAT(converted(212, "°F", "Cel"), DoubleNear(100, 1e-9));
  EXPECT_THAT(converted(32, "°F", "Cel"), DoubleNear(0, 1e-9));
  EXPECT_THAT(converted(-40, "[degF]", "Cel"), DoubleNear(-40, 1e-9));
  EXPECT_THAT(converted(273.15, "K", "Cel"), DoubleNear(0, 1e-9));
  EXPECT_THAT(converted(100, "Cel", "°F"), DoubleNear(212, 1e-9));
}

TEST(ConvertingUnits, KeepsAValueExactWhenTheUnitIsAlreadyCanonical) {
  EXPECT_EQ(converted(0.1, "°C", "Cel"), 0.1);
  EXPECT_EQ(converted(64, "%", "%"), 64);
  EXPECT_EQ(converted(1013.25, "mbar", "hPa"), 1013.25);
}

TEST(ConvertingUnits, CoversHumidityIlluminancePressureAndParticles) {
  EXPECT_EQ(converted(312, "lx", "lx"), 312);
  EXPECT_THAT(converted(1.2, "klx", "lx"), DoubleNear(1200, 1e-9));
  EXPECT_THAT(converted(101325, "Pa", "hPa"), DoubleNear(1013.25, 1e-9));
  EXPECT_THAT(converted(29.92, "inHg", "hPa"), DoubleNear(1013.2, 0.1));
  EXPECT_THAT(converted(760, "mmHg", "hPa"), DoubleNear(1013.25, 0.01));
  EXPECT_EQ(converted(12, "µg/m³", "ug/m3"), 12);
  EXPECT_EQ(converted(12, "μg/m³", "ug/m3"), 12);  // Greek mu instead of the micro sign
  EXPECT_THAT(converted(3.5e-4, "mm", "m"), DoubleNear(3.5e-7, 1e-18));
  EXPECT_THAT(converted(400, "ppm", "[ppm]"), DoubleNear(400, 1e-9));
}

TEST(ConvertingUnits, NamesAnUnknownUnit) {
  auto result = convert(5, "MB/s", "Cel");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message, "unknown unit \"MB/s\"");
  EXPECT_EQ(convert(5, "Cel", "furlong").error().message, "unknown unit \"furlong\"");
}

TEST(ConvertingUnits, RefusesToConvertBetweenDimensions) {
  auto result = convert(312, "lx", "Cel");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message, "cannot convert lx (illuminance) to Cel (temperature)");
}

TEST(ConvertingUnits, IsCaseSensitive) {
  EXPECT_FALSE(convert(1, "LX", "lx").has_value());
  EXPECT_FALSE(convert(1, "mw", "W").has_value());
}

TEST(ConvertingUnits, RefusesResultsThatAreNotFinite) {
  EXPECT_FALSE(convert(1e308, "klx", "lx").has_value());
}

TEST(ConvertingUnits, RoundTripsEveryKnownUnitThroughItsCanonicalUnit) {
  for (const auto& unit : known_units()) {
    const double there = converted(12.5, unit.symbol, unit.canonical);
    EXPECT_THAT(converted(there, unit.canonical, unit.symbol), DoubleNear(12.5, 1e-9)) << unit.symbol;
    EXPECT_EQ(canonical_unit(unit.dimension), unit.canonical) << unit.symbol;
    EXPECT_NE(find_unit(unit.canonical), nullptr) << unit.canonical;
  }
}

TEST(ConvertingUnits, HasOneCanonicalUnitPerDimension) {
  EXPECT_EQ(canonical_unit(Dimension::temperature), "Cel");
  EXPECT_EQ(canonical_unit(Dimension::percent), "%");
  EXPECT_EQ(canonical_unit(Dimension::illuminance), "lx");
  EXPECT_EQ(canonical_unit(Dimension::pressure), "hPa");
  EXPECT_EQ(to_string(Dimension::temperature), "temperature");
}

}  // namespace
}  // namespace carehub::openhab
