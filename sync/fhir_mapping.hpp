#pragma once
// Pure mapping from stored readings and devices to FHIR R4 resources (HL7 Personal Health Device IG,
// R4 vital signs). No I/O: the uploader decides what to send and when.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/device.hpp"
#include "core/store.hpp"

namespace carehub::fhir {

inline constexpr std::string_view kIdentifierSystem = "urn:ietf:rfc:3986";
inline constexpr std::string_view kBluetoothSystem = "http://hl7.org/fhir/sid/eui-48/bluetooth";
inline constexpr std::string_view kHubSystem = "urn:carehub:hub";  // the hub's own serial/id
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

// The conditional-create query that makes a retry a no-op: "identifier=urn:ietf:rfc:3986|urn:uuid:…".
std::string observation_if_none_exist(const std::string& uid);

struct References {
  std::string sensor;  // "Device/123", or empty for manual readings
  std::string hub;     // "Device/456"
};

nlohmann::json observation(const StoredReading& stored, const References& refs);

// One resource to send and its conditional-create query.
struct ObservationEntry {
  nlohmann::json resource;
  std::string if_none_exist;
};
// Every Observation one stored reading becomes, the reading's own first: derived measurements (height,
// BMI, a BP cuff's or oximeter's pulse) follow as Observations of their own that cite the first
// (derivedFrom), each with its own deterministic identifier. The reading is synced once all are.
std::vector<ObservationEntry> observations(const StoredReading& stored, const References& refs);

// Device resources and their conditional-create queries.
// Sensor identities are unique across the fleet (design.md invariant 9): anything not globally unique by
// itself (a manual entry, an openHAB item, an MQTT topic) is qualified by the hub's id.
nlohmann::json sensor_device(const Device& d, std::string_view hub_id);
nlohmann::json hub_device(const std::string& hub_id);
std::string device_if_none_exist(const Device& d, std::string_view hub_id);
std::string hub_if_none_exist(const std::string& hub_id);

}  // namespace carehub::fhir
