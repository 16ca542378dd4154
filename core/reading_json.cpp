#include "core/reading_json.hpp"

#include "core/json_check.hpp"
#include "core/units.hpp"

namespace carehub {

Result<Reading> parse_reading_json(std::string_view line, TimePoint received) {
  // MQTT publishers and `measure add` clients are peers: the one safe parse (depth, numbers).
  auto doc = parse_peer_json(line, "reading");
  if (!doc) return doc.error();
  return reading_from_json(*doc, received);
}

Result<Reading> reading_from_json(const nlohmann::json& doc, TimePoint received) {
  if (!doc.is_object()) return make_error(Errc::invalid_argument, "/: expected an object, found " + describe_json(doc));
  JsonReader in;
  in.only_keys(doc, "", {"kind", "time", "device", "patient", "values", "units", "device_time", "source"});
  Reading r;
  r.received = received;
  if (auto kind = in.string(doc, "", "kind", true)) {
    if (auto k = kind_from_string(*kind)) {
      r.kind = *k;
    } else {
      std::string names;
      for (const auto& ki : all_kinds()) names += (names.empty() ? "" : ", ") + std::string(ki.name);
      in.fail("/kind", "unknown kind \"" + *kind + "\" (expected one of: " + names + ")");
    }
  }
  if (auto t = in.string(doc, "", "time", true)) {
    if (auto tp = parse_rfc3339(*t)) r.time = *tp;
    else in.fail("/time", "expected an RFC 3339 time with zone (2026-11-21T10:00:00Z), found \"" + *t + "\"");
  }
  if (auto t = in.string(doc, "", "device_time", false)) {
    if (auto tp = parse_rfc3339(*t)) r.device_time = *tp;
    else in.fail("/device_time", "expected an RFC 3339 time with zone, found \"" + *t + "\"");
  }
  if (auto d = in.string(doc, "", "device", false)) {
    if (d->empty()) in.fail("/device", "must not be empty");
    else r.device = *d;
  }
  if (auto p = in.string(doc, "", "patient", false)) r.patient = *p;
  if (auto s = in.string(doc, "", "source", false)) r.source = *s;
  const auto* units = in.object(doc, "", "units", false);
  if (const auto* values = in.object(doc, "", "values", true)) {
    if (values->empty()) in.fail("/values", "expected at least one value");
    for (const auto& [name, v] : values->items()) {
      const auto path = json_path("/values", name);
      if (!v.is_number()) {
        in.fail(path, "expected a number, found " + describe_json(v));
        continue;
      }
      double value = v.get<double>();
      if (units && units->contains(name) && in.ok()) {
        const auto& u = (*units)[name];
        const auto* c = find_component(r.kind, name);
        if (!u.is_string()) {
          in.fail(json_path("/units", name), "expected a unit string, found " + describe_json(u));
        } else if (c) {
          auto converted = to_canonical(value, u.get<std::string>(), c->unit);
          if (!converted) in.fail(json_path("/units", name), converted.error().message);
          else value = *converted;
        }
      }
      r.values[name] = value;
    }
  }
  if (units) {
    for (const auto& [name, u] : units->items()) {
      if (!doc.contains("values") || !doc["values"].is_object() || !doc["values"].contains(name)) {
        in.fail(json_path("/units", name), "names a value that is not in /values");
      }
    }
  }
  if (in.ok()) {
    for (const auto& p : problems(r)) in.fail("/" + p.field, p.message);
  }
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
  return r;
}

nlohmann::json reading_to_json(const Reading& r) {
  nlohmann::json j;
  j["kind"] = to_string(r.kind);
  j["time"] = format_rfc3339(r.time);
  j["device"] = r.device;
  if (!r.patient.empty()) j["patient"] = r.patient;
  j["values"] = nlohmann::json::object();
  for (const auto& [name, value] : r.values) j["values"][name] = value;
  if (r.device_time) j["device_time"] = format_rfc3339(*r.device_time);
  if (!r.source.empty()) j["source"] = r.source;
  return j;
}

}  // namespace carehub
