#pragma once
// The resend guard: devices resend their whole memory on every reconnect, and their clocks and record
// numbers go back (a battery change resets the clock, a meter reset numbers from 1 again, sequence
// numbers wrap, local time repeats an hour in autumn). The guard tells a record already stored from a
// new one and decides which time a new one takes. Pure: the evidence that needs the store comes in
// through `Known`, so the matrix of clocks and sequences is unit-tested without BlueZ or SQLite.
//
// Evidence, strongest first:
//  1. The store (or this session) already holds a reading from this device with the same kind, device
//     time and values: a resend, dropped.
//  2. The device's own order. With a sequence number (glucose): a number after the newest stored
//     (uint16 serial-number arithmetic, so 0 follows 65535) is new, one not after it is asked about.
//     Without: a usable device time at or after the newest stored is new (equal ones are told apart by
//     the pipeline's identity); one before it is the device resending its memory (design.md) unless it
//     was sent as it was taken (within live_window of the receive time: a clock that went back), which
//     is asked about. A record carrying a user slot (multi-user monitor: one memory per user, sent one
//     after another) is never dropped by order, only asked about: the mark orders one memory only.
//  3. The device time against the receive time: further behind than `reset_after` (a clock that was
//     reset or never set) or further ahead than `future_tolerance` is not a measurement time: such a
//     record is always asked about, and a new one takes its receive time.
// Asked about and not held: a new measurement from a clock or numbering that went back, kept. Only when
// the store cannot answer for a record whose time would be its receive time (so that its identity
// cannot catch a resend) is it set aside: it stays in the device's memory for the next connection.
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "core/device.hpp"
#include "drivers/ble/convert.hpp"

namespace carehub::ble {

// What the device's clock turned out to be for one record.
enum class DeviceClock {
  none,     // no time stamp, or not a real date-time
  usable,   // believed: the reading's effective time
  behind,   // further behind the receive time than reset_after: reset or never set
  ahead,    // further ahead of the receive time than future_tolerance
};
std::string_view to_string(DeviceClock c);

enum class Sequence {
  none,       // the record has no sequence number
  next,       // after the newest stored (or the first seen)
  restarted,  // back to a low number the store does not hold: a reset meter numbering from 1 again
  wrapped,    // from near 65535 on to near 0 (uint16): new
  old,        // not after the newest stored (a resend unless the store says otherwise)
};
std::string_view to_string(Sequence s);

enum class Verdict {
  fresh,      // a new measurement: hand it to the pipeline
  resent,     // already stored: drop
  set_aside,  // cannot tell, and storing it could duplicate a measurement: not stored now
};

struct Judgement {
  Verdict verdict = Verdict::fresh;
  DeviceClock clock = DeviceClock::none;
  Sequence sequence = Sequence::none;
  // The device time named the instant before the newest stored record, and the store does not hold
  // it: a clock put back (by hand, by the hub's Current Time write, by a reset within reset_after).
  bool went_back = false;
  bool marks_changed = false;  // newest_record / newest_sequence moved: persist them (after the reading)
};

// Whether the store (or this session) already holds this record with its device time at `instant`:
// true, false, or empty when it cannot tell (no store, an error).
using Known = std::function<std::optional<bool>(TimePoint instant)>;

// Whether `stored` is `r` stamped at `instant`: the same kind, device time and values (values compared
// to 1e-9 relative: a round trip through the store's JSON is exact, a unit conversion nearly so).
bool same_record(const Reading& stored, const Reading& r, TimePoint instant);

// Judges `conv` (one record, converted at `received`) against the device's marks, and for a fresh
// record places its readings: time = the device time when usable, else the receive time; device_time =
// the instant the device's stamp named, whenever it had one (kept as evidence, believed or not).
// Updates `marks` (newest_record only ever from a usable device time; newest_sequence follows the
// device's numbering, also back to 1 after a restart, so asking for "records after it" works again).
Judgement judge(Converted& conv, Device& marks, TimePoint received, const TimeOptions& options, const Known& known);

// Which instant of a wall time that occurs twice the device meant: the one after the newest stored
// record (records come in the device's order), else the one within live_window of the receive time (a
// reading sent as it is taken), else the earlier one. Never later than received + future_tolerance
// when the other is not.
TimePoint pick_instant(const std::vector<TimePoint>& candidates, const std::optional<TimePoint>& newest,
                       TimePoint received, const TimeOptions& options);

}  // namespace carehub::ble
