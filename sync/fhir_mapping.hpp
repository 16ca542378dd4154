#pragma once
// Pure mapping from stored readings and devices to FHIR R4 resources (HL7 Personal Health Device IG,
// R4 vital signs). No I/O: the uploader decides what to send and when.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/device.hpp"
#include "store/store.hpp"

namespace carehub::fhir {

inline constexpr std::string_view kIdentifierSystem = "urn:ietf:rfc:3986";
inline constexpr std::string_view kBluetoothSystem = "http://hl7.org/fhir/sid/eui-48/bluetooth";
inline constexpr std::string_view kHubSystem = "urn:carehub:hub";  // the hub's own serial/id
// The PHD IG's conditional-create identifier system (PhdBaseObservation, identifier[conditionalCreate]).
inline constexpr std::string_view kPhdIdentifierSystem = "http://hl7.org/fhir/uv/phd/StructureDefinition/PhdBaseObservation";
inline constexpr std::string_view kGatewayExtension = "http://hl7.org/fhir/StructureDefinition/observation-gatewayDevice";
// Home-environment kinds are not vital signs and have no LOINC code; they use carehub's own system.
inline constexpr std::string_view kLocalCodeSystem = "urn:carehub:fhir:CodeSystem:home-environment";

// One value made safe for a FHIR search URL (a conditional create's query): FHIR search escaping first
// (`\`, `|`, `,`, `$` get a backslash, so they are data, not separators), then percent-encoding of every
// byte but the unreserved characters and `:` `/` (so `&`, `#`, `=`, `%`, `+`, spaces cannot end or
// change the query). Ordinary identifiers ("urn:uuid:…", "hub-0001") come out unchanged.
std::string search_value(std::string_view value);
// "identifier=<system>|<value>", each part escaped by search_value: a token search on one identifier.
std::string identifier_query(std::string_view system, std::string_view value);

// "urn:uuid:<uid>": the Observation's deterministic identifier value.
std::string observation_identifier(const std::string& uid);

// The conditional-create query on the urn:uuid identifier: "identifier=urn:ietf:rfc:3986|urn:uuid:…". Every
// Observation carries it first and is created on it (observations() gives each entry's query); the PHD IG's
// identifier, carried beside it, has no values in it and would merge two records of one device second.
std::string observation_if_none_exist(const std::string& uid);

// The v3 interpretation of a value outside a patient's bands (HL7 ObservationInterpretation L, LL, H, HH).
enum class Flag { low, critical_low, high, critical_high };
// The rules' band names ("extreme_low", "low", "high", "extreme_high") as flags; "optimal" and unknown: none.
std::optional<Flag> flag_from_band(std::string_view band);

struct References {
  std::string sensor;  // "Device/123", or empty for manual readings
  std::string hub;     // "Device/456"
  // The sensor's registry entry when it is known. A PHD (phd_device()) makes the Observations claim the PHD
  // IG profiles, carry its identifier and a coincident timestamp; without one they claim vital signs only.
  const Device* device = nullptr;
  // Components the decision-support rules judged outside the patient's bands ("systolic" → high): evidence
  // of an alert, flagged so an ordinary dashboard shows it. Filled by the uploader; empty: no flags.
  std::map<std::string, Flag> flags{};
};

// The reading's own Observation (see observations() for all it becomes).
nlohmann::json observation(const StoredReading& stored, const References& refs);

// One resource to send and its conditional-create query.
struct ObservationEntry {
  nlohmann::json resource;
  std::string if_none_exist;
};
// Every Observation one stored reading becomes, the reading's own first: derived measurements (height,
// BMI, a BP cuff's or oximeter's pulse) follow as Observations of their own that cite the first
// (derivedFrom, a logical reference by identifier: batch entries cannot reference each other), each with
// its own deterministic identifier; last, for a PHD reading with a device time, the coincident-timestamp
// Observation that relates the device's clock to the hub's. The reading is synced once all are.
std::vector<ObservationEntry> observations(const StoredReading& stored, const References& refs);

// Device resources and their conditional-create queries.
// Sensor identities are unique across the fleet (design.md invariant 9): anything not globally unique by
// itself (a manual entry, an openHAB item, an MQTT topic) is qualified by the hub's id ("hub-0001/manual");
// a BLE device's own id ("ble-aa-bb-cc-dd-ee-ff", from its address) names one physical device already.
// core's carehub::fleet_device_id, the rule reading_uid uses too.
std::string fleet_device_id(std::string_view device_id, std::string_view hub_id);
// A Personal Health Device as the PHD IG means it: a BLE device with its address or system id, whose Device
// Information Service gave manufacturer and model (PhdDevice requires both). Its Device claims PhdDevice
// and its Observations the PHD profiles.
bool phd_device(const Device& d);
nlohmann::json sensor_device(const Device& d, std::string_view hub_id);
std::string device_if_none_exist(const Device& d, std::string_view hub_id);

// The hub as the PHD IG's PhgDevice: type MDC 531981, its EUI-64 system id (16 hex digits, sent dashed;
// empty: identified by the hub id only and not claimed as PhgDevice), the specializations it relays,
// carehub's version and how its clock is set (an MDC_TIME_SYNC_* code from MDCTimeSyncMethods; 0: none
// stated). The conditional create stays on urn:carehub:hub|<hub id>.
nlohmann::json hub_device(const std::string& hub_id, std::string_view system_id = {}, int time_sync_mdc = 0);
std::string hub_if_none_exist(const std::string& hub_id);

// A Bluetooth address (12 hex digits) / an EUI-64 system id (16), with ':' or '-' separators or none. Only
// valid ones become identifiers (a malformed one is left out, never sent empty or truncated).
bool valid_address(std::string_view address);
bool valid_system_id(std::string_view system_id);

// "FE-ED-AB-EE-DE-AD-77-C3" from "FEEDABEEDEAD77C3" (EUI-64) or "AA:BB:CC:DD:EE:FF" (EUI-48): the PHD IG's
// form of both, upper-case hex pairs joined by dashes.
std::string dashed_hex(std::string_view id);

}  // namespace carehub::fhir
