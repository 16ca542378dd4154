// Devices → Device resources: a sensor (PhdDevice when it is a Personal Health Device) and the hub
// (PhgDevice). The rules are the PHD IG's (STU 2) StructureDefinition.PhdDevice.fsh / PhgDevice.fsh.
#include "sync/fhir_codes.hpp"
#include "sync/fhir_mapping.hpp"

#ifndef CAREHUB_VERSION
#define CAREHUB_VERSION "unknown"
#endif

namespace carehub::fhir {
namespace {

using nlohmann::json;
namespace c = codes;

constexpr std::string_view kDeviceSystem = "urn:carehub:device";
constexpr std::string_view kIdentifierTypes = "http://terminology.hl7.org/CodeSystem/ContinuaDeviceIdentifiers";
constexpr std::string_view kSystemIdSystem = "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680";  // EUI-64 system id

json coding(const c::Code& code) { return {{"system", code.system}, {"code", code.code}, {"display", code.display}}; }
json codeable(const c::Code& code) { return {{"coding", json::array({coding(code)})}}; }

json typed_identifier(std::string_view type, std::string_view display, std::string_view system, const std::string& value) {
  return {{"type", codeable({kIdentifierTypes, type, display})}, {"system", system}, {"value", value}};
}

json system_id_identifier(std::string_view system_id) {
  return typed_identifier("SYSID", "IEEE 11073 System Identifier", kSystemIdSystem, dashed_hex(system_id));
}

json version(std::string_view mdc, std::string_view display, const std::string& value) {
  return {{"type", codeable({c::kMdc, mdc, display})}, {"value", value}};
}

std::string_view time_sync_display(int mdc) {
  switch (mdc) {
    case 532224: return "MDC_TIME_SYNC_NONE";
    case 532225: return "MDC_TIME_SYNC_NTPV3";
    case 532226: return "MDC_TIME_SYNC_NTPV4";
    case 532227: return "MDC_TIME_SYNC_SNTPV4";
    case 532228: return "MDC_TIME_SYNC_SNTPV4330";
    case 532229: return "MDC_TIME_SYNC_BTV1";
    case 532230: return "MDC_TIME_SYNC_RADIO";
    case 532236: return "MDC_TIME_SYNC_OTHER";
    case 532238: return "MDC_TIME_SYNC_GPS";
    default: return "";
  }
}

// A Bluetooth address (12 hex digits) or an EUI-64 system id (16), in any separator style: the driver and
// the configuration check them, but a malformed one must not become an empty or wrong identifier here.
bool eui(std::string_view id, std::size_t digits) {
  std::size_t n = 0;
  for (const char ch : id) {
    const bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
    if (hex) ++n;
    else if (ch != ':' && ch != '-') return false;
  }
  return n == digits;
}

}  // namespace

bool valid_address(std::string_view address) { return eui(address, 12); }
bool valid_system_id(std::string_view system_id) { return eui(system_id, 16); }

bool phd_device(const Device& d) {
  const bool identified = valid_address(d.address) || valid_system_id(d.system_id);
  const bool versioned = !d.firmware_revision.empty() || !d.hardware_revision.empty() || !d.software_revision.empty();
  return identified && !d.manufacturer.empty() && !d.model.empty() && versioned;
}

json sensor_device(const Device& d, std::string_view hub_id) {
  json identifiers = json::array({{{"system", kDeviceSystem}, {"value", fleet_device_id(d.id, hub_id)}}});
  if (valid_system_id(d.system_id)) identifiers.push_back(system_id_identifier(d.system_id));
  if (valid_address(d.address)) {
    identifiers.push_back(typed_identifier("BTMAC", "Bluetooth MAC address", kBluetoothSystem, dashed_hex(d.address)));
  }
  json dev = {{"resourceType", "Device"}, {"identifier", std::move(identifiers)}, {"status", "active"}};
  if (!d.serial.empty()) dev["serialNumber"] = d.serial;
  if (!d.model.empty()) dev["modelNumber"] = d.model;
  if (!d.manufacturer.empty()) dev["manufacturer"] = d.manufacturer;
  if (!d.name.empty()) dev["deviceName"] = json::array({{{"name", d.name}, {"type", "user-friendly-name"}}});
  json versions = json::array();
  if (!d.hardware_revision.empty()) versions.push_back(version("531974", "MDC_ID_PROD_SPEC_HW", d.hardware_revision));
  if (!d.software_revision.empty()) versions.push_back(version("531975", "MDC_ID_PROD_SPEC_SW", d.software_revision));
  if (!d.firmware_revision.empty()) versions.push_back(version("531976", "MDC_ID_PROD_SPEC_FW", d.firmware_revision));
  if (!versions.empty()) dev["version"] = std::move(versions);
  if (phd_device(d)) {
    dev["meta"] = {{"profile", json::array({std::string(c::kPhdProfiles) + "PhdDevice"})}};
    dev["type"] = codeable({c::kMdc, "65573", "MDC_MOC_VMS_MDS_SIMP"});
    // A Bluetooth SIG profile device is mapped as if it implemented the specialization at version 1
    // (the PHD IG's "Non-11073 PHD devices"; the Bluetooth transcoding white paper).
    dev["specialization"] = json::array({{{"systemType", codeable(c::specialization(d.category))}, {"version", "1"}}});
  }
  return dev;
}

// Device ids come from peers (an MQTT topic, a reading's "device"): escaped, or "a|b&identifier=…" would
// search for something else and the conditional create could match another resource.
std::string device_if_none_exist(const Device& d, std::string_view hub_id) {
  return identifier_query(kDeviceSystem, fleet_device_id(d.id, hub_id));
}

json hub_device(const std::string& hub_id, std::string_view system_id, int time_sync_mdc) {
  json identifiers = json::array({{{"system", kHubSystem}, {"value", hub_id}}});
  if (valid_system_id(system_id)) identifiers.push_back(system_id_identifier(system_id));
  json specializations = json::array();
  for (const auto* category : {"blood-pressure", "pulse-oximeter", "thermometer", "scale", "glucose-meter", "heart-rate"}) {
    specializations.push_back({{"systemType", codeable(c::specialization(category))}});
  }
  json dev = {{"resourceType", "Device"},
              {"identifier", std::move(identifiers)},
              {"status", "active"},
              {"type", codeable({c::kMdc, "531981", "MDC_MOC_VMS_MDS_AHD"})},
              {"deviceName", json::array({{{"name", "carehub " + hub_id}, {"type", "user-friendly-name"}}})},
              {"modelNumber", "carehubd"},
              {"specialization", std::move(specializations)},
              {"version", json::array({version("531975", "MDC_ID_PROD_SPEC_SW", CAREHUB_VERSION)})}};
  // The PHD IG requires a PHG's system id; without one the hub is still a Device, but not claimed a PhgDevice.
  if (valid_system_id(system_id)) dev["meta"] = {{"profile", json::array({std::string(c::kPhdProfiles) + "PhgDevice"})}};
  if (time_sync_mdc != 0) {
    json sync = {{"system", c::kMdc}, {"code", std::to_string(time_sync_mdc)}};
    if (const auto display = time_sync_display(time_sync_mdc); !display.empty()) sync["display"] = display;
    dev["property"] = json::array({{{"type", codeable({c::kMdc, "68220", "MDC_TIME_SYNC_PROTOCOL"})},
                                    {"valueCode", json::array({{{"coding", json::array({sync})}}})}}});
  }
  return dev;
}

std::string hub_if_none_exist(const std::string& hub_id) { return identifier_query(kHubSystem, hub_id); }

}  // namespace carehub::fhir
