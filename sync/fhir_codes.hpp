#pragma once
// The terminology of the FHIR mapping in one table: per kind, the LOINC and IEEE 11073-10101 (MDC) codes,
// the profiles the resource claims, its categories, and the measurements a reading carries besides its own
// value that become Observations of their own (a scale's height and BMI, a cuff's or oximeter's pulse).
// Internal to sync/: the public contract is sync/fhir_mapping.hpp.
#include <span>
#include <string_view>

#include "core/kind.hpp"

namespace carehub::fhir::codes {

inline constexpr std::string_view kLoinc = "http://loinc.org";
inline constexpr std::string_view kUcum = "http://unitsofmeasure.org";
inline constexpr std::string_view kMdc = "urn:iso:std:iso:11073:10101";
inline constexpr std::string_view kObservationCategory = "http://terminology.hl7.org/CodeSystem/observation-category";
inline constexpr std::string_view kPhdCategory = "http://hl7.org/fhir/uv/phd/CodeSystem/PhdObservationCategories";
inline constexpr std::string_view kInterpretation = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
// PoCD measurement status: the PHD IG requires one such coding in every interpretation it profiles.
inline constexpr std::string_view kMeasurementStatus = "http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status";
inline constexpr std::string_view kPhdProfiles = "http://hl7.org/fhir/uv/phd/StructureDefinition/";
inline constexpr std::string_view kCoreProfiles = "http://hl7.org/fhir/StructureDefinition/";

struct Code {
  std::string_view system{};
  std::string_view code{};
  std::string_view display{};
  bool empty() const { return code.empty(); }
};

enum class Category { vital_signs, activity, none };

// What one Observation is: its codes, the vital-signs profile that applies by its LOINC code (R4 applies it
// even undeclared), its category, and the PHD profile it claims when a PHD measured it.
struct Measure {
  Code loinc{};
  Code loinc_extra{};  // SpO2: the pulse-oximetry code beside the arterial one (oxygensat profile)
  Code mdc{};          // empty: no MDC code (steps: none published for a step count)
  std::string_view vitals_profile{};  // "bp", "heartrate", ...; empty when not a vital sign
  Category category = Category::none;
  std::string_view phd_profile = "PhdNumericObservation";
};

// A blood pressure panel's parts (PhdCompoundNumericObservation components).
struct Part {
  std::string_view component;  // "systolic"
  Code loinc;
  Code mdc;
};

// A further measurement carried in the same reading, sent as an Observation derived from the reading's.
struct Derived {
  std::string_view component;  // "pulse", "height", "bmi"
  Measure measure;
  std::string_view ucum;  // the unit sent (height: cm, as the bodyheight profile requires; core holds m)
  double factor;          // canonical value × factor = the value sent
};

struct KindCodes {
  Measure measure;
  std::span<const Part> parts;
  std::span<const Derived> derived;
  bool environment;  // a home sensor, not the patient: no PHD metric, kept out of clinical views
};

const KindCodes& of(Kind kind);

// The Device.specialization (MDC_DEV_SPEC_PROFILE_*) for a BLE device category; GENERIC when unknown.
Code specialization(std::string_view device_category);

// UCUM unit → the human-readable `unit` shown beside it.
std::string_view unit_display(std::string_view ucum);

}  // namespace carehub::fhir::codes
