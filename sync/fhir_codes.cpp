#include "sync/fhir_codes.hpp"

#include <array>

#include "sync/fhir_mapping.hpp"

namespace carehub::fhir::codes {
namespace {

// MDC codes: IEEE 11073-10101 context-free codes (partition × 65536 + term), as the PHD IG's examples use
// them (150020 MDC_PRESS_BLD_NONINV, 150456 MDC_PULS_OXIM_SAT_O2, 160184 MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD…).
constexpr Code kHeartRateLoinc{kLoinc, "8867-4", "Heart rate"};

// A BP cuff's pulse and a wearable's heart rate are a non-invasive pulse rate; an oximeter's has its own.
constexpr Measure kCuffPulse{kHeartRateLoinc, {}, {kMdc, "149546", "MDC_PULS_RATE_NON_INV"}, "heartrate",
                             Category::vital_signs};
constexpr Measure kOximeterPulse{kHeartRateLoinc, {}, {kMdc, "149530", "MDC_PULS_OXIM_PULS_RATE"}, "heartrate",
                                 Category::vital_signs};

constexpr std::array kBloodPressureParts{
    Part{"systolic", {kLoinc, "8480-6", "Systolic blood pressure"}, {kMdc, "150021", "MDC_PRESS_BLD_NONINV_SYS"}},
    Part{"diastolic", {kLoinc, "8462-4", "Diastolic blood pressure"}, {kMdc, "150022", "MDC_PRESS_BLD_NONINV_DIA"}},
    Part{"mean", {kLoinc, "8478-0", "Mean blood pressure"}, {kMdc, "150023", "MDC_PRESS_BLD_NONINV_MEAN"}},
};
constexpr std::array kBloodPressureDerived{Derived{"pulse", kCuffPulse, "/min", 1}};
constexpr std::array kSpo2Derived{Derived{"pulse", kOximeterPulse, "/min", 1}};
// Height goes in cm: the bodyheight profile binds its unit to cm or [in_i] (core holds metres).
constexpr std::array kWeightDerived{
    Derived{"height",
            {{kLoinc, "8302-2", "Body height"}, {}, {kMdc, "188740", "MDC_LEN_BODY_ACTUAL"}, "bodyheight",
             Category::vital_signs},
            "cm",
            100},
    Derived{"bmi",
            {{kLoinc, "39156-5", "Body mass index (BMI) [Ratio]"}, {}, {kMdc, "188752", "MDC_RATIO_MASS_BODY_LEN_SQ"}, "bmi",
             Category::vital_signs},
            "kg/m2",
            1},
};

constexpr Measure kNone{};

const KindCodes& table(Kind k) {
  static const KindCodes kBloodPressure{{{kLoinc, "85354-9", "Blood pressure panel with all children optional"},
                                         {},
                                         {kMdc, "150020", "MDC_PRESS_BLD_NONINV"},
                                         "bp",
                                         Category::vital_signs,
                                         "PhdCompoundNumericObservation"},
                                        kBloodPressureParts,
                                        kBloodPressureDerived,
                                        false};
  static const KindCodes kHeartRate{kCuffPulse, {}, {}, false};
  static const KindCodes kBodyTemperature{
      {{kLoinc, "8310-5", "Body temperature"}, {}, {kMdc, "150364", "MDC_TEMP_BODY"}, "bodytemp", Category::vital_signs},
      {},
      {},
      false};
  static const KindCodes kBodyWeight{
      {{kLoinc, "29463-7", "Body weight"}, {}, {kMdc, "188736", "MDC_MASS_BODY_ACTUAL"}, "bodyweight", Category::vital_signs},
      {},
      kWeightDerived,
      false};
  static const KindCodes kSpo2{{{kLoinc, "2708-6", "Oxygen saturation in Arterial blood"},
                                {kLoinc, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"},
                                {kMdc, "150456", "MDC_PULS_OXIM_SAT_O2"},
                                "oxygensat",
                                Category::vital_signs},
                               {},
                               kSpo2Derived,
                               false};
  // A home glucose meter measures capillary whole blood: 2339-0 ("in Blood", any method) said less.
  static const KindCodes kGlucose{{{kLoinc, "41653-7", "Glucose [Mass/volume] in Capillary blood by Glucometer"},
                                   {},
                                   {kMdc, "160184", "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD"}},
                                  {},
                                  {},
                                  false};
  // A pedometer's count over an interval it does not report: "in unspecified time".
  static const KindCodes kSteps{
      {{kLoinc, "55423-8", "Number of steps in unspecified time Pedometer"}, {}, {}, {}, Category::activity}, {}, {}, false};
  static const KindCodes kRoomTemperature{{{kLocalCodeSystem, "room-temperature", "Room temperature"}}, {}, {}, true};
  static const KindCodes kRoomHumidity{{{kLocalCodeSystem, "room-humidity", "Room relative humidity"}}, {}, {}, true};
  static const KindCodes kIlluminance{{{kLocalCodeSystem, "illuminance", "Room illuminance"}}, {}, {}, true};
  static const KindCodes kMotion{{{kLocalCodeSystem, "motion", "Motion detected"}}, {}, {}, true};
  static const KindCodes kUnknown{kNone, {}, {}, true};
  switch (k) {
    case Kind::blood_pressure: return kBloodPressure;
    case Kind::heart_rate: return kHeartRate;
    case Kind::body_temperature: return kBodyTemperature;
    case Kind::body_weight: return kBodyWeight;
    case Kind::spo2: return kSpo2;
    case Kind::glucose: return kGlucose;
    case Kind::steps: return kSteps;
    case Kind::room_temperature: return kRoomTemperature;
    case Kind::room_humidity: return kRoomHumidity;
    case Kind::illuminance: return kIlluminance;
    case Kind::motion: return kMotion;
  }
  return kUnknown;
}

}  // namespace

const KindCodes& of(Kind kind) { return table(kind); }

Code specialization(std::string_view category) {
  if (category == "blood-pressure") return {kMdc, "528391", "MDC_DEV_SPEC_PROFILE_BP"};
  if (category == "pulse-oximeter") return {kMdc, "528388", "MDC_DEV_SPEC_PROFILE_PULS_OXIM"};
  if (category == "thermometer") return {kMdc, "528392", "MDC_DEV_SPEC_PROFILE_TEMP"};
  if (category == "scale") return {kMdc, "528399", "MDC_DEV_SPEC_PROFILE_SCALE"};
  if (category == "glucose-meter") return {kMdc, "528401", "MDC_DEV_SPEC_PROFILE_GLUCOSE"};
  // A heart-rate strap or watch has no 11073 specialization of its own (MIN_ECG is an ECG recorder).
  return {kMdc, "528457", "MDC_DEV_SPEC_PROFILE_GENERIC"};
}

std::string_view unit_display(std::string_view ucum) {
  if (ucum == "mm[Hg]") return "mmHg";
  if (ucum == "/min") return "beats/minute";
  if (ucum == "Cel") return "C";
  if (ucum == "{steps}") return "steps";
  return ucum;
}

}  // namespace carehub::fhir::codes
