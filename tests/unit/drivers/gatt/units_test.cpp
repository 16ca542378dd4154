#include "drivers/gatt/units.hpp"

#include <gtest/gtest.h>

namespace carehub::gatt::units {
namespace {

TEST(Units, ConvertKilopascalsToMillimetresOfMercury) {
  EXPECT_NEAR(kpa_to_mmhg(1.0), 7.500615, 1e-5);
  EXPECT_NEAR(kpa_to_mmhg(16.0), 120.01, 0.01);
  EXPECT_NEAR(kpa_to_mmhg(101.325), 760.0, 1e-3);  // one standard atmosphere
}

TEST(Units, ConvertFahrenheitToCelsius) {
  EXPECT_DOUBLE_EQ(fahrenheit_to_celsius(32.0), 0.0);
  EXPECT_DOUBLE_EQ(fahrenheit_to_celsius(212.0), 100.0);
  EXPECT_NEAR(fahrenheit_to_celsius(98.6), 37.0, 1e-9);
}

TEST(Units, ConvertPoundsAndInchesExactly) {
  EXPECT_DOUBLE_EQ(lb_to_kg(1.0), 0.45359237);
  EXPECT_NEAR(lb_to_kg(149.4), 67.7667, 1e-4);
  EXPECT_DOUBLE_EQ(inch_to_m(67.8), 67.8 * 0.0254);
}

TEST(Units, ConvertGlucoseConcentrationsToMilligramsPerDecilitre) {
  EXPECT_NEAR(glucose_kg_per_l_to_mg_per_dl(0.0012), 120.0, 1e-9);
  EXPECT_NEAR(glucose_mol_per_l_to_mg_per_dl(0.001), 18.0156, 1e-9);  // 1 mmol/L
  EXPECT_NEAR(glucose_mol_per_l_to_mg_per_dl(0.0067), 120.70, 0.01);
}

TEST(Units, ConvertKilojoulesToKilocalories) { EXPECT_NEAR(kilojoule_to_kilocalorie(4.184), 1.0, 1e-12); }

static_assert(kpa_to_mmhg(0.0) == 0.0, "usable in constant expressions");

}  // namespace
}  // namespace carehub::gatt::units
