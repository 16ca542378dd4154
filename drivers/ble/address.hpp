#pragma once
// Names for a BLE device: its Bluetooth address, carehub's stable registry id derived from it, and
// the 16-bit SIG UUIDs inside BlueZ's 128-bit strings. Everything is keyed by address (never by name
// or model): a kit may hold two monitors of the same model with the same advertised name.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace carehub::ble {

// "aa:bb:cc:dd:ee:ff" or "AA-BB-..." -> "AA:BB:CC:DD:EE:FF"; empty when it is not an address.
std::string normalise_address(std::string_view text);
// "AA:BB:CC:DD:EE:FF" -> "ble-aa-bb-cc-dd-ee-ff" (the registry id, stable across re-pairing).
std::string device_id(std::string_view address);
// "ble-aa-bb-cc-dd-ee-ff" -> "AA:BB:CC:DD:EE:FF"; empty when `id` is not a BLE device id.
std::string address_of_id(std::string_view id);
// "0000xxxx-0000-1000-8000-00805f9b34fb" -> 0xXXXX; empty for a vendor (non-base) UUID.
std::optional<std::uint16_t> sig_uuid16(std::string_view uuid128);
// 0x1810 -> "00001810-0000-1000-8000-00805f9b34fb".
std::string uuid128(std::uint16_t uuid16);

}  // namespace carehub::ble
