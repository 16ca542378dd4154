#include "rules/rule_set.hpp"

#include <charconv>
#include <cstdio>
#include <set>

#include "core/json_check.hpp"

namespace carehub::rules {
namespace {

constexpr std::pair<Band, std::string_view> kBandNames[] = {
    {Band::extreme_low, "extreme_low"}, {Band::low, "low"},   {Band::optimal, "optimal"},
    {Band::high, "high"},               {Band::extreme_high, "extreme_high"},
};
constexpr std::pair<Outcome, std::string_view> kOutcomeNames[] = {
    {Outcome::none, "none"}, {Outcome::info, "info"}, {Outcome::amber, "amber"}, {Outcome::red, "red"},
    {Outcome::confirm, "confirm"},
};

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::optional<Outcome> outcome_from(std::string_view s) {
  for (const auto& [o, name] : kOutcomeNames) {
    if (name == s) return o;
  }
  return std::nullopt;
}

// Reads a duration member ("10min") into `out`; `allow_never` accepts "never" (returns nullopt value).
void duration(JsonReader& in, const nlohmann::json& obj, std::string_view path, std::string_view key, Millis& out) {
  if (auto v = in.string(obj, path, key, false)) {
    auto d = parse_duration(*v);
    if (!d || d->count() <= 0) {
      in.fail(json_path(path, key), "expected a positive duration like \"10min\", \"30s\", \"3d\", found \"" + *v + "\"");
    } else {
      out = *d;
    }
  }
}

void optional_duration(JsonReader& in, const nlohmann::json& obj, std::string_view path, std::string_view key,
                       std::optional<Millis>& out) {
  if (auto v = in.string(obj, path, key, false)) {
    if (*v == "never") {
      out.reset();
      return;
    }
    auto d = parse_duration(*v);
    if (!d || d->count() <= 0) {
      in.fail(json_path(path, key), "expected a positive duration like \"30min\" or \"never\", found \"" + *v + "\"");
    } else {
      out = *d;
    }
  }
}

void no_repeat_policy(JsonReader& in, const nlohmann::json& obj, std::string_view path, Outcome& out) {
  if (auto v = in.string(obj, path, "on_no_repeat", false)) {
    auto o = outcome_from(*v);
    if (!o || *o == Outcome::confirm) {
      in.fail(json_path(path, "on_no_repeat"), "expected one of: none, info, amber, red, found \"" + *v + "\"");
    } else {
      out = *o;
    }
  }
}

// The timing keys are the same in /defaults and in each rule (a rule's own value wins).
void timing(JsonReader& in, const nlohmann::json& obj, std::string_view path, Timing& t) {
  duration(in, obj, path, "repeat_deadline", t.repeat_deadline);
  duration(in, obj, path, "confirm_window", t.confirm_window);
  no_repeat_policy(in, obj, path, t.on_no_repeat);
  duration(in, obj, path, "reminder_every", t.reminder_every);
  optional_duration(in, obj, path, "escalate_after", t.escalate_after);
  if (t.confirm_window > t.repeat_deadline) {
    in.fail(json_path(path, "confirm_window"), "must not be longer than repeat_deadline (" +
                                                   format_duration(t.repeat_deadline) + ")");
  }
}

void read_bands(JsonReader& in, const nlohmann::json& bands, const std::string& path, Kind kind, Rule& rule) {
  if (bands.empty()) in.fail(path, "expected limits for at least one component");
  for (const auto& [name, limits] : bands.items()) {
    const auto cpath = json_path(path, name);
    if (!find_component(kind, name)) {
      std::string known;
      for (const auto& c : info(kind).components) known += (known.empty() ? "" : ", ") + std::string(c.name);
      in.fail(cpath, std::string(to_string(kind)) + " has no component \"" + name + "\" (it has: " + known + ")");
      continue;
    }
    if (!limits.is_object()) {
      in.fail(cpath, "expected an object, found " + describe_json(limits));
      continue;
    }
    in.only_keys(limits, cpath, {"extreme_low", "optimal_low", "optimal_high", "extreme_high", "threshold"});
    ComponentBands b;
    b.component = name;
    constexpr double kBig = 1e9;
    b.extreme_low = in.number(limits, cpath, "extreme_low", false, -kBig, kBig);
    b.optimal_low = in.number(limits, cpath, "optimal_low", false, -kBig, kBig);
    b.optimal_high = in.number(limits, cpath, "optimal_high", false, -kBig, kBig);
    b.extreme_high = in.number(limits, cpath, "extreme_high", false, -kBig, kBig);
    if (auto t = in.number(limits, cpath, "threshold", false, 0, kBig)) b.threshold = *t;
    if (!b.extreme_low && !b.optimal_low && !b.optimal_high && !b.extreme_high) {
      in.fail(cpath, "expected at least one of extreme_low, optimal_low, optimal_high, extreme_high");
    }
    // Limits must rise in this order; each pair present is checked.
    const std::pair<std::string_view, std::optional<double>> order[] = {
        {"extreme_low", b.extreme_low}, {"optimal_low", b.optimal_low},
        {"optimal_high", b.optimal_high}, {"extreme_high", b.extreme_high}};
    for (std::size_t i = 0; i < 4; ++i) {
      for (std::size_t j = i + 1; j < 4; ++j) {
        if (!order[i].second || !order[j].second) continue;
        const bool ok = (order[i].first == "optimal_low" && order[j].first == "optimal_high")
                            ? *order[i].second <= *order[j].second
                            : *order[i].second < *order[j].second;
        if (!ok) {
          in.fail(json_path(cpath, order[j].first), "must be above " + std::string(order[i].first) + " (" +
                                                        number_text(*order[i].second) + "), found " +
                                                        number_text(*order[j].second));
        }
      }
    }
    rule.bands.push_back(std::move(b));
  }
}

Rule read_rule(JsonReader& in, const nlohmann::json& r, const std::string& path, const Timing& defaults) {
  Rule rule;
  rule.path = path;
  rule.timing = defaults;
  in.only_keys(r, path, {"id", "type", "category", "patient", "text", "kind", "device", "bands", "outcomes",
                         "repeat_deadline", "confirm_window", "on_no_repeat", "reminder_every", "escalate_after",
                         "after", "component", "change", "within", "severity"});
  if (auto v = in.string(r, path, "id", true)) {
    if (v->empty()) in.fail(json_path(path, "id"), "must not be empty");
    rule.id = *v;
  }
  std::string type = "bands";
  if (auto v = in.string(r, path, "type", true)) type = *v;
  if (auto v = in.string(r, path, "category", false)) rule.category = *v;
  if (auto v = in.string(r, path, "text", false)) rule.text = *v;
  if (auto v = in.string(r, path, "patient", false)) {
    if (!v->starts_with("Patient/") || v->size() == 8) {
      in.fail(json_path(path, "patient"), "expected a FHIR reference like \"Patient/123\", found \"" + *v + "\"");
    }
    rule.patient = *v;
  }
  if (auto v = in.string(r, path, "kind", false)) {
    rule.kind = kind_from_string(*v);
    if (!rule.kind) in.fail(json_path(path, "kind"), "unknown measurement kind \"" + *v + "\"");
  }
  if (auto v = in.string(r, path, "device", false)) rule.device = *v;
  timing(in, r, path, rule.timing);
  if (auto v = in.string(r, path, "severity", false)) {
    auto s = severity_from_string(*v);
    if (!s) in.fail(json_path(path, "severity"), "expected one of: info, amber, red, found \"" + *v + "\"");
    else rule.severity = *s;
  }
  const bool known_kind = rule.kind.has_value();

  auto forbid = [&](std::initializer_list<std::string_view> keys) {
    for (auto k : keys) {
      if (r.contains(k)) in.fail(json_path(path, k), "does not apply to a rule of type \"" + type + "\"");
    }
  };
  if (type == "bands" || type == "confirm-by-repeat") {
    rule.type = RuleType::bands;
    forbid({"device", "after", "component", "change", "within", "severity"});
    if (!r.contains("kind")) in.fail(json_path(path, "kind"), "is required for a rule of type \"" + type + "\"");
    // confirm-by-repeat is bands whose extreme readings must be confirmed by a repeat (HF5).
    const Outcome extreme = type == "confirm-by-repeat" ? Outcome::confirm : Outcome::amber;
    rule.outcomes = {{Band::extreme_low, extreme}, {Band::low, Outcome::none}, {Band::optimal, Outcome::none},
                     {Band::high, Outcome::none}, {Band::extreme_high, extreme}};
    if (const auto* bands = in.object(r, path, "bands", true); bands && known_kind) {
      read_bands(in, *bands, json_path(path, "bands"), *rule.kind, rule);
    }
    if (const auto* outcomes = in.object(r, path, "outcomes", false)) {
      const auto opath = json_path(path, "outcomes");
      for (const auto& [band, outcome] : outcomes->items()) {
        std::optional<Band> b;
        for (const auto& [v, name] : kBandNames) {
          if (name == band) b = v;
        }
        if (!b) {
          in.fail(json_path(opath, band), "unknown band (expected extreme_low, low, optimal, high, extreme_high)");
          continue;
        }
        auto o = outcome.is_string() ? outcome_from(outcome.get<std::string>()) : std::nullopt;
        if (!o) {
          in.fail(json_path(opath, band), "expected one of: none, info, amber, red, confirm, found " + describe_json(outcome));
          continue;
        }
        rule.outcomes[*b] = *o;
      }
    }
  } else if (type == "inactivity") {
    rule.type = RuleType::inactivity;
    forbid({"bands", "outcomes", "component", "change", "within"});
    if (!rule.kind && !rule.device) in.fail(path, "an inactivity rule needs \"kind\" or \"device\" to watch");
    duration(in, r, path, "after", rule.timing.inactive_after);
  } else if (type == "trend") {
    rule.type = RuleType::trend;
    forbid({"bands", "outcomes", "device", "after"});
    if (!r.contains("kind")) in.fail(json_path(path, "kind"), "is required for a rule of type \"trend\"");
    if (auto v = in.string(r, path, "component", false)) rule.component = *v;
    if (known_kind && !find_component(*rule.kind, rule.component)) {
      in.fail(json_path(path, "component"),
              std::string(to_string(*rule.kind)) + " has no component \"" + rule.component + "\"");
    }
    if (auto v = in.number(r, path, "change", true, -1e6, 1e6)) {
      if (*v == 0) in.fail(json_path(path, "change"), "must not be 0 (+2 is a rise of 2, -2 a fall of 2)");
      rule.change = *v;
    }
    if (!r.contains("within")) in.fail(json_path(path, "within"), "is required for a rule of type \"trend\"");
    duration(in, r, path, "within", rule.within);
    if (!r.contains("severity")) rule.severity = Severity::amber;
  } else {
    in.fail(json_path(path, "type"),
            "expected one of: bands, confirm-by-repeat, inactivity, trend, found \"" + type + "\"");
  }
  return rule;
}

}  // namespace

Band band_of(const ComponentBands& b, double v) {
  if (b.extreme_high && v >= *b.extreme_high) return Band::extreme_high;
  if (b.extreme_low && v <= *b.extreme_low) return Band::extreme_low;
  if (b.optimal_high && v > *b.optimal_high) return Band::high;
  if (b.optimal_low && v < *b.optimal_low) return Band::low;
  return Band::optimal;
}

int band_rank(Band b) {
  switch (b) {
    case Band::extreme_low:
    case Band::extreme_high: return 2;
    case Band::low:
    case Band::high: return 1;
    case Band::optimal: return 0;
  }
  return 0;
}

std::map<std::string, Band> component_bands(const RuleSet& rules, const Reading& r) {
  std::map<std::string, Band> out;
  for (const Rule* rule : rules.for_patient(r.patient)) {
    if (rule->type != RuleType::bands || rule->kind != r.kind) continue;
    for (const auto& b : rule->bands) {
      const auto it = r.values.find(b.component);
      if (it == r.values.end()) continue;
      const Band band = band_of(b, it->second);
      if (band == Band::optimal) continue;
      auto [slot, fresh] = out.try_emplace(b.component, band);
      if (!fresh && band_rank(band) > band_rank(slot->second)) slot->second = band;
    }
  }
  return out;
}

std::string_view to_string(Band b) {
  for (const auto& [v, name] : kBandNames) {
    if (v == b) return name;
  }
  return "optimal";
}

std::string_view to_string(Outcome o) {
  for (const auto& [v, name] : kOutcomeNames) {
    if (v == o) return name;
  }
  return "none";
}

Outcome Rule::outcome(Band b) const {
  auto it = outcomes.find(b);
  return it == outcomes.end() ? Outcome::none : it->second;
}

std::vector<const Rule*> RuleSet::for_patient(const std::string& patient) const {
  std::vector<const Rule*> out;
  for (const auto& r : rules) {
    if (r.patient) {
      if (*r.patient == patient) out.push_back(&r);
      continue;
    }
    bool replaced = false;
    for (const auto& other : rules) replaced = replaced || (other.patient == patient && other.id == r.id);
    if (!replaced) out.push_back(&r);
  }
  return out;
}

const Rule* RuleSet::find(const std::string& id, const std::string& patient) const {
  const Rule* pilot = nullptr;
  for (const auto& r : rules) {
    if (r.id != id) continue;
    if (r.patient == patient) return &r;
    if (!r.patient) pilot = &r;
  }
  return pilot;
}

bool RuleSet::notifies(const std::string& category) const {
  auto it = notify.find(category);
  return it == notify.end() || it->second;
}

std::optional<Millis> parse_duration(std::string_view text) {
  std::int64_t n = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc() || p == text.data() || n < 0) return std::nullopt;
  std::string_view unit(p, static_cast<std::size_t>(end - p));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  std::int64_t scale = 0;
  if (unit == "ms") scale = 1;
  else if (unit == "s") scale = 1000;
  else if (unit == "min" || unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  else if (unit == "d") scale = 86'400'000;
  else return std::nullopt;
  if (n > INT64_MAX / scale) return std::nullopt;
  return Millis(n * scale);
}

std::string format_duration(Millis d) {
  const auto ms = d.count();
  if (ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "min";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

Result<RuleSet> parse_rules(std::string_view text, const std::string& source) {
  auto parsed = parse_json_document(text, source);
  if (!parsed) return parsed.error();
  const nlohmann::json& doc = *parsed;
  JsonReader in;
  RuleSet set;
  set.source = source;
  if (!doc.is_object()) {
    in.fail("", "expected an object, found " + describe_json(doc));
    return make_error(Errc::invalid_argument, in.joined(source));
  }
  in.only_keys(doc, "", {"defaults", "categories", "rules"});
  if (const auto* d = in.object(doc, "", "defaults", false)) {
    in.only_keys(*d, "/defaults", {"repeat_deadline", "confirm_window", "on_no_repeat", "reminder_every",
                                   "escalate_after", "inactive_after"});
    timing(in, *d, "/defaults", set.defaults);
    duration(in, *d, "/defaults", "inactive_after", set.defaults.inactive_after);
  }
  if (const auto* cats = in.object(doc, "", "categories", false)) {
    for (const auto& [name, c] : cats->items()) {
      const auto cpath = json_path("/categories", name);
      if (!c.is_object()) {
        in.fail(cpath, "expected an object, found " + describe_json(c));
        continue;
      }
      in.only_keys(c, cpath, {"notify"});
      if (auto v = in.boolean(c, cpath, "notify", true)) set.notify[name] = *v;
    }
  }
  if (const auto* list = in.array(doc, "", "rules", true)) {
    std::set<std::pair<std::string, std::string>> seen;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto path = json_path("/rules", i);
      const auto& r = (*list)[i];
      if (!r.is_object()) {
        in.fail(path, "expected an object, found " + describe_json(r));
        continue;
      }
      auto rule = read_rule(in, r, path, set.defaults);
      if (!rule.id.empty() && !seen.emplace(rule.id, rule.patient.value_or("")).second) {
        in.fail(json_path(path, "id"), "\"" + rule.id + "\" is used twice" +
                                           (rule.patient ? " for " + *rule.patient : std::string(" (pilot-wide)")));
      }
      if (!rule.category.empty() && !set.notify.contains(rule.category)) set.notify[rule.category] = true;
      set.rules.push_back(std::move(rule));
    }
  }
  if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(source));
  return set;
}

Result<RuleSet> load_rules(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  return parse_rules(*text, path);
}

}  // namespace carehub::rules
