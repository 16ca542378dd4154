// Readings → Observations: the reading's own, the measurements derived from it, and the coincident
// timestamp that relates a PHD's clock to the hub's. Pure; docs/fhir-mapping.md shows the output.
#include <cmath>
#include <cstdio>

#include "core/time.hpp"
#include "sync/fhir_codes.hpp"
#include "sync/fhir_mapping.hpp"

namespace carehub::fhir {
namespace {

using nlohmann::json;
namespace c = codes;

constexpr std::string_view kCoincidentExtension = "http://hl7.org/fhir/uv/phd/StructureDefinition/CoincidentTimeStampReference";
constexpr std::string_view kLocalCategorySystem = "urn:carehub:fhir:CodeSystem:observation-category";
// 2000-01-01T00:00:00Z: the PHD IG's epoch for the timestamp part of its identifier.
constexpr std::int64_t kY2kMs = 946684800000LL;

json coding(const c::Code& code) { return {{"system", code.system}, {"code", code.code}, {"display", code.display}}; }

json quantity(double value, std::string_view ucum) {
  return {{"value", value}, {"unit", c::unit_display(ucum)}, {"system", c::kUcum}, {"code", ucum}};
}

json category(std::string_view system, std::string_view code, std::string_view display) {
  return {{"coding", json::array({{{"system", system}, {"code", code}, {"display", display}}})}};
}

json identifier(std::string_view system, const std::string& value) { return {{"system", system}, {"value", value}}; }

// A scaled value exactly as a person would write it: 1.75 m × 100 is 175.00000000000003 in binary.
double scaled(double value, double factor) {
  if (factor == 1) return value;
  return std::round(value * factor * 1e6) / 1e6;
}

int severity(Flag f) { return f == Flag::critical_low || f == Flag::critical_high ? 2 : 1; }

// One interpretation: the v3 flag ordinary dashboards read, and (for a PHD profile, which requires one in
// every interpretation) the PoCD measurement status that the IG maps a threshold crossing to.
json interpretation(Flag f, bool phd) {
  static constexpr c::Code kFlags[] = {{c::kInterpretation, "L", "Low"},
                                       {c::kInterpretation, "LL", "Critical low"},
                                       {c::kInterpretation, "H", "High"},
                                       {c::kInterpretation, "HH", "Critical high"}};
  const auto& code = kFlags[static_cast<int>(f)];
  json cc = {{"coding", json::array({coding(code)})}, {"text", code.display}};
  if (phd) cc["coding"].push_back(coding({c::kMeasurementStatus, "in-alarm", "Measurement in alarm"}));
  return cc;
}

// "DEVICE-patient-type-timestamp" (PhdBaseObservation notes, "Conditional-create Identifier"): the PHD's
// system id or address in hex without separators, the patient's logical id, the MDC type, and the PHD's
// own timestamp in seconds since 2000 (never the hub's corrected time, so every gateway builds the same).
std::string phd_identifier(const Device& d, const Reading& r, std::string_view mdc) {
  std::string device = dashed_hex(valid_system_id(d.system_id) ? d.system_id : d.address);
  std::erase(device, '-');
  const auto slash = r.patient.rfind('/');
  const std::string patient = slash == std::string::npos ? r.patient : r.patient.substr(slash + 1);
  const std::int64_t ms = to_epoch_ms(*r.device_time) - kY2kMs;
  char ts[48];
  if (ms % 1000 == 0) std::snprintf(ts, sizeof ts, "%lld", static_cast<long long>(ms / 1000));
  else std::snprintf(ts, sizeof ts, "%lld.%03lld", static_cast<long long>(ms / 1000), static_cast<long long>(std::llabs(ms % 1000)));
  return device + "-" + patient + "-" + std::string(mdc) + "-" + ts;
}

struct Context {
  const StoredReading& stored;
  const References& refs;
  bool phd;            // a PHD measured it: PHD profiles, category, identifier
  bool environment;    // a home sensor
  json coincident_id;  // the coincident-timestamp Observation's identifier, or null
};

// Only when the hub kept the device's time: a clock it did not believe says nothing that identifies.
bool has_phd_identifier(const Context& ctx, const c::Measure& m) {
  const Reading& r = ctx.stored.reading;
  return ctx.phd && r.device_time && *r.device_time == r.time && !m.mdc.empty();
}

// Everything but the value: identity, profiles, categories, code, subject, time, device, gateway.
json skeleton(const Context& ctx, const c::Measure& m, const std::string& uid) {
  const Reading& r = ctx.stored.reading;
  // The urn:uuid first: it is what the resource is created on and what derived Observations cite.
  json ids = json::array({identifier(kIdentifierSystem, observation_identifier(uid))});
  if (has_phd_identifier(ctx, m)) ids.push_back(identifier(kPhdIdentifierSystem, phd_identifier(*ctx.refs.device, r, m.mdc.code)));

  json code = json::array({coding(m.loinc)});
  if (!m.loinc_extra.empty()) code.push_back(coding(m.loinc_extra));
  if (ctx.phd && !m.mdc.empty()) code.push_back(coding(m.mdc));

  json obs = {{"resourceType", "Observation"},
              {"identifier", std::move(ids)},
              {"status", "final"},
              {"code", {{"coding", std::move(code)}}},
              {"subject", {{"reference", r.patient}}}};

  json profiles = json::array();
  if (ctx.phd) profiles.push_back(std::string(c::kPhdProfiles) + std::string(m.phd_profile));
  if (!m.vitals_profile.empty()) profiles.push_back(std::string(c::kCoreProfiles) + std::string(m.vitals_profile));
  if (!profiles.empty()) obs["meta"] = {{"profile", std::move(profiles)}};

  json categories = json::array();
  if (ctx.environment) {
    categories.push_back(category(kLocalCategorySystem, "home-environment", "Home environment"));
  } else {
    if (m.category == c::Category::vital_signs) categories.push_back(category(c::kObservationCategory, "vital-signs", "Vital Signs"));
    if (m.category == c::Category::activity) categories.push_back(category(c::kObservationCategory, "activity", "Activity"));
    if (ctx.phd) categories.push_back(category(c::kPhdCategory, "phd", "PHD generated Observation"));
  }
  if (!categories.empty()) obs["category"] = std::move(categories);

  // A step count covers an interval the pedometer does not report; it ends when the count was taken.
  if (r.kind == Kind::steps) obs["effectivePeriod"] = {{"end", format_rfc3339(r.time)}};
  else obs["effectiveDateTime"] = format_rfc3339(r.time);

  if (!ctx.refs.sensor.empty()) obs["device"] = {{"reference", ctx.refs.sensor}};
  json extensions = json::array({{{"url", kGatewayExtension}, {"valueReference", {{"reference", ctx.refs.hub}}}}});
  if (!ctx.coincident_id.is_null()) {
    extensions.push_back({{"url", kCoincidentExtension}, {"valueReference", {{"identifier", ctx.coincident_id}}}});
  }
  obs["extension"] = std::move(extensions);
  return obs;
}

std::optional<Flag> flag_of(const References& refs, std::string_view component) {
  const auto it = refs.flags.find(std::string(component));
  if (it == refs.flags.end()) return std::nullopt;
  return it->second;
}

json own_observation(const Context& ctx) {
  const Reading& r = ctx.stored.reading;
  const auto& k = c::of(r.kind);
  json obs = skeleton(ctx, k.measure, ctx.stored.uid);
  std::optional<Flag> worst;
  if (!k.parts.empty()) {
    json components = json::array();
    for (const auto& part : k.parts) {
      const auto it = r.values.find(std::string(part.component));
      if (it == r.values.end()) continue;
      json code = json::array({coding(part.loinc)});
      if (ctx.phd) code.push_back(coding(part.mdc));
      json comp = {{"code", {{"coding", std::move(code)}}}, {"valueQuantity", quantity(it->second, "mm[Hg]")}};
      if (const auto f = flag_of(ctx.refs, part.component)) {
        comp["interpretation"] = json::array({interpretation(*f, ctx.phd)});
        if (!worst || severity(*f) > severity(*worst)) worst = f;
      }
      components.push_back(std::move(comp));
    }
    obs["component"] = std::move(components);
  } else {
    const auto& value = info(r.kind).components.front();
    const auto it = r.values.find(std::string(value.name));
    if (it == r.values.end()) {
      // Stored readings are validated, so this is a defect upstream: say so in the resource, never throw.
      obs["dataAbsentReason"] = {{"coding", json::array({{{"system", "http://terminology.hl7.org/CodeSystem/data-absent-reason"},
                                                           {"code", "error"},
                                                           {"display", "Error"}}})}};
    } else if (r.kind == Kind::motion) {
      obs["valueBoolean"] = it->second >= 0.5;
    } else {
      obs["valueQuantity"] = quantity(it->second, value.unit);
    }
    worst = flag_of(ctx.refs, value.name);
  }
  if (worst) obs["interpretation"] = json::array({interpretation(*worst, ctx.phd)});
  return obs;
}

std::string derived_uid(const std::string& parent_uid, std::string_view component) {
  return name_uuid("carehub-derived-v1\n" + parent_uid + "\n" + std::string(component));
}

// The query the entry is created on: its urn:uuid, never the PHD IG's identifier. That one has no values in
// it, and the BLE driver keeps two records of one device second that differ in their values (record_guard):
// created on the IG's identifier, the second would match the first and be marked synced, yet never stored.
// The reading uid names device, time and values, and is the same on every hub for a BLE device, so two
// carehub gateways relaying one PHD still make one Observation.
std::string if_none_exist(const json& obs) {
  const auto& id = obs["identifier"][0];
  return identifier_query(id["system"].get<std::string>(), id["value"].get<std::string>());
}

json coincident_timestamp(const Context& ctx) {
  const Reading& r = ctx.stored.reading;
  return {{"resourceType", "Observation"},
          {"meta", {{"profile", json::array({std::string(c::kPhdProfiles) + "PhdCoincidentTimeStampObservation"})}}},
          {"identifier", json::array({ctx.coincident_id})},
          {"status", "final"},
          {"code", {{"coding", json::array({coding({c::kMdc, "67975", "MDC_ATTR_TIME_ABS"})})}}},
          {"subject", {{"reference", ctx.refs.sensor}}},
          // At the hub's time `effective` the device's clock read `value`: how effective[x] was made.
          {"effectiveDateTime", format_rfc3339(r.time)},
          {"valueDateTime", format_rfc3339(*r.device_time)},
          {"device", {{"reference", ctx.refs.hub}}}};
}

Context context(const StoredReading& stored, const References& refs) {
  const bool environment = c::of(stored.reading.kind).environment;
  const bool phd = !environment && refs.device != nullptr && !refs.sensor.empty() && phd_device(*refs.device);
  json coincident;
  if (phd && stored.reading.device_time) {
    // Per gateway: the hub's Device id is in the key, so two hubs relating one PHD's clock never collide.
    coincident = identifier(kIdentifierSystem,
                            observation_identifier(name_uuid("carehub-coincident-v1\n" + refs.hub + "\n" + stored.uid)));
  }
  return {stored, refs, phd, environment, std::move(coincident)};
}

}  // namespace

json observation(const StoredReading& stored, const References& refs) { return own_observation(context(stored, refs)); }

std::vector<ObservationEntry> observations(const StoredReading& stored, const References& refs) {
  const auto ctx = context(stored, refs);
  std::vector<ObservationEntry> out;
  json own = own_observation(ctx);
  const json parent = own["identifier"][0];
  out.push_back({own, if_none_exist(own)});
  for (const auto& d : c::of(stored.reading.kind).derived) {
    const auto it = stored.reading.values.find(std::string(d.component));
    if (it == stored.reading.values.end()) continue;
    json obs = skeleton(ctx, d.measure, derived_uid(stored.uid, d.component));
    obs["valueQuantity"] = quantity(scaled(it->second, d.factor), d.ucum);
    if (const auto f = flag_of(refs, d.component)) obs["interpretation"] = json::array({interpretation(*f, ctx.phd)});
    // Batch entries cannot reference each other: the weight is cited by its identifier (a logical reference).
    obs["derivedFrom"] = json::array({{{"identifier", parent}}});
    auto query = if_none_exist(obs);
    out.push_back({std::move(obs), std::move(query)});
  }
  if (!ctx.coincident_id.is_null()) {
    json coin = coincident_timestamp(ctx);
    auto query = if_none_exist(coin);
    out.push_back({std::move(coin), std::move(query)});
  }
  return out;
}

}  // namespace carehub::fhir
