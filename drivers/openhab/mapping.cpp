#include "drivers/openhab/mapping.hpp"

#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

#include "drivers/openhab/text.hpp"

namespace carehub::openhab {
namespace {

using nlohmann::json;

constexpr std::array kKinds{
    MappedKind{"room-temperature", "Cel", Dimension::temperature},
    MappedKind{"room-humidity", "%", Dimension::percent},
    MappedKind{"illuminance", "lx", Dimension::illuminance},
    MappedKind{"motion", "{bool}", std::nullopt},
};

std::string kind_list() {
  std::string out;
  for (const auto& k : kKinds) {
    if (!out.empty()) out += ", ";
    out += k.name;
  }
  return out;
}

template <class Rules>
const MappingRule* first_match(const Rules& rules, std::span<const std::string> keys) {
  for (const auto& r : rules) {
    for (const auto& k : keys) {
      if (r.key == k) return &r.rule;
    }
  }
  return nullptr;
}

// Reads the rules of one list ("items", "tags" or "groups"), whose entries name their key in `key_name`.
class RuleReader {
 public:
  explicit RuleReader(std::vector<Error>& errors) : errors_(errors) {}

  // Returns the rule and its key, or nullopt after recording every problem with the entry.
  std::optional<KeyedRule> read(const json& entry, const std::string& where, std::string_view key_name) {
    if (!entry.is_object()) {
      fail(where, "expected an object, found " + describe_json(entry));
      return std::nullopt;
    }
    bool ok = true;
    for (const auto& [k, v] : entry.items()) {
      if (k != key_name && k != "kind" && k != "unit") {
        fail(where + "/" + k, "unknown key (expected " + std::string(key_name) + ", kind, unit)");
        ok = false;
      }
    }
    KeyedRule out;
    out.rule.where = where;
    const auto key = entry.find(key_name);
    const std::string key_path = where + "/" + std::string(key_name);
    if (key == entry.end()) {
      fail(key_path, "missing");
      ok = false;
    } else if (!key->is_string() || key->get_ref<const std::string&>().empty()) {
      fail(key_path, "expected a non-empty string, found " + describe_json(*key));
      ok = false;
    } else {
      out.key = key->get<std::string>();
    }

    const MappedKind* kind = nullptr;
    const auto k = entry.find("kind");
    if (k == entry.end()) {
      fail(where + "/kind", "missing");
      ok = false;
    } else if (!k->is_string() || !(kind = find_mapped_kind(k->get_ref<const std::string&>()))) {
      fail(where + "/kind", "expected one of " + kind_list() + ", found " +
                                (k->is_string() ? in_quotes(k->get_ref<const std::string&>()) : describe_json(*k)));
      ok = false;
    } else {
      out.rule.kind = std::string(kind->name);
    }

    const auto u = entry.find("unit");
    if (u != entry.end()) {
      const std::string unit_path = where + "/unit";
      if (!u->is_string()) {
        fail(unit_path, "expected a string, found " + describe_json(*u));
        ok = false;
      } else if (kind) {
        const std::string& symbol = u->get_ref<const std::string&>();
        const UnitInfo* info = find_unit(symbol);
        if (!kind->dimension) {
          fail(unit_path, std::string(kind->name) + " readings have no unit");
          ok = false;
        } else if (!info) {
          fail(unit_path, "unknown unit " + in_quotes(symbol));
          ok = false;
        } else if (info->dimension != *kind->dimension) {
          fail(unit_path, in_quotes(symbol) + " measures " + std::string(to_string(info->dimension)) + ", but " +
                              std::string(kind->name) + " needs " + std::string(to_string(*kind->dimension)));
          ok = false;
        } else {
          out.rule.unit = symbol;
        }
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  void fail(const std::string& where, std::string message) { errors_.push_back(make_error(where + ": " + message)); }

 private:
  std::vector<Error>& errors_;
};

Error item_error(const ItemContext& item, const MappingRule& rule, std::string_view message) {
  return make_error("item " + in_quotes(item.name) + " as " + rule.kind + ": " + std::string(message));
}

Result<MapOutcome> motion(const ItemContext& item, const MappingRule& rule, const MappedKind& kind, const State& state) {
  double value = 0;
  if (const auto* s = std::get_if<OnOff>(&state)) {
    value = s->on ? 1 : 0;
  } else if (const auto* c = std::get_if<OpenClosed>(&state)) {
    value = c->open ? 1 : 0;
  } else if (const auto* d = std::get_if<Decimal>(&state); d && (d->value == 0 || d->value == 1)) {
    value = d->value;
  } else {
    return item_error(item, rule, "expected ON/OFF, OPEN/CLOSED or 0/1, found " + describe(state));
  }
  return MapOutcome{Reading{item.name, rule.kind, value, std::string(kind.unit)}};
}

Result<MapOutcome> measure(const ItemContext& item, const MappingRule& rule, const MappedKind& kind,
                           const State& state) {
  double value = 0;
  if (const auto* q = std::get_if<Quantity>(&state)) {
    auto converted = convert(q->value, q->unit, kind.unit);
    if (!converted) return item_error(item, rule, converted.error().message);
    value = *converted;
  } else if (const auto* d = std::get_if<Decimal>(&state)) {
    const std::string_view unit = rule.unit ? std::string_view(*rule.unit)
                                  : item.display_unit ? std::string_view(*item.display_unit)
                                                      : kind.unit;
    auto converted = convert(d->value, unit, kind.unit);
    if (!converted) return item_error(item, rule, converted.error().message);
    value = *converted;
  } else if (const auto* p = std::get_if<Percent>(&state); p && kind.dimension == Dimension::percent) {
    value = p->value;
  } else {
    return item_error(item, rule, "expected a number, found " + describe(state));
  }
  return MapOutcome{Reading{item.name, rule.kind, value, std::string(kind.unit)}};
}

Result<MapOutcome> apply(const ItemContext& item, const MappingRule& rule, const State& state) {
  if (const auto* none = std::get_if<NoValue>(&state)) return MapOutcome{*none};
  const MappedKind* kind = find_mapped_kind(rule.kind);
  if (!kind) return item_error(item, rule, "not a kind carehub maps");  // only a hand-built mapping gets here
  if (!kind->dimension) return motion(item, rule, *kind, state);
  return measure(item, rule, *kind, state);
}

}  // namespace

std::span<const MappedKind> mapped_kinds() { return kKinds; }

const MappedKind* find_mapped_kind(std::string_view name) {
  for (const auto& k : kKinds) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

const MappingRule* ItemMapping::find(std::string_view item, std::span<const std::string> item_tags,
                                     std::span<const std::string> item_groups) const {
  if (const auto it = items.find(item); it != items.end()) return &it->second;
  if (const MappingRule* r = first_match(tags, item_tags)) return r;
  return first_match(groups, item_groups);
}

Result<ItemMapping, std::vector<Error>> parse_mapping(const json& section, std::string_view path) {
  std::vector<Error> errors;
  RuleReader reader(errors);
  ItemMapping mapping;
  const std::string base(path);
  if (!section.is_object()) {
    reader.fail(base, "expected an object, found " + describe_json(section));
    return errors;
  }

  struct List {
    std::string_view name;
    std::string_view key;
  };
  for (const List list : {List{"items", "name"}, List{"tags", "tag"}, List{"groups", "group"}}) {
    const auto it = section.find(list.name);
    if (it == section.end()) continue;
    const std::string list_path = base + "/" + std::string(list.name);
    if (!it->is_array()) {
      reader.fail(list_path, "expected an array, found " + describe_json(*it));
      continue;
    }
    std::map<std::string, std::string, std::less<>> seen;  // key -> where
    for (std::size_t i = 0; i < it->size(); ++i) {
      const std::string where = list_path + "/" + std::to_string(i);
      auto rule = reader.read((*it)[i], where, list.key);
      if (!rule) continue;
      if (const auto dup = seen.find(rule->key); dup != seen.end()) {
        reader.fail(where + "/" + std::string(list.key),
                    in_quotes(rule->key) + " is already mapped at " + dup->second);
        continue;
      }
      seen.emplace(rule->key, where);
      if (list.name == "items") {
        mapping.items.emplace(rule->key, std::move(rule->rule));
      } else if (list.name == "tags") {
        mapping.tags.push_back(std::move(*rule));
      } else {
        mapping.groups.push_back(std::move(*rule));
      }
    }
  }
  if (!errors.empty()) return errors;
  return mapping;
}

ItemContext context_of(const ItemInfo& item) {
  ItemContext context;
  context.name = item.name;
  context.tags = item.tags;
  context.groups = item.groups;
  if (item.pattern) context.display_unit = pattern_unit(*item.pattern);
  return context;
}

Result<MapOutcome> map_state(const ItemMapping& mapping, const ItemContext& item, const State& state) {
  const MappingRule* rule = mapping.find(item.name, item.tags, item.groups);
  if (!rule) return MapOutcome{Unmapped{}};
  return apply(item, *rule, state);
}

Result<MapOutcome> map_event(const ItemMapping& mapping, const StateEvent& event, const ItemContext* item) {
  ItemContext bare;
  if (!item) bare.name = event.item;
  const ItemContext& context = item ? *item : bare;
  const MappingRule* rule = mapping.find(event.item, context.tags, context.groups);
  if (!rule) return MapOutcome{Unmapped{}};
  auto state = parse_state(event.state.type, event.state.value);
  if (!state) return item_error(context, *rule, state.error().message);
  // The event names the item; a stale registry entry must not rename it.
  if (context.name != event.item) {
    ItemContext renamed = context;
    renamed.name = event.item;
    return apply(renamed, *rule, *state);
  }
  return apply(context, *rule, *state);
}

}  // namespace carehub::openhab
