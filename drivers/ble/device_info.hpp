#pragma once
// What a connected device says about itself: Device Information Service (0x180A: manufacturer, model,
// serial, firmware/hardware/software revisions, system id) and its battery (BlueZ's org.bluez.Battery1
// Percentage, else Battery Level 0x2A19). Read once per connection into the registry record, so the
// FHIR Device (the PHD IG's PhdDevice) can name the real instrument. Behind the Bluez seam: unit-tested
// with the fake.
#include <string>
#include <vector>

#include "core/device.hpp"
#include "drivers/ble/bluez.hpp"

namespace carehub::ble {

struct DeviceInfoRead {
  bool changed = false;                // a field of the record differs from what it held
  std::vector<std::string> malformed;  // "0x2A23: system id: …", one per value refused (peer input)
  std::size_t read = 0;                // characteristics answered
};

// Reads every DIS characteristic and the battery level the device at `device_path` exposes, and writes
// into `device` what decodes. A value that cannot be read (BlueZ refuses, the device went away) keeps
// what the record held; one that does not decode is listed in `malformed` and changes nothing.
// `keep_model`: the technician named the model in the configuration, which wins over the device's.
DeviceInfoRead read_device_info(Bluez& bluez, const ObjectTree& objects, const std::string& device_path,
                                Device& device, bool keep_model);

}  // namespace carehub::ble
