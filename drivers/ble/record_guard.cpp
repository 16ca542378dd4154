#include "drivers/ble/record_guard.hpp"

#include <algorithm>
#include <cmath>

namespace carehub::ble {
namespace {

// 2000-01-01T00:00:00Z: no carehub device existed before; a clock saying so was never set.
constexpr std::int64_t kYear2000Ms = 946684800000LL;
// Sequence numbers are uint16: a step back by more than half the range is a wrap (RFC 1982 arithmetic).
constexpr std::int64_t kHalfSequenceRange = 32768;

DeviceClock classify(TimePoint instant, TimePoint received, const TimeOptions& o) {
  if (to_epoch_ms(instant) < kYear2000Ms || instant < received - o.reset_after) return DeviceClock::behind;
  if (instant > received + o.future_tolerance) return DeviceClock::ahead;
  return DeviceClock::usable;
}

// The store's answer for every instant the stamp can name: held if any holds it, unknown if any
// cannot be asked and none holds it.
std::optional<bool> held(const std::vector<TimePoint>& instants, const Known& known) {
  if (instants.empty() || !known) return std::nullopt;
  bool unknown = false;
  for (auto t : instants) {
    auto k = known(t);
    if (!k) unknown = true;
    else if (*k) return true;
  }
  return unknown ? std::nullopt : std::optional<bool>(false);
}

}  // namespace

std::string_view to_string(DeviceClock c) {
  switch (c) {
    case DeviceClock::none: return "none";
    case DeviceClock::usable: return "usable";
    case DeviceClock::behind: return "behind";
    case DeviceClock::ahead: return "ahead";
  }
  return "unknown";
}

std::string_view to_string(Sequence s) {
  switch (s) {
    case Sequence::none: return "none";
    case Sequence::next: return "next";
    case Sequence::restarted: return "restarted";
    case Sequence::wrapped: return "wrapped";
    case Sequence::old: return "old";
  }
  return "unknown";
}

bool same_record(const Reading& stored, const Reading& r, TimePoint instant) {
  if (stored.kind != r.kind || stored.device_time != instant || stored.values.size() != r.values.size()) return false;
  for (const auto& [name, v] : r.values) {
    auto it = stored.values.find(name);
    if (it == stored.values.end() || std::fabs(it->second - v) > 1e-9 * std::max(1.0, std::fabs(v))) return false;
  }
  return true;
}

TimePoint pick_instant(const std::vector<TimePoint>& candidates, const std::optional<TimePoint>& newest,
                       TimePoint received, const TimeOptions& o) {
  const TimePoint early = candidates.front();
  const TimePoint late = candidates.back();
  if (candidates.size() == 1 || early == late) return early;
  const auto possible = [&](TimePoint t) { return t <= received + o.future_tolerance; };
  const auto in_order = [&](TimePoint t) { return (!newest || t > *newest) && possible(t); };
  const auto live = [&](TimePoint t) { return t >= received - o.live_window && t <= received + o.live_window; };
  const bool early_ok = in_order(early), late_ok = in_order(late);
  if (early_ok != late_ok) return early_ok ? early : late;
  if (early_ok) return live(late) && !live(early) ? late : early;
  // Neither is after the newest stored: most likely a resend (the store is asked about both). If it is
  // new after all, the clock went back, and the later instant is the nearer to the device's order.
  return possible(late) ? late : early;
}

Judgement judge(Converted& conv, Device& marks, TimePoint received, const TimeOptions& o, const Known& known) {
  Judgement j;
  std::optional<TimePoint> instant;
  if (!conv.device_times.empty()) {
    instant = pick_instant(conv.device_times, marks.newest_record, received, o);
    j.clock = classify(*instant, received, o);
  }
  const bool usable = j.clock == DeviceClock::usable;
  // A multi-user device keeps one memory per user slot and sends them one after another: the
  // device-wide mark orders only one of them, so a record of a user slot is never dropped by order,
  // only by the store's answer, and an older one is no sign of a clock going back.
  const bool per_user = std::any_of(conv.readings.begin(), conv.readings.end(), [](const Reading& r) { return r.user.has_value(); });
  const auto& newest = marks.newest_record;
  bool order_new = true;  // new by the device's own order: no need to ask the store
  if (conv.sequence) {
    // The numbering orders the records (uint16, serial-number arithmetic: 65535 is followed by 0).
    const auto s = static_cast<std::int64_t>(*conv.sequence);
    const auto ahead = marks.newest_sequence ? (s - *marks.newest_sequence + 65536) % 65536 : 1;
    j.sequence = ahead == 0 || ahead >= kHalfSequenceRange ? Sequence::old
                 : marks.newest_sequence && s < *marks.newest_sequence ? Sequence::wrapped
                                                                       : Sequence::next;
    // A record its clock places at or before the newest stored is asked about, even with a new number:
    // after a restart the numbers come again.
    order_new = j.sequence != Sequence::old && (!usable || !newest || *instant > *newest);
  } else if (instant) {
    // Equal to the newest stored: two records in one second are told apart by their values, which the
    // pipeline's identity (reading_uid) does.
    order_new = usable && (!newest || *instant >= *newest);
    if (usable && !order_new && *instant < received - o.live_window && !per_user) {
      // Older than the newest stored, and not sent as it was taken: the device resending its memory.
      j.verdict = Verdict::resent;
      return j;
    }
  }
  if (!order_new) {
    const auto in_store = held(conv.device_times, known);
    if (in_store && *in_store) {
      j.verdict = Verdict::resent;
      // Held already, under a number after the mark (records refilled after a restart): the mark may
      // cover it, so that the next "records after the newest" does not ask for it again.
      if (conv.sequence && j.sequence != Sequence::old) {
        marks.newest_sequence = *conv.sequence;
        j.marks_changed = true;
      }
      return j;
    }
    if (!in_store && !usable) {
      // Placed at its receive time, a resend would get a new identity and be stored (and judged) twice:
      // an extreme reading seen twice looks like a confirmed repeat. It is still in the device's memory.
      j.verdict = Verdict::set_aside;
      return j;
    }
    if (in_store) {
      // The store does not hold it: a new measurement from a numbering or a clock that went back.
      if (j.sequence == Sequence::old) {
        // The same number as the newest but not stored (the mark outlived its reading): no step back.
        j.sequence = *conv.sequence == *marks.newest_sequence ? Sequence::next : Sequence::restarted;
      }
      j.went_back = usable && newest && *instant < *newest && !per_user;
    }
    // Unknown but usable: its identity holds its device time, so the pipeline drops a true resend.
  }
  for (auto& r : conv.readings) {
    if (instant) r.device_time = *instant;
    r.time = usable ? *instant : received;
  }
  if (usable && (!newest || *instant > *newest)) {
    marks.newest_record = *instant;
    j.marks_changed = true;
  }
  if (conv.sequence && j.sequence != Sequence::old && marks.newest_sequence != std::int64_t{*conv.sequence}) {
    marks.newest_sequence = *conv.sequence;
    j.marks_changed = true;
  }
  return j;
}

}  // namespace carehub::ble
