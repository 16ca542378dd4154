#include "core/kind.hpp"

#include <array>

namespace carehub {
namespace {

// Ranges are wide on purpose: they reject impossible values (a decoding fault, a unit mix-up), never
// clinically extreme ones, which are exactly what the rules must see.
constexpr std::array kBloodPressure{
    Component{"systolic", "mm[Hg]", true, 20, 350},
    Component{"diastolic", "mm[Hg]", true, 5, 300},
    Component{"mean", "mm[Hg]", false, 5, 320},
    Component{"pulse", "/min", false, 10, 350},
};
constexpr std::array kHeartRate{Component{"value", "/min", true, 0, 350}};
constexpr std::array kBodyTemperature{Component{"value", "Cel", true, 20, 46}};
constexpr std::array kBodyWeight{
    Component{"value", "kg", true, 0.2, 650},
    Component{"bmi", "kg/m2", false, 5, 200},
    Component{"height", "m", false, 0.2, 2.8},
};
constexpr std::array kSpo2{
    Component{"value", "%", true, 0, 100},
    Component{"pulse", "/min", false, 10, 350},
};
constexpr std::array kGlucose{Component{"value", "mg/dL", true, 0, 3000}};
constexpr std::array kSteps{Component{"value", "{steps}", true, 0, 1e6}};
constexpr std::array kRoomTemperature{Component{"value", "Cel", true, -60, 90}};
constexpr std::array kRoomHumidity{Component{"value", "%", true, 0, 100}};
constexpr std::array kIlluminance{Component{"value", "lx", true, 0, 200000}};
constexpr std::array kMotion{Component{"value", "{bool}", true, 0, 1}};

constexpr std::array kKinds{
    KindInfo{Kind::blood_pressure, "blood-pressure", kBloodPressure, false},
    KindInfo{Kind::heart_rate, "heart-rate", kHeartRate, false},
    KindInfo{Kind::body_temperature, "body-temperature", kBodyTemperature, false},
    KindInfo{Kind::body_weight, "body-weight", kBodyWeight, false},
    KindInfo{Kind::spo2, "spo2", kSpo2, false},
    KindInfo{Kind::glucose, "glucose", kGlucose, false},
    KindInfo{Kind::steps, "steps", kSteps, false},
    KindInfo{Kind::room_temperature, "room-temperature", kRoomTemperature, true},
    KindInfo{Kind::room_humidity, "room-humidity", kRoomHumidity, true},
    KindInfo{Kind::illuminance, "illuminance", kIlluminance, true},
    KindInfo{Kind::motion, "motion", kMotion, true},
};

}  // namespace

const KindInfo& info(Kind kind) { return kKinds[static_cast<std::size_t>(kind)]; }
std::span<const KindInfo> all_kinds() { return kKinds; }
std::string_view to_string(Kind kind) { return info(kind).name; }

std::optional<Kind> kind_from_string(std::string_view name) {
  for (const auto& k : kKinds) {
    if (k.name == name) return k.kind;
  }
  return std::nullopt;
}

const Component* find_component(Kind kind, std::string_view name) {
  for (const auto& c : info(kind).components) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace carehub
