#include "drivers/mqtt/decode.hpp"

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

carehub::Result<std::optional<Reading>> checked(Reading r) {
  if (auto ok = validate(r); !ok) return ok.error();
  return std::optional<Reading>(std::move(r));
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

carehub::Result<std::optional<Reading>> decode(const Subscription& sub, const Message& message, TimePoint received) {
  const std::string_view payload = message.payload;
  switch (sub.format) {
    case Format::reading_json: {
      auto r = parse_reading_json(payload, received);
      if (!r) return r.error();
      r->source = "mqtt";
      return checked(std::move(*r));
    }
    case Format::number: {
      auto n = openhab::parse_number(trim(payload));
      if (!n) return carehub::make_error(Errc::invalid_argument, "payload " + openhab::in_quotes(payload) + ": " + n.error().message);
      const auto& component = info(*sub.kind).components.front();
      double value = *n;
      if (!sub.unit.empty() && sub.unit != component.unit) {
        auto c = to_canonical(value, sub.unit, component.unit);
        if (!c) return c.error();
        value = *c;
      }
      return checked(single(*sub.kind, sub.device.empty() ? "mqtt-" + message.topic : sub.device, value, received));
    }
    case Format::openhab_state: {
      const auto item = openhab_item(message.topic);
      if (item.empty()) return std::optional<Reading>();
      const openhab::ItemContext context{std::string(item), {}, {}, std::nullopt};
      if (!sub.items.find(item, context.tags, context.groups)) return std::optional<Reading>();
      auto state = openhab::parse_untyped_state(trim(payload));
      if (!state) {
        return carehub::make_error(Errc::invalid_argument, "item " + openhab::in_quotes(item) + ": " + state.error().message);
      }
      auto mapped = openhab::map_state(sub.items, context, *state);
      if (!mapped) return carehub::make_error(Errc::invalid_argument, mapped.error().message);
      const auto* r = std::get_if<openhab::Reading>(&*mapped);
      if (!r) return std::optional<Reading>();  // NULL/UNDEF: no value, never a zero
      const auto kind = kind_from_string(r->kind);
      if (!kind) return carehub::make_error(Errc::internal, "kind " + r->kind + " unknown");
      return checked(single(*kind, "openhab-" + std::string(item), r->value, received));
    }
  }
  return carehub::make_error(Errc::internal, "unknown format");
}

}  // namespace carehub::mqtt
