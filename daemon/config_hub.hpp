#pragma once
// The hub's identity as configured (/hub): what names this hub among every hub of a fleet uploading to one
// FHIR repository (design.md invariant 9), and what the PHD IG's PhgDevice needs that only the installation
// knows. Pure: no I/O, so config checks and tests call it freely.
#include <optional>
#include <string>
#include <string_view>

#include "core/json_check.hpp"

namespace carehub::daemon {

struct HubIdentity {
  std::string id;       // /hub/id: letters, digits, '.', '_', '-' (1..64)
  std::string patient;  // /hub/patient: "Patient/<id>"
  // /hub/system_id as 16 upper-case hex digits ("FEEDABEEDEAD77C3"), or derived from the id when absent.
  std::string system_id;
  bool system_id_derived = true;
  // /hub/time_sync: how the hub's own clock is kept, as the IG's MDCTimeSyncMethods code.
  std::string time_sync = "sntpv4330";
  int time_sync_mdc = 532228;  // MDC_TIME_SYNC_SNTPV4330: systemd-timesyncd, Debian's default, is an SNTP client
};

// Reads /hub (an object); problems go to `in` under "/hub/...". Fields that fail keep their defaults.
HubIdentity read_hub_identity(const nlohmann::json& hub, JsonReader& in);

// An EUI-64 written as 16 hex digits, bare or as 8 pairs joined by '-' or ':' (either case), as 16
// upper-case hex digits; empty when `text` is not one.
std::string normalize_eui64(std::string_view text);
// The system id of a hub that has none configured: the first 8 bytes of SHA-256("carehub-hub-eui64\n" + id)
// with the first octet's U/L bit set and I/G bit cleared, i.e. a locally administered individual EUI-64.
// Deterministic (the same id gives the same system id after every reinstall) and, being locally
// administered, never equal to an IEEE-assigned EUI-64 of a real device.
std::string derive_system_id(std::string_view hub_id);
// "FEEDABEEDEAD77C3" -> "FE-ED-AB-EE-DE-AD-77-C3": the IG's form of identifier[systemIdIdentifier].value.
std::string dashed_eui64(std::string_view sixteen_hex);

// The MDCTimeSyncMethods code for a /hub/time_sync name, or nothing for an unknown name.
std::optional<int> time_sync_mdc(std::string_view name);
// "none, ntpv3, …": the names time_sync_mdc knows, for error messages.
std::string time_sync_names();

}  // namespace carehub::daemon
