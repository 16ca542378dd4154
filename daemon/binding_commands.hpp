#pragma once
// Which patient a multi-user device's user slot measures (issue 14): the control commands that bind,
// move and unbind user slots, around the BLE source's address-level pairing.
//
//   devices.pair {address, category, passkey?, users: [{"user": 1, "patient": "Patient/…"}, …], by?}
//       the source pairs (address level); then each slot is bound. Arguments are checked before pairing,
//       so a typo in a patient reference never leaves a device paired with half its users.
//   devices.assign {device, user, patient, by?}   binds (or moves) one slot; DEVICE is an id or address
//   devices.unbind {device, user}                  the slot's readings are unassigned from now on
//   devices.bindings {}                            every bound slot
//
// devices.pair without "users" stays the source's own command, and so does devices.assign without "user"
// (the device-level patient), except that its "address" may also be a device id.  A binding is written through the pipeline
// (Pipeline::bind_user), so it takes effect in the writer's order: a reading is attributed either
// wholly before or wholly after it. Readings measured before a binding stay unassigned for the technician.
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "core/counters.hpp"
#include "core/log.hpp"
#include "store/pipeline.hpp"
#include "store/store.hpp"
#include "daemon/control_server.hpp"

namespace carehub::daemon {

class BindingCommands {
 public:
  // Sends a command to the source that owns it (the BLE driver), as the daemon would.
  using Forward = std::function<Result<nlohmann::json>(const std::string& cmd, const nlohmann::json& args)>;

  BindingCommands(Pipeline& pipeline, StoreReader& reader, std::mutex& reader_mu, Logger& log, Counters& counters)
      : pipeline_(pipeline), reader_(reader), reader_mu_(reader_mu), log_(log), counters_(counters) {}

  // True when this class answers the request (the user-slot forms); false: the source's own command.
  static bool handles(std::string_view cmd, const nlohmann::json& args);
  Result<nlohmann::json> handle(const std::string& cmd, const nlohmann::json& args, const PeerCred& peer,
                                const Forward& forward);

  // The slots bound per device id, for `status` and `devices.bindings`.
  Result<nlohmann::json> bindings_json();

 private:
  Result<nlohmann::json> pair(const nlohmann::json& args, const PeerCred& peer, const Forward& forward);
  Result<nlohmann::json> assign(const nlohmann::json& args, const PeerCred& peer);
  Result<nlohmann::json> assign_device(const nlohmann::json& args, const Forward& forward);
  Result<nlohmann::json> unbind(const nlohmann::json& args);
  // An id ("ble-aa-…") or a Bluetooth address, as registered; not found is an error that says so.
  Result<std::string> device_id(const std::string& id_or_address);
  nlohmann::json binding_json(const std::string& device, int user);
  Error refused(const std::string& message);

  Pipeline& pipeline_;
  StoreReader& reader_;
  std::mutex& reader_mu_;
  Logger& log_;
  Counters& counters_;
};

}  // namespace carehub::daemon
