#pragma once
// Canonical-unit conversions the BLE driver applies to decoded values (design.md, "Canonical
// measurements"). Pure constexpr arithmetic; the factors are the definitions, not rounded copies.
namespace carehub::gatt::units {

// 1 mmHg = 133.322387415 Pa (conventional millimetre of mercury), so 1 kPa = 7.50061683 mmHg.
inline constexpr double kPascalPerMmHg = 133.322387415;
inline constexpr double kPoundInKg = 0.45359237;  // international avoirdupois pound, exact
inline constexpr double kInchInM = 0.0254;        // exact
// Glucose C6H12O6: molar mass 180.156 g/mol, so 1 mmol/L = 18.0156 mg/dL and 1 mol/L = 18015.6 mg/dL.
inline constexpr double kGlucoseMolarMassGPerMol = 180.156;

constexpr double kpa_to_mmhg(double kpa) { return kpa * 1000.0 / kPascalPerMmHg; }
constexpr double fahrenheit_to_celsius(double f) { return (f - 32.0) * 5.0 / 9.0; }
constexpr double lb_to_kg(double lb) { return lb * kPoundInKg; }
constexpr double inch_to_m(double in) { return in * kInchInM; }
// Mass concentration: 1 kg/L = 10^6 mg / 10 dL = 100000 mg/dL.
constexpr double glucose_kg_per_l_to_mg_per_dl(double kg_per_l) { return kg_per_l * 100000.0; }
// Molar concentration: mol/L x g/mol = g/L; x 1000 mg/g / 10 dL/L.
constexpr double glucose_mol_per_l_to_mg_per_dl(double mol_per_l) {
  return mol_per_l * kGlucoseMolarMassGPerMol * 100.0;
}
constexpr double kilojoule_to_kilocalorie(double kj) { return kj / 4.184; }

}  // namespace carehub::gatt::units
