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
#include <algorithm>
#include <cctype>
#include <set>

#include "core/json_check.hpp"
#include "daemon/command_args.hpp"
#include "daemon/commands/groups.hpp"

namespace carehub::daemon::commands {
namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

struct Slot {
  int user = 0;
  std::string patient;
};

Error refused(const Context& ctx, const std::string& message) {
  ctx.counters.add("control_bad_requests");
  return {Errc::invalid_argument, message};
}

// An id ("ble-aa-…") or a Bluetooth address, as registered; not found is an error that says so.
Result<std::string> device_id(const Context& ctx, const std::string& id_or_address) {
  std::lock_guard lock(ctx.reader_mu);
  auto devices = ctx.reader.devices();
  if (!devices) return devices.error();
  for (const auto& d : *devices) {
    if (d.id == id_or_address || (!d.address.empty() && upper(d.address) == upper(id_or_address))) return d.id;
  }
  return make_error(Errc::not_found, "no registered device \"" + id_or_address +
                                         "\" (carehubctl devices list shows ids and addresses; pair it first)");
}

nlohmann::json binding_json(const Context& ctx, const std::string& device, int user) {
  std::lock_guard lock(ctx.reader_mu);
  auto all = ctx.reader.bindings();
  if (all) {
    for (const auto& b : *all) {
      if (b.device == device && b.user == user) {
        return {{"device", b.device}, {"user", b.user}, {"patient", b.patient}, {"since", format_rfc3339(b.since)}, {"by", b.by}};
      }
    }
  }
  return {{"device", device}, {"user", user}};
}

Result<nlohmann::json> bindings_json(const Context& ctx) {
  std::lock_guard lock(ctx.reader_mu);
  auto all = ctx.reader.bindings();
  if (!all) return all.error();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& b : *all) {
    out.push_back({{"device", b.device}, {"user", b.user}, {"patient", b.patient}, {"since", format_rfc3339(b.since)}, {"by", b.by}});
  }
  return out;
}

Result<nlohmann::json> pair_users(const Context& ctx, const nlohmann::json& args, const PeerCred& peer) {
  JsonReader in;
  in.only_keys(args, "/args", {"address", "category", "passkey", "users", "by"});
  const auto* users = in.array(args, "/args", "users", true);
  auto by = text_arg(in, args, "by", kMaxByBytes);
  std::vector<Slot> slots;
  if (users) {
    if (users->empty() || users->size() > static_cast<std::size_t>(kMaxUserSlot)) {
      in.fail("/args/users", "expected 1 to " + std::to_string(kMaxUserSlot) + " user slots, found " + std::to_string(users->size()));
    }
    std::set<int> seen;
    for (std::size_t i = 0; i < users->size() && i < static_cast<std::size_t>(kMaxUserSlot); ++i) {
      const auto path = json_path("/args/users", i);
      const auto& u = (*users)[i];
      if (!u.is_object()) {
        in.fail(path, "expected {\"user\": N, \"patient\": \"Patient/…\"}, found " + describe_json(u));
        continue;
      }
      in.only_keys(u, path, {"user", "patient"});
      auto user = user_arg(in, u, path, true);
      auto patient = patient_arg(in, u, path, "patient", true);
      if (user && !seen.insert(*user).second) in.fail(json_path(path, "user"), "user " + std::to_string(*user) + " is listed twice");
      if (user && patient) slots.push_back({*user, *patient});
    }
  }
  if (!in.ok()) return refused(ctx, in.joined(""));
  nlohmann::json address_level = args;  // what the source checks itself (address, category, passkey)
  address_level.erase("users");
  address_level.erase("by");
  auto paired = ctx.forward("devices.pair", address_level);
  if (!paired) return paired.error();
  const auto device = (*paired)["device"].value("id", std::string{});
  if (device.empty()) return make_error(Errc::io, "the BLE source paired the device but named no device id");
  const auto decided_by = who(peer, by.value_or(""));
  nlohmann::json bound = nlohmann::json::array();
  for (const auto& s : slots) {
    UserBinding b;
    b.device = device;
    b.user = s.user;
    b.patient = s.patient;
    b.by = decided_by;
    if (auto r = ctx.pipeline.bind_user(b).get(); !r) {
      // The device is paired: say exactly what is left to do rather than undo a pairing the patient saw.
      return make_error(r.error().code, "paired " + device + ", but binding user " + std::to_string(s.user) +
                                            " failed: " + r.error().message + " (repeat with carehubctl devices assign " +
                                            device + " --user " + std::to_string(s.user) + " --patient …)");
    }
    bound.push_back(binding_json(ctx, device, s.user));
  }
  ctx.counters.add("device_users_bound", slots.size());
  ctx.log.notice("devices", "device-users-bound", {{"device", device}, {"users", slots.size()}, {"by", decided_by}});
  auto out = *paired;
  out["users"] = std::move(bound);
  return out;
}

Result<nlohmann::json> pair(const Context& ctx, const nlohmann::json& args, const PeerCred& peer) {
  // Without "users" it stays the source's own command.
  if (args.is_object() && args.contains("users")) return pair_users(ctx, args, peer);
  return ctx.forward("devices.pair", args);
}

Result<nlohmann::json> assign_user(const Context& ctx, const nlohmann::json& args, const PeerCred& peer) {
  JsonReader in;
  in.only_keys(args, "/args", {"device", "user", "patient", "by"});
  auto device = in.string(args, "/args", "device", true);
  auto user = user_arg(in, args, "/args", true);
  auto patient = patient_arg(in, args, "/args", "patient", true);
  auto by = text_arg(in, args, "by", kMaxByBytes);
  if (!in.ok()) return refused(ctx, in.joined(""));
  auto id = device_id(ctx, *device);
  if (!id) return id.error();
  UserBinding b;
  b.device = *id;
  b.user = *user;
  b.patient = *patient;
  b.by = who(peer, by.value_or(""));
  if (auto r = ctx.pipeline.bind_user(b).get(); !r) return r.error();
  ctx.log.notice("devices", "device-user-bound", {{"device", *id}, {"user", *user}, {"by", b.by}});
  return nlohmann::json{{"binding", binding_json(ctx, *id, *user)}};
}

Result<nlohmann::json> assign_device(const Context& ctx, const nlohmann::json& args) {
  // The whole device to a patient: the BLE source's command, which keeps its own copy of the device in
  // step. Its "address" may name the device by id (as `devices list` shows it): translated here.
  nlohmann::json out = args;
  if (args.is_object() && args.contains("address") && args["address"].is_string()) {
    const auto& given = args["address"].get_ref<const std::string&>();
    std::lock_guard lock(ctx.reader_mu);
    auto devices = ctx.reader.devices();
    if (!devices) return devices.error();
    for (const auto& d : *devices) {
      if (d.id == given && !d.address.empty()) out["address"] = d.address;
    }
  }
  return ctx.forward("devices.assign", out);
}

Result<nlohmann::json> assign(const Context& ctx, const nlohmann::json& args, const PeerCred& peer) {
  if (args.is_object() && args.contains("user")) return assign_user(ctx, args, peer);
  return assign_device(ctx, args);
}

Result<nlohmann::json> unbind(const Context& ctx, const nlohmann::json& args, const PeerCred&) {
  JsonReader in;
  in.only_keys(args, "/args", {"device", "user"});
  auto device = in.string(args, "/args", "device", true);
  auto user = user_arg(in, args, "/args", true);
  if (!in.ok()) return refused(ctx, in.joined(""));
  auto id = device_id(ctx, *device);
  if (!id) return id.error();
  auto removed = ctx.pipeline.unbind_user(*id, *user).get();
  if (!removed) return removed.error();
  ctx.log.notice("devices", "device-user-unbound", {{"device", *id}, {"user", *user}, {"was_bound", *removed}});
  return nlohmann::json{{"device", *id}, {"user", *user}, {"was_bound", *removed}};
}

Result<nlohmann::json> bindings(const Context& ctx, const nlohmann::json& args, const PeerCred&) {
  if (!args.empty()) return refused(ctx, "/args: devices.bindings takes no arguments");
  auto b = bindings_json(ctx);
  if (!b) return b.error();
  return nlohmann::json{{"bindings", *b}};
}

// devices.pair and devices.assign share their names with the BLE source's commands: "unknown command"
// counts them among its devices.*.
constexpr Command kCommands[] = {
    {"devices.bindings", bindings},
    {"devices.unbind", unbind},
    {"devices.pair", pair, nullptr, false},
    {"devices.assign", assign, nullptr, false},
};

}  // namespace

std::span<const Command> devices_commands() { return kCommands; }

}  // namespace carehub::daemon::commands
