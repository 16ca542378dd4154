#include "daemon/binding_commands.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/json_check.hpp"
#include "daemon/command_args.hpp"

namespace carehub::daemon {
namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

struct Slot {
  int user = 0;
  std::string patient;
};

}  // namespace

bool BindingCommands::handles(std::string_view cmd, const nlohmann::json& args) {
  if (cmd == "devices.unbind" || cmd == "devices.bindings") return true;
  if (cmd == "devices.pair") return args.is_object() && args.contains("users");
  // devices.assign without "user" is the source's; this class only lets its DEVICE be an id as well.
  return cmd == "devices.assign";
}

Error BindingCommands::refused(const std::string& message) {
  counters_.add("control_bad_requests");
  return {Errc::invalid_argument, message};
}

Result<nlohmann::json> BindingCommands::handle(const std::string& cmd, const nlohmann::json& args, const PeerCred& peer,
                                               const Forward& forward) {
  if (cmd == "devices.pair") return pair(args, peer, forward);
  if (cmd == "devices.assign") {
    if (args.is_object() && args.contains("user")) return assign(args, peer);
    return assign_device(args, forward);
  }
  if (cmd == "devices.unbind") return unbind(args);
  if (cmd == "devices.bindings") {
    if (!args.empty()) return refused("/args: devices.bindings takes no arguments");
    auto b = bindings_json();
    if (!b) return b.error();
    return nlohmann::json{{"bindings", *b}};
  }
  return refused("unknown command \"" + cmd + "\"");
}

Result<std::string> BindingCommands::device_id(const std::string& id_or_address) {
  std::lock_guard lock(reader_mu_);
  auto devices = reader_.devices();
  if (!devices) return devices.error();
  for (const auto& d : *devices) {
    if (d.id == id_or_address || (!d.address.empty() && upper(d.address) == upper(id_or_address))) return d.id;
  }
  return make_error(Errc::not_found, "no registered device \"" + id_or_address +
                                         "\" (carehubctl devices list shows ids and addresses; pair it first)");
}

nlohmann::json BindingCommands::binding_json(const std::string& device, int user) {
  std::lock_guard lock(reader_mu_);
  auto all = reader_.bindings();
  if (all) {
    for (const auto& b : *all) {
      if (b.device == device && b.user == user) {
        return {{"device", b.device}, {"user", b.user}, {"patient", b.patient}, {"since", format_rfc3339(b.since)}, {"by", b.by}};
      }
    }
  }
  return {{"device", device}, {"user", user}};
}

Result<nlohmann::json> BindingCommands::bindings_json() {
  std::lock_guard lock(reader_mu_);
  auto all = reader_.bindings();
  if (!all) return all.error();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& b : *all) {
    out.push_back({{"device", b.device}, {"user", b.user}, {"patient", b.patient}, {"since", format_rfc3339(b.since)}, {"by", b.by}});
  }
  return out;
}

Result<nlohmann::json> BindingCommands::pair(const nlohmann::json& args, const PeerCred& peer, const Forward& forward) {
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
  if (!in.ok()) return refused(in.joined(""));
  nlohmann::json address_level = args;  // what the source checks itself (address, category, passkey)
  address_level.erase("users");
  address_level.erase("by");
  auto paired = forward("devices.pair", address_level);
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
    if (auto r = pipeline_.bind_user(b).get(); !r) {
      // The device is paired: say exactly what is left to do rather than undo a pairing the patient saw.
      return make_error(r.error().code, "paired " + device + ", but binding user " + std::to_string(s.user) +
                                            " failed: " + r.error().message + " (repeat with carehubctl devices assign " +
                                            device + " --user " + std::to_string(s.user) + " --patient …)");
    }
    bound.push_back(binding_json(device, s.user));
  }
  counters_.add("device_users_bound", slots.size());
  log_.notice("devices", "device-users-bound", {{"device", device}, {"users", slots.size()}, {"by", decided_by}});
  auto out = *paired;
  out["users"] = std::move(bound);
  return out;
}

Result<nlohmann::json> BindingCommands::assign(const nlohmann::json& args, const PeerCred& peer) {
  JsonReader in;
  in.only_keys(args, "/args", {"device", "user", "patient", "by"});
  auto device = in.string(args, "/args", "device", true);
  auto user = user_arg(in, args, "/args", true);
  auto patient = patient_arg(in, args, "/args", "patient", true);
  auto by = text_arg(in, args, "by", kMaxByBytes);
  if (!in.ok()) return refused(in.joined(""));
  auto id = device_id(*device);
  if (!id) return id.error();
  UserBinding b;
  b.device = *id;
  b.user = *user;
  b.patient = *patient;
  b.by = who(peer, by.value_or(""));
  if (auto r = pipeline_.bind_user(b).get(); !r) return r.error();
  log_.notice("devices", "device-user-bound", {{"device", *id}, {"user", *user}, {"by", b.by}});
  return nlohmann::json{{"binding", binding_json(*id, *user)}};
}

Result<nlohmann::json> BindingCommands::assign_device(const nlohmann::json& args, const Forward& forward) {
  // The whole device to a patient: the BLE source's command, which keeps its own copy of the device in
  // step. Its "address" may name the device by id (as `devices list` shows it): translated here.
  nlohmann::json out = args;
  if (args.is_object() && args.contains("address") && args["address"].is_string()) {
    const auto& given = args["address"].get_ref<const std::string&>();
    std::lock_guard lock(reader_mu_);
    auto devices = reader_.devices();
    if (!devices) return devices.error();
    for (const auto& d : *devices) {
      if (d.id == given && !d.address.empty()) out["address"] = d.address;
    }
  }
  return forward("devices.assign", out);
}

Result<nlohmann::json> BindingCommands::unbind(const nlohmann::json& args) {
  JsonReader in;
  in.only_keys(args, "/args", {"device", "user"});
  auto device = in.string(args, "/args", "device", true);
  auto user = user_arg(in, args, "/args", true);
  if (!in.ok()) return refused(in.joined(""));
  auto id = device_id(*device);
  if (!id) return id.error();
  auto removed = pipeline_.unbind_user(*id, *user).get();
  if (!removed) return removed.error();
  log_.notice("devices", "device-user-unbound", {{"device", *id}, {"user", *user}, {"was_bound", *removed}});
  return nlohmann::json{{"device", *id}, {"user", *user}, {"was_bound", *removed}};
}

}  // namespace carehub::daemon
