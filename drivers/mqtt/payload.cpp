#include "drivers/mqtt/payload.hpp"

#include <algorithm>

#include "core/reading_json.hpp"
#include "core/units.hpp"
#include "drivers/openhab/state.hpp"
#include "drivers/openhab/text.hpp"

namespace carehub::mqtt {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

Reading single(Kind kind, std::string device, double value, TimePoint received) {
  Reading r;
  r.kind = kind;
  r.device = std::move(device);
  r.time = received;
  r.received = received;
  r.source = "mqtt";
  r.values["value"] = value;
  return r;
}

// What went wrong, in words that never quote a value: each needle found in a detailed message maps to a
// fixed phrase. The detailed messages (core's JSON checks, reading validation) quote the offending value,
// which is patient data.
struct Phrase {
  std::string_view needle;
  std::string_view phrase;
};
constexpr Phrase kPhrases[] = {
    {"outside the plausible range", "outside the plausible range"},
    {"is required", "missing"},
    {"required, but missing", "missing"},
    {"unknown component", "unknown component"},
    {"unknown kind", "unknown kind"},
    {"unknown key", "unknown key"},
    {"RFC 3339", "expected an RFC 3339 time with zone"},
    {"before 2000", "before 2000 (a device clock never set?)"},
    {"expected a number", "expected a number"},
    {"expected a unit string", "expected a unit string"},
    {"expected a string", "expected a string"},
    {"expected an object", "expected an object"},
    {"unknown unit", "unknown unit"},
    {"cannot be converted", "unit cannot be converted"},
    {"not in /values", "names a value that is not in /values"},
    {"must not be empty", "must not be empty"},
    {"at least one value", "expected at least one value"},
    {"nesting deeper", "nested too deep"},
    {"beyond the range of a double", "a number beyond the range of a double"},
    {"more than the limit", "too large"},
    {"too large", "too large"},
    {"not valid JSON", "not valid JSON"},
};

std::string_view phrase_for(std::string_view detail) {
  for (const auto& p : kPhrases) {
    if (detail.find(p.needle) != std::string_view::npos) return p.phrase;
  }
  return "invalid";
}

// "/values/value: value = 812.4 kg is outside…\n/time: …" -> "/values/value: outside the plausible range;
// /time: …": each line keeps its JSON path (names chosen by the schema or the publisher's keys, not values).
std::string value_free(std::string_view detail) {
  constexpr std::size_t kMaxPath = 100;
  std::string out;
  while (!detail.empty()) {
    const auto nl = detail.find('\n');
    const auto line = detail.substr(0, nl);
    detail = nl == std::string_view::npos ? std::string_view{} : detail.substr(nl + 1);
    std::string part;
    if (!line.empty() && line.front() == '/') {
      const auto colon = line.find(": ");
      part = std::string(line.substr(0, std::min(colon, kMaxPath))) + ": ";
    }
    part += phrase_for(line);
    if (out.find(part) == std::string::npos) out += (out.empty() ? "" : "; ") + part;
  }
  return out.empty() ? "invalid" : out;
}

// A reading built here (number, openHAB state): its problems, each named by field without the value.
carehub::Result<std::optional<Reading>> checked(Reading r, const std::string& what, std::string* detail) {
  const auto found = problems(r);
  if (found.empty()) return std::optional<Reading>(std::move(r));
  std::string summary;
  for (const auto& p : found) {
    const std::string part = "/" + p.field + ": " + std::string(phrase_for(p.message));
    if (summary.find(part) == std::string::npos) summary += (summary.empty() ? "" : "; ") + part;
  }
  if (detail) *detail = validate(r).error().message;
  return carehub::make_error(Errc::invalid_argument, what + std::string(to_string(r.kind)) + " " + summary);
}

carehub::Error refused(std::string summary, std::string full, std::string* detail) {
  if (detail) *detail = std::move(full);
  return carehub::make_error(Errc::invalid_argument, std::move(summary));
}

}  // namespace

std::string_view openhab_item(std::string_view topic) {
  const auto last = topic.rfind('/');
  if (last == std::string_view::npos || last == 0) return {};
  const auto before = topic.rfind('/', last - 1);
  return topic.substr(before == std::string_view::npos ? 0 : before + 1,
                      last - (before == std::string_view::npos ? 0 : before + 1));
}

bool topic_matches(std::string_view filter, std::string_view topic) {
  while (true) {
    const auto fslash = filter.find('/');
    const auto flevel = filter.substr(0, fslash);
    if (flevel == "#") return true;
    const auto tslash = topic.find('/');
    const auto tlevel = topic.substr(0, tslash);
    if (flevel != "+" && flevel != tlevel) return false;
    if (fslash == std::string_view::npos || tslash == std::string_view::npos) {
      // "a/#" also matches "a"
      return fslash == std::string_view::npos && tslash == std::string_view::npos
                 ? true
                 : (tslash == std::string_view::npos && filter.substr(fslash + 1) == "#");
    }
    filter.remove_prefix(fslash + 1);
    topic.remove_prefix(tslash + 1);
  }
}

carehub::Result<std::optional<Reading>> to_reading(const Subscription& sub, const Message& message, TimePoint received,
                                               std::string* detail) {
  const std::string_view payload = message.payload;
  switch (sub.format) {
    case Format::reading_json: {
      auto r = parse_reading_json(payload, received);
      if (!r) return refused(value_free(r.error().message), r.error().message, detail);
      if (!r->patient.empty() && !sub.allow_patient) {
        // The device registry attributes readings; a publisher naming a patient would bypass it.
        return refused("/patient: not taken from this subscription (allow_patient is off); nothing stored",
                       "/patient: \"" + r->patient + "\" not taken from this subscription (allow_patient is off)",
                       detail);
      }
      r->source = "mqtt";
      return checked(std::move(*r), "", detail);
    }
    case Format::number: {
      auto n = openhab::parse_number(trim(payload));
      if (!n) {
        return refused("payload: not a number",
                       "payload " + openhab::in_quotes(payload) + ": " + n.error().message, detail);
      }
      const auto& component = info(*sub.kind).components.front();
      double value = *n;
      if (!sub.unit.empty() && sub.unit != component.unit) {
        auto c = to_canonical(value, sub.unit, component.unit);
        if (!c) return refused("payload: " + std::string(phrase_for(c.error().message)), c.error().message, detail);
        value = *c;
      }
      return checked(single(*sub.kind, sub.device.empty() ? "mqtt-" + message.topic : sub.device, value, received), "",
                     detail);
    }
    case Format::openhab_state: {
      const auto item = openhab_item(message.topic);
      if (item.empty()) return std::optional<Reading>();
      const openhab::ItemContext context{std::string(item), {}, {}, std::nullopt};
      if (!sub.items.find(item, context.tags, context.groups)) return std::optional<Reading>();
      const std::string named = "item " + openhab::in_quotes(item) + ": ";
      auto state = openhab::parse_untyped_state(trim(payload));
      if (!state) return refused(named + "not a state openHAB sends", named + state.error().message, detail);
      auto mapped = openhab::map_state(sub.items, context, *state);
      if (!mapped) return refused(named + "the state does not fit the item's kind or unit", mapped.error().message, detail);
      const auto* r = std::get_if<openhab::Reading>(&*mapped);
      if (!r) return std::optional<Reading>();  // NULL/UNDEF: no value, never a zero
      const auto kind = kind_from_string(r->kind);
      if (!kind) return carehub::make_error(Errc::internal, "kind " + r->kind + " unknown");
      return checked(single(*kind, "openhab-" + std::string(item), r->value, received), named, detail);
    }
  }
  return carehub::make_error(Errc::internal, "unknown format");
}

}  // namespace carehub::mqtt
