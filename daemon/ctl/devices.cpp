// carehubctl devices: what a technician does with a kit's BLE devices (answered by carehubd's "ble"
// source): scan, pair, list, forget, assign; and which patient each user slot of a multi-user device
// measures (pair/assign --user, unbind, bindings: answered by carehubd itself).
#include <cstdio>
#include <iostream>
#include <optional>
#include <vector>

#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {
namespace {

struct DevicesOptions {
  int seconds = 10;
  std::string address, category, patient, by;
  std::optional<std::int64_t> passkey;
  std::vector<int> users;             // pair: --user N, in the order given
  std::vector<std::string> patients;  // pair: --patient P, the n-th for the n-th --user
  std::optional<int> user;            // assign/unbind: one slot; users consent: the device's index
  int consent = 0;                    // users register/consent: the UDS consent code
  bool json = false;
};

// A user slot as a device names it (the User ID of the BP/weight characteristics); 255 means "unknown
// user" on the wire and is never bound, so its readings always wait for a technician.
const auto kUserSlot = CLI::Range(0, 254);

void print_binding(const nlohmann::json& b) {
  std::printf("  user %s -> %s since %s (by %s)\n", text(b["user"]).c_str(), text(b["patient"]).c_str(),
              text(b["since"]).c_str(), text(b["by"]).c_str());
}

void print_device(const nlohmann::json& d) {
  std::printf("%-17s %-22s %-15s %-16s %-11s %s\n", text(d["address"]).c_str(), text(d["id"]).c_str(),
              text(d["category"]).c_str(), text(d["model"]).c_str(), text(d["state"]).c_str(),
              text(d["patient"]).c_str());
  std::printf("    last seen %s, last reading %s, readings %s, resent dropped %s, malformed %s, battery %s\n",
              text(d["last_seen"]).c_str(), text(d["last_reading"]).c_str(), text(d["readings"]).c_str(),
              text(d["resent_dropped"]).c_str(), text(d["malformed"]).c_str(), text(d["battery"]).c_str());
  if (d.contains("last_error") && d["last_error"] != "") std::printf("    last error: %s\n", text(d["last_error"]).c_str());
}

}  // namespace

Runner add_devices_commands(CLI::App& app, Context& ctx) {
  auto* devices = app.add_subcommand("devices", "BLE health devices: scan, pair, list, forget, assign")->require_subcommand(1);
  auto o = std::make_shared<DevicesOptions>();
  auto* scan = devices->add_subcommand("scan", "list nearby devices: address, name, RSSI, health services");
  scan->add_option("--seconds", o->seconds, "how long to listen")->capture_default_str()->check(CLI::Range(1, 120));
  scan->add_flag("--json", o->json, "one JSON object per device");
  auto* pair = devices->add_subcommand("pair", "pair, trust and register a device: for the kit's patient, or per user slot with --user N --patient P");
  pair->add_option("address", o->address, "Bluetooth address AA:BB:CC:DD:EE:FF")->required();
  pair->add_option("--category", o->category,
                   "blood-pressure, thermometer, pulse-oximeter, scale, glucose-meter, heart-rate")->required();
  pair->add_option("--passkey", o->passkey, "the 6-digit passkey the device shows or its label carries")->check(CLI::Range(0, 999999));
  pair->add_option("--user", o->users, "a user slot (0-254) of a multi-user device; repeat it with one --patient each")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->check(kUserSlot);
  pair->add_option("--patient", o->patients,
                   "the patient of the n-th --user (Patient/123); without --user: the patient of the whole device")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  pair->add_option("--by", o->by, "your name for the record (your login is recorded anyway)");
  auto* list = devices->add_subcommand("list", "registered devices with their session state");
  list->add_flag("--json", o->json, "one JSON object per device");
  auto* forget = devices->add_subcommand("forget", "unpair a device and remove it from the registry");
  forget->add_option("address", o->address, "Bluetooth address")->required();
  auto* assign = devices->add_subcommand(
      "assign", "attribute a device's readings (or, with --user, one user slot's) to a patient from now on");
  assign->add_option("device", o->address, "device id or Bluetooth address")->required();
  assign->add_option("--user", o->user, "the user slot (0-254) of a multi-user device")->check(kUserSlot);
  assign->add_option("--patient", o->patient, "FHIR reference, e.g. Patient/123")->required();
  assign->add_option("--by", o->by, "your name for the record (your login is recorded anyway)");
  auto* unbind = devices->add_subcommand("unbind", "a user slot measures nobody: its readings are unassigned from now on");
  unbind->add_option("device", o->address, "device id or Bluetooth address")->required();
  unbind->add_option("--user", o->user, "the user slot (0-254)")->required()->check(kUserSlot);
  auto* bindings = devices->add_subcommand("bindings", "which patient each bound user slot measures");
  bindings->add_flag("--json", o->json, "one JSON object per binding");
  // User Data Service devices (0x181C) keep a user only after it was registered with a consent code.
  auto* users = devices->add_subcommand("users", "User Data Service devices: register, consent or delete a user on the device")
                    ->require_subcommand(1);
  users->add_option("address", o->address, "Bluetooth address")->required();
  auto* users_register = users->add_subcommand("register", "create a new user on the device (it gives the index) and consent to it");
  users_register->add_option("--consent", o->consent, "the consent code (0-9999) the user will use")->required()->check(CLI::Range(0, 9999));
  users_register->add_option("--patient", o->patient, "then bind the new user slot to this patient (Patient/123)");
  auto* users_consent = users->add_subcommand("consent", "give the hub access to an existing user with its consent code");
  users_consent->add_option("--user", o->user, "the user index on the device (0-254)")->required()->check(CLI::Range(0, 254));
  users_consent->add_option("--consent", o->consent, "the user's consent code (0-9999)")->required()->check(CLI::Range(0, 9999));
  auto* users_delete = users->add_subcommand("delete", "delete the consented user and its data on the device");
  for (auto* sub : {users_register, users_consent, users_delete}) {
    sub->add_flag("--json", o->json, "print carehubd's answer as JSON (the user index the device gave)");
  }

  return [=, &ctx]() -> int {
    if (!*devices) return -1;
    if (*scan) {
      auto r = ctx.call("devices.scan", {{"seconds", o->seconds}});
      if (!r) return fail(r.error());
      if (o->json) {
        for (const auto& d : (*r)["devices"]) std::cout << d.dump() << "\n";
        return 0;
      }
      std::printf("%-17s %-24s %-6s %-7s %s\n", "ADDRESS", "NAME", "RSSI", "PAIRED", "SERVICES");
      for (const auto& d : (*r)["devices"]) {
        std::string services;
        for (const auto& s : d["services"]) services += (services.empty() ? "" : ",") + s.get<std::string>();
        std::printf("%-17s %-24s %-6s %-7s %s%s\n", text(d["address"]).c_str(), text(d["name"]).c_str(),
                    text(d["rssi"]).c_str(), d["paired"] == true ? "yes" : "no", services.empty() ? "-" : services.c_str(),
                    d["registered"] == true ? " (registered)" : "");
      }
      return 0;
    }
    if (*pair) {
      // --user and --patient pair up in order; a whole-device --patient only without --user.
      const bool whole_device = o->users.empty() && o->patients.size() == 1;
      if (!whole_device && o->users.size() != o->patients.size()) {
        return fail({Errc::invalid_argument, "give one --patient for each --user (found " + std::to_string(o->users.size()) +
                                                 " --user and " + std::to_string(o->patients.size()) + " --patient)"});
      }
      nlohmann::json args = {{"address", o->address}, {"category", o->category}};
      if (o->passkey) args["passkey"] = *o->passkey;
      if (!o->users.empty()) {
        args["users"] = nlohmann::json::array();
        for (std::size_t i = 0; i < o->users.size(); ++i) args["users"].push_back({{"user", o->users[i]}, {"patient", o->patients[i]}});
        if (!o->by.empty()) args["by"] = o->by;
      }
      auto r = ctx.call("devices.pair", args);
      if (!r) return fail(r.error());
      auto d = (*r)["device"];
      if (whole_device) {
        auto moved = ctx.call("devices.assign", {{"address", o->address}, {"patient", o->patients.front()}});
        if (!moved) {
          std::printf("paired %s as %s, but not yet for %s:\n", text(d["address"]).c_str(), text(d["id"]).c_str(),
                      o->patients.front().c_str());
          return fail(moved.error());
        }
        d = (*moved)["device"];
      }
      std::printf("paired %s as %s (%s, %s) for %s\n", text(d["address"]).c_str(), text(d["id"]).c_str(),
                  text(d["category"]).c_str(), text(d["model"]).c_str(),
                  r->contains("users") ? "these users:" : text(d["patient"]).c_str());
      if (r->contains("users")) {
        for (const auto& b : (*r)["users"]) print_binding(b);
        std::printf("  any other user: unassigned (carehubctl readings unassigned)\n");
      }
      return 0;
    }
    if (*list) {
      auto r = ctx.call("devices.list");
      if (!r) return fail(r.error());
      if (o->json) {
        for (const auto& d : (*r)["devices"]) std::cout << d.dump() << "\n";
        return 0;
      }
      std::printf("%-17s %-22s %-15s %-16s %-11s %s\n", "ADDRESS", "ID", "CATEGORY", "MODEL", "STATE", "PATIENT");
      for (const auto& d : (*r)["devices"]) print_device(d);
      return 0;
    }
    if (*forget) {
      auto r = ctx.call("devices.forget", {{"address", o->address}});
      if (!r) return fail(r.error());
      std::printf("forgot %s (%s)\n", text((*r)["forgotten"]["address"]).c_str(), text((*r)["forgotten"]["id"]).c_str());
      return 0;
    }
    if (*assign) {
      if (o->user) {
        nlohmann::json args = {{"device", o->address}, {"user", *o->user}, {"patient", o->patient}};
        if (!o->by.empty()) args["by"] = o->by;
        auto r = ctx.call("devices.assign", args);
        if (!r) return fail(r.error());
        const auto& b = (*r)["binding"];
        std::printf("%s user %s now measures %s (readings measured from %s on)\n", text(b["device"]).c_str(),
                    text(b["user"]).c_str(), text(b["patient"]).c_str(), text(b["since"]).c_str());
        return 0;
      }
      auto r = ctx.call("devices.assign", {{"address", o->address}, {"patient", o->patient}});
      if (!r) return fail(r.error());
      std::printf("%s now measures %s\n", text((*r)["device"]["id"]).c_str(), text((*r)["device"]["patient"]).c_str());
      return 0;
    }
    if (*unbind) {
      auto r = ctx.call("devices.unbind", {{"device", o->address}, {"user", *o->user}});
      if (!r) return fail(r.error());
      std::printf("%s user %s %s: its readings are unassigned from now on\n", text((*r)["device"]).c_str(),
                  text((*r)["user"]).c_str(), (*r)["was_bound"] == true ? "unbound" : "was not bound");
      return 0;
    }
    if (*users) {
      nlohmann::json args = {{"address", o->address}};
      args["action"] = *users_register ? "register" : *users_consent ? "consent" : "delete";
      if (*users_register || *users_consent) args["consent"] = o->consent;
      if (*users_consent) args["user"] = *o->user;
      // The device answers only once it connects: the technician presses its button (up to 60 s).
      std::fprintf(stderr, "press the device's button so it connects...\n");
      auto r = ctx.call("devices.users", args);
      if (!r) return fail(r.error());
      if (o->json) std::cout << r->dump() << "\n";
      else std::printf("%s user %s on %s\n",
                  *users_register ? "registered and consented" : *users_consent ? "consented" : "deleted",
                  text((*r)["user"]).c_str(), text((*r)["device"]).c_str());
      if (*users_register && !o->patient.empty()) {
        auto b = ctx.call("devices.assign", {{"device", o->address}, {"user", (*r)["user"]}, {"patient", o->patient}});
        if (!b) return fail(b.error());
        if (o->json) std::cout << b->dump() << "\n";
        else std::printf("%s user %s now measures %s\n", text((*b)["binding"]["device"]).c_str(), text((*b)["binding"]["user"]).c_str(),
                         text((*b)["binding"]["patient"]).c_str());
      }
      return 0;
    }
    if (*bindings) {
      auto r = ctx.call("devices.bindings");
      if (!r) return fail(r.error());
      if (o->json) {
        for (const auto& b : (*r)["bindings"]) std::cout << b.dump() << "\n";
        return 0;
      }
      std::string device;
      for (const auto& b : (*r)["bindings"]) {
        if (text(b["device"]) != device) std::printf("%s\n", (device = text(b["device"])).c_str());
        print_binding(b);
      }
      if ((*r)["bindings"].empty()) std::printf("no user slots bound (single-user devices measure their device's patient)\n");
      return 0;
    }
    return -1;
  };
}

}  // namespace carehub::ctl
