#include "drivers/ble/device_info.hpp"

#include <cstdio>

#include "drivers/ble/address.hpp"
#include "drivers/gatt/device_info.hpp"

namespace carehub::ble {
namespace {

std::string hex16(std::uint16_t uuid) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04X", static_cast<unsigned>(uuid));
  return buf;
}

// The registry field a DIS string goes to; null for a characteristic that is not one.
std::string* string_field(Device& d, std::uint16_t uuid, bool keep_model) {
  switch (uuid) {
    case gatt::uuid::kManufacturerName: return &d.manufacturer;
    case gatt::uuid::kModelNumber: return keep_model ? nullptr : &d.model;
    case gatt::uuid::kSerialNumber: return &d.serial;
    case gatt::uuid::kFirmwareRevision: return &d.firmware_revision;
    case gatt::uuid::kHardwareRevision: return &d.hardware_revision;
    case gatt::uuid::kSoftwareRevision: return &d.software_revision;
    default: return nullptr;
  }
}

template <class T>
void set(T& field, T value, bool& changed) {
  if (field == value) return;
  field = std::move(value);
  changed = true;
}

}  // namespace

DeviceInfoRead read_device_info(Bluez& bluez, const ObjectTree& objects, const std::string& device_path,
                                Device& device, bool keep_model) {
  DeviceInfoRead out;
  // bluetoothd's battery plugin claims the Battery Service and shows it as Battery1 on the device: the
  // characteristic is then hidden from GATT clients, so Battery1 comes first.
  bool battery_known = false;
  if (auto dev = objects.find(device_path); dev != objects.end()) {
    if (auto b = dev->second.find(std::string(kBatteryInterface)); b != dev->second.end()) {
      if (auto pct = get_int(b->second, "Percentage"); pct && *pct >= 0 && *pct <= 100) {
        set(device.battery_percent, std::optional<int>(static_cast<int>(*pct)), out.changed);
        battery_known = true;
      }
    }
  }
  const auto prefix = device_path + "/";
  for (const auto& [path, ifaces] : objects) {
    if (path.rfind(prefix, 0) != 0) continue;
    auto ch = ifaces.find(std::string(kCharacteristicInterface));
    if (ch == ifaces.end()) continue;
    const auto uuid = sig_uuid16(get_string(ch->second, "UUID").value_or(""));
    if (!uuid) continue;
    auto* field = string_field(device, *uuid, keep_model);
    const bool wanted = field || *uuid == gatt::uuid::kSystemId || (*uuid == gatt::uuid::kBatteryLevel && !battery_known);
    if (!wanted) continue;
    auto value = bluez.read_value(path);
    if (!value) continue;  // not readable now: the record keeps what it had
    ++out.read;
    const auto refuse = [&](const gatt::DecodeError& e) { out.malformed.push_back(hex16(*uuid) + ": " + e.detail); };
    if (field) {
      auto s = gatt::decode_info_string(*value);
      if (!s) refuse(s.error());
      else if (!s->empty()) set(*field, std::move(*s), out.changed);
    } else if (*uuid == gatt::uuid::kSystemId) {
      auto id = gatt::decode_system_id(*value);
      if (!id) refuse(id.error());
      else set(device.system_id, std::move(*id), out.changed);
    } else {
      auto level = gatt::decode_battery_level(*value);
      if (!level) refuse(level.error());
      else set(device.battery_percent, std::optional<int>(*level), out.changed);
    }
  }
  return out;
}

}  // namespace carehub::ble
