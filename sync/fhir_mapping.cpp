#include "sync/fhir_mapping.hpp"

#include "core/time.hpp"

namespace carehub::fhir {
namespace {

using nlohmann::json;

constexpr std::string_view kLoinc = "http://loinc.org";
constexpr std::string_view kUcum = "http://unitsofmeasure.org";

struct Code {
  std::string_view system;
  std::string_view code;
  std::string_view display;
};

struct ComponentCode {
  std::string_view component;  // carehub component name
  Code code;
  std::string_view unit_display;
};

json coding(const Code& c) { return {{"system", c.system}, {"code", c.code}, {"display", c.display}}; }

json quantity(double value, std::string_view ucum, std::string_view display) {
  return {{"value", value}, {"unit", display}, {"system", kUcum}, {"code", ucum}};
}

std::string_view unit_display(std::string_view ucum) {
  if (ucum == "mm[Hg]") return "mmHg";
  if (ucum == "/min") return "beats/minute";
  if (ucum == "Cel") return "C";
  if (ucum == "{steps}") return "steps";
  return ucum;
}

// The panel code, or the single code, per kind; extra components map to their own codes.
struct KindMapping {
  Code code;
  bool vital_sign;
  std::vector<ComponentCode> components;  // for panels (blood pressure) and extra values
};

KindMapping mapping(Kind k) {
  switch (k) {
    case Kind::blood_pressure:
      return {{kLoinc, "85354-9", "Blood pressure panel with all children optional"},
              true,
              {{"systolic", {kLoinc, "8480-6", "Systolic blood pressure"}, "mmHg"},
               {"diastolic", {kLoinc, "8462-4", "Diastolic blood pressure"}, "mmHg"},
               {"mean", {kLoinc, "8478-0", "Mean blood pressure"}, "mmHg"},
               {"pulse", {kLoinc, "8867-4", "Heart rate"}, "beats/minute"}}};
    case Kind::heart_rate: return {{kLoinc, "8867-4", "Heart rate"}, true, {}};
    case Kind::body_temperature: return {{kLoinc, "8310-5", "Body temperature"}, true, {}};
    case Kind::body_weight:
      return {{kLoinc, "29463-7", "Body weight"},
              true,
              {{"bmi", {kLoinc, "39156-5", "Body mass index (BMI) [Ratio]"}, "kg/m2"},
               {"height", {kLoinc, "8302-2", "Body height"}, "m"}}};
    case Kind::spo2:
      return {{kLoinc, "2708-6", "Oxygen saturation in Arterial blood"},
              true,
              {{"pulse", {kLoinc, "8867-4", "Heart rate"}, "beats/minute"}}};
    case Kind::glucose: return {{kLoinc, "2339-0", "Glucose [Mass/volume] in Blood"}, false, {}};
    case Kind::steps: return {{kLoinc, "55423-8", "Number of steps in unspecified time Pedometer"}, false, {}};
    case Kind::room_temperature: return {{kLocalCodeSystem, "room-temperature", "Room temperature"}, false, {}};
    case Kind::room_humidity: return {{kLocalCodeSystem, "room-humidity", "Room relative humidity"}, false, {}};
    case Kind::illuminance: return {{kLocalCodeSystem, "illuminance", "Room illuminance"}, false, {}};
    case Kind::motion: return {{kLocalCodeSystem, "motion", "Motion detected"}, false, {}};
  }
  return {};
}

}  // namespace

std::string observation_identifier(const std::string& uid) { return "urn:uuid:" + uid; }

std::string search_value(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  const auto percent = [&](unsigned char c) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  };
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\' || c == '|' || c == ',' || c == '$') percent('\\');  // FHIR search escaping, then encoded
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '.' || c == '_' || c == '~' || c == ':' || c == '/';
    if (plain) out += ch;
    else percent(c);
  }
  return out;
}

std::string identifier_query(std::string_view system, std::string_view value) {
  return "identifier=" + search_value(system) + "|" + search_value(value);
}

std::string observation_if_none_exist(const std::string& uid) {
  return identifier_query(kIdentifierSystem, observation_identifier(uid));
}

json observation(const StoredReading& stored, const References& refs) {
  const Reading& r = stored.reading;
  const auto m = mapping(r.kind);
  json obs = {
      {"resourceType", "Observation"},
      {"status", "final"},
      {"identifier", json::array({{{"system", kIdentifierSystem}, {"value", observation_identifier(stored.uid)}}})},
      {"code", {{"coding", json::array({coding(m.code)})}}},
      {"subject", {{"reference", r.patient}}},
      {"effectiveDateTime", format_rfc3339(r.time)},
      {"extension", json::array({{{"url", kGatewayExtension}, {"valueReference", {{"reference", refs.hub}}}}})},
  };
  if (m.vital_sign) {
    obs["category"] = json::array({{{"coding", json::array({{{"system",
                                                                "http://terminology.hl7.org/CodeSystem/observation-category"},
                                                               {"code", "vital-signs"},
                                                               {"display", "Vital Signs"}}})}}});
    if (r.kind == Kind::spo2) {
      // The vital-signs oxygen saturation profile wants the pulse-oximetry code beside the arterial one.
      obs["code"]["coding"].push_back(coding({kLoinc, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"}));
    }
  }
  if (!refs.sensor.empty()) obs["device"] = {{"reference", refs.sensor}};

  const auto& k = info(r.kind);
  json components = json::array();
  for (const auto& c : m.components) {
    auto it = r.values.find(std::string(c.component));
    if (it == r.values.end()) continue;
    const auto* comp = find_component(r.kind, c.component);
    components.push_back({{"code", {{"coding", json::array({coding(c.code)})}}},
                          {"valueQuantity", quantity(it->second, comp->unit, c.unit_display)}});
  }
  if (r.kind != Kind::blood_pressure) {
    // Single-valued kinds carry "value" as valueQuantity; extra values (pulse, BMI) as components.
    const auto& value_component = k.components.front();
    const double v = r.values.at(std::string(value_component.name));
    if (r.kind == Kind::motion) obs["valueBoolean"] = v >= 0.5;
    else obs["valueQuantity"] = quantity(v, value_component.unit, unit_display(value_component.unit));
  }
  if (!components.empty()) obs["component"] = std::move(components);
  return obs;
}

std::vector<ObservationEntry> observations(const StoredReading& stored, const References& refs) {
  return {{observation(stored, refs), observation_if_none_exist(stored.uid)}};
}

json sensor_device(const Device& d, std::string_view /*hub_id*/) {
  json identifiers = json::array();
  if (!d.address.empty()) identifiers.push_back({{"system", kBluetoothSystem}, {"value", d.address}});
  identifiers.push_back({{"system", "urn:carehub:device"}, {"value", d.id}});
  json dev = {{"resourceType", "Device"}, {"identifier", identifiers}, {"status", "active"}};
  if (!d.serial.empty()) dev["serialNumber"] = d.serial;
  if (!d.model.empty()) dev["modelNumber"] = d.model;
  if (!d.name.empty()) dev["deviceName"] = json::array({{{"name", d.name}, {"type", "user-friendly-name"}}});
  return dev;
}

json hub_device(const std::string& hub_id) {
  return {{"resourceType", "Device"},
          {"identifier", json::array({{{"system", kHubSystem}, {"value", hub_id}}})},
          {"status", "active"},
          {"deviceName", json::array({{{"name", "carehub " + hub_id}, {"type", "user-friendly-name"}}})}};
}

// Device ids come from peers (an MQTT topic, a reading's "device"): escaped, or "a|b&identifier=…" would
// search for something else and the conditional create could match another resource.
std::string device_if_none_exist(const Device& d, std::string_view /*hub_id*/) { return identifier_query("urn:carehub:device", d.id); }
std::string hub_if_none_exist(const std::string& hub_id) { return identifier_query(kHubSystem, hub_id); }

}  // namespace carehub::fhir
