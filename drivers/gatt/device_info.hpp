#pragma once
// Device Information Service (0x180A) and Battery Service (0x180F): what a device says about itself,
// read once per connection. The PHD IG builds its PhdDevice (manufacturer, model, serial, versions,
// the EUI-64 system id) from these. Pure, fuzzed: a device's self-description is peer input too.
//
//   0x2A29 Manufacturer Name, 0x2A24 Model Number, 0x2A25 Serial Number, 0x2A26 Firmware Revision,
//   0x2A27 Hardware Revision, 0x2A28 Software Revision: utf8s, no length field (the value is the string;
//   devices pad with NULs or spaces).
//   0x2A23 System ID: 8 bytes = Manufacturer Identifier (uint40) then Organizationally Unique Identifier
//   (uint24), each little-endian as every GATT integer. The EUI-64 is OUI first, most significant byte
//   first: the 8 bytes read backwards.
//   0x2A19 Battery Level: uint8, percent 0..100.
#include <cstdint>
#include <span>
#include <string>

#include "drivers/gatt/result.hpp"

namespace carehub::gatt {

namespace uuid {
inline constexpr std::uint16_t kDeviceInformationService = 0x180A;
inline constexpr std::uint16_t kBatteryService = 0x180F;
inline constexpr std::uint16_t kBatteryLevel = 0x2A19;
inline constexpr std::uint16_t kSystemId = 0x2A23;
inline constexpr std::uint16_t kModelNumber = 0x2A24;
inline constexpr std::uint16_t kSerialNumber = 0x2A25;
inline constexpr std::uint16_t kFirmwareRevision = 0x2A26;
inline constexpr std::uint16_t kHardwareRevision = 0x2A27;
inline constexpr std::uint16_t kSoftwareRevision = 0x2A28;
inline constexpr std::uint16_t kManufacturerName = 0x2A29;
}  // namespace uuid

// Longest DIS string kept. Real devices send 4-32 bytes; the attribute may hold 512.
inline constexpr std::size_t kMaxInfoString = 64;

// A DIS string: trailing NULs and spaces dropped. Not valid UTF-8, a control character, or longer than
// kMaxInfoString: `malformed` (it would end up in a FHIR Device and in the technician's terminal).
// Empty after trimming is an empty string (the device has nothing to say).
Result<std::string> decode_info_string(std::span<const std::uint8_t> packet);
// System ID as an EUI-64 of 16 upper-case hex digits ("0123456789ABCDEF"); fewer than 8 bytes
// is `truncated`, bytes after them are ignored (the library's rule for every characteristic).
Result<std::string> decode_system_id(std::span<const std::uint8_t> packet);
// Battery Level in percent; above 100 is `malformed`.
Result<int> decode_battery_level(std::span<const std::uint8_t> packet);

}  // namespace carehub::gatt
