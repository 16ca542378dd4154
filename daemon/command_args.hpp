#pragma once
// Arguments the attribution commands share (devices.pair/assign/unbind with user slots, readings.*):
// every value a control client sends is bounded and checked here, where it enters (design.md
// invariant 6), and who asked is taken from the socket's peer credentials, not from the client's word.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/json_check.hpp"
#include "daemon/control_server.hpp"

namespace carehub::daemon {

inline constexpr std::size_t kMaxUidsPerRequest = 1000;  // a technician's selection, not a bulk export
inline constexpr std::size_t kMaxUidBytes = 64;
inline constexpr std::size_t kMaxReasonBytes = 500;
inline constexpr std::size_t kMaxByBytes = 64;
// A user slot a device can name: 0..254 (the User Data Service index: many monitors count from 1, some
// from 0). 255 is the Bluetooth "unknown user" (0xFF): never bindable, so
// such readings always wait for a technician.
inline constexpr int kMinUserSlot = 0;
inline constexpr int kMaxUserSlot = 254;

// "Patient/<FHIR id>": the id is 1-64 of [A-Za-z0-9.-] (FHIR R4 id datatype).
bool valid_patient_reference(const std::string& ref);
std::optional<std::string> patient_arg(JsonReader& in, const nlohmann::json& args, const std::string& path,
                                       std::string_view key, bool required);
std::optional<int> user_arg(JsonReader& in, const nlohmann::json& args, const std::string& path, bool required);
// A non-empty list of distinct uids, each a short printable token; duplicates are refused (a typo).
std::optional<std::vector<std::string>> uids_arg(JsonReader& in, const nlohmann::json& args);
// Optional short text (reason, by): bounded, no control characters.
std::optional<std::string> text_arg(JsonReader& in, const nlohmann::json& args, std::string_view key, std::size_t max);

// Who did it, for the record kept with each decision: the control socket's peer (SO_PEERCRED) as
// "uid 1000 (anna)", prefixed by the name the technician gave with --by: "Anna Berg, uid 1000 (anna)".
// The uid is always kept: --by is a claim, the credentials are what the kernel vouches for.
std::string who(const PeerCred& peer, const std::string& by);

}  // namespace carehub::daemon
