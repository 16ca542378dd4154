// carehubctl devices: what a technician does with a kit's BLE devices (answered by carehubd's "ble"
// source): scan, pair, list, forget, assign.
#include <cstdio>
#include <iostream>
#include <optional>

#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {
namespace {

struct DevicesOptions {
  int seconds = 10;
  std::string address, category, patient;
  std::optional<std::int64_t> passkey;
  bool json = false;
};

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
  auto* pair = devices->add_subcommand("pair", "pair, trust and register a device for the kit's patient");
  pair->add_option("address", o->address, "Bluetooth address AA:BB:CC:DD:EE:FF")->required();
  pair->add_option("--category", o->category,
                   "blood-pressure, thermometer, pulse-oximeter, scale, glucose-meter, heart-rate")->required();
  pair->add_option("--passkey", o->passkey, "the 6-digit passkey the device shows or its label carries")->check(CLI::Range(0, 999999));
  auto* list = devices->add_subcommand("list", "registered devices with their session state");
  list->add_flag("--json", o->json, "one JSON object per device");
  auto* forget = devices->add_subcommand("forget", "unpair a device and remove it from the registry");
  forget->add_option("address", o->address, "Bluetooth address")->required();
  auto* assign = devices->add_subcommand("assign", "attribute a device's readings to another patient");
  assign->add_option("address", o->address, "Bluetooth address")->required();
  assign->add_option("--patient", o->patient, "FHIR reference, e.g. Patient/123")->required();

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
      nlohmann::json args = {{"address", o->address}, {"category", o->category}};
      if (o->passkey) args["passkey"] = *o->passkey;
      auto r = ctx.call("devices.pair", args);
      if (!r) return fail(r.error());
      const auto& d = (*r)["device"];
      std::printf("paired %s as %s (%s, %s) for %s\n", text(d["address"]).c_str(), text(d["id"]).c_str(),
                  text(d["category"]).c_str(), text(d["model"]).c_str(), text(d["patient"]).c_str());
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
      auto r = ctx.call("devices.assign", {{"address", o->address}, {"patient", o->patient}});
      if (!r) return fail(r.error());
      std::printf("%s now measures %s\n", text((*r)["device"]["id"]).c_str(), text((*r)["device"]["patient"]).c_str());
      return 0;
    }
    return -1;
  };
}

}  // namespace carehub::ctl
