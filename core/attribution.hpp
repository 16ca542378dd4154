#pragma once
// Which patient a reading belongs to (design.md invariant 7): only with certainty, else nobody yet. The
// pipeline's writer thread owns one Attribution, kept in step with the registry (devices, user bindings).
//
// The rules, in order:
//  1. A reading that names its patient (carehubctl measure add --patient) keeps it.
//  2. A reading from the device's "unknown user" (kUnknownUser) is unassigned: the device says it cannot tell.
//  3. A device with at least one bound user slot attributes per slot: a reading from a bound slot, measured
//     at or after the binding's `since`, is that patient's. A reading from a slot not bound, one naming no
//     slot, or one measured before its slot was bound (the device's memory of an earlier user) is
//     unassigned.
//  4. A reading naming a user slot from a device none of whose slots is bound is unassigned: a multi-user
//     device paired without --user cannot say the device's patient measured it.
//  5. Otherwise the device's patient (Device.patient, else the hub's patient) — unless the device keeps a
//     memory (everything but the sources below) and the reading was measured before the device was
//     registered or moved to its current patient (Device.bound_since): a second-hand device's history, or
//     the previous patient's readings still in its memory, are unassigned.
//  6. Sources without a device memory (manual entry, MQTT, openHAB, the simulator) deliver what is
//     measured now; their readings take the device's (or the hub's) patient whatever their time, as
//     before. A device the registry does not know (an openHAB item) takes the hub's patient.
// "Measured" is the reading's effective time (the device's own clock when believed, else its receipt).
// RACP memory dumps and the resend guard: a dump is judged record by record like any reading, so a second-hand
// meter's history lands unassigned while what was measured since pairing attributes. Unassigned readings are
// stored (with their device time), so the BLE resend guard finds them like any other and a reconnect's resend
// is dropped; an assigned reading keeps its old uid as an alias (reading_aliases), so a resend still computing
// the unassigned uid is a duplicate, not a second copy. A device clock the driver does not believe gives the
// receive time, which is after the pairing: such a record attributes (it was received, so measured, since).
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/device.hpp"
#include "core/reading.hpp"

namespace carehub {

// True for a source whose devices can hand over readings measured before they were paired.
bool has_device_memory(std::string_view source);

struct Attributed {
  std::string patient;     // empty when unassigned
  std::string unassigned;  // why not attributed (for the technician); empty when attributed
};

class Attribution {
 public:
  explicit Attribution(std::string default_patient) : default_patient_(std::move(default_patient)) {}

  Attributed attribute(const Reading& r) const;

  // The registry as stored. set_device keeps the device's patient and bound_since as given.
  void set_device(const Device& d);
  void forget_device(const std::string& id);
  // The bound_since an upsert of `d` must store: the known one when the device keeps its (effective)
  // patient, else `now` (a new registration or a move to another patient).
  std::optional<TimePoint> bound_since_for(const Device& d, TimePoint now) const;

  void set_binding(const UserBinding& b);
  void remove_binding(const std::string& device, int user);
  std::optional<UserBinding> binding(const std::string& device, int user) const;

  const std::string& default_patient() const { return default_patient_; }

 private:
  struct Bound {
    std::string patient;  // as registered: empty = the hub's patient
    std::optional<TimePoint> since;
  };
  std::string effective(const std::string& patient) const { return patient.empty() ? default_patient_ : patient; }

  std::string default_patient_;
  std::unordered_map<std::string, Bound> devices_;
  std::unordered_map<std::string, std::map<int, UserBinding>> users_;  // device -> user slot -> binding
};

}  // namespace carehub
