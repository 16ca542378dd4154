#include "daemon/config_hub.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>

namespace carehub::daemon {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

struct TimeSync {
  std::string_view name;
  int mdc;
};
// The HL7 PHD IG's MDCTimeSyncMethods value set (urn:iso:std:iso:11073:10101), by the names a technician
// recognises. The bluetooth, HL7 NCK, CDMA/GSM, EBWW and USB SOF methods do not keep a Linux hub's clock.
constexpr std::array kTimeSync{
    TimeSync{"none", 532224},       // MDC_TIME_SYNC_NONE: nothing sets the clock
    TimeSync{"ntpv3", 532225},      // MDC_TIME_SYNC_NTPV3
    TimeSync{"ntpv4", 532226},      // MDC_TIME_SYNC_NTPV4: chrony, ntpd
    TimeSync{"sntpv4", 532227},     // MDC_TIME_SYNC_SNTPV4 (RFC 2030)
    TimeSync{"sntpv4330", 532228},  // MDC_TIME_SYNC_SNTPV4330 (RFC 4330): systemd-timesyncd
    TimeSync{"radio", 532230},      // MDC_TIME_SYNC_RADIO: a DCF77/MSF/WWVB receiver
    TimeSync{"gps", 532238},        // MDC_TIME_SYNC_GPS
    TimeSync{"other", 532236},      // MDC_TIME_SYNC_OTHER
};

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string normalize_eui64(std::string_view text) {
  std::string out;
  if (text.size() == 16) {
    for (const char c : text) {
      if (hex_value(c) < 0) return {};
      out += kHex[hex_value(c)];
    }
    return out;
  }
  // 8 pairs and 7 separators, all the same one.
  if (text.size() != 23 || (text[2] != '-' && text[2] != ':')) return {};
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i % 3 == 2) {
      if (text[i] != text[2]) return {};
      continue;
    }
    if (hex_value(text[i]) < 0) return {};
    out += kHex[hex_value(text[i])];
  }
  return out;
}

std::string derive_system_id(std::string_view hub_id) {
  const std::string key = "carehub-hub-eui64\n" + std::string(hub_id);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), digest.data(), &len, EVP_sha256(), nullptr);
  // Locally administered (U/L = 1), individual (I/G = 0): see the header.
  digest[0] = static_cast<unsigned char>((digest[0] & 0xFC) | 0x02);
  std::string out;
  for (std::size_t i = 0; i < 8; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0F];
  }
  return out;
}

std::string dashed_eui64(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    if (i) out += '-';
    out += hex.substr(i, 2);
  }
  return out;
}

std::optional<int> time_sync_mdc(std::string_view name) {
  for (const auto& t : kTimeSync) {
    if (t.name == name) return t.mdc;
  }
  return std::nullopt;
}

std::string time_sync_names() {
  std::string out;
  for (const auto& t : kTimeSync) out += (out.empty() ? "" : ", ") + std::string(t.name);
  return out;
}

HubIdentity read_hub_identity(const nlohmann::json& hub, JsonReader& in) {
  HubIdentity h;
  in.only_keys(hub, "/hub", {"id", "patient", "system_id", "time_sync"});
  if (auto v = in.string(hub, "/hub", "id", true)) {
    // The id is the hub's name across the fleet: in FHIR identifiers ("urn:carehub:hub|<id>", and before each
    // local device id as "<id>/<device>"), in MQTT topics ("carehub/<id>/alerts") and client ids. A '/' would
    // make "<id>/<device>" ambiguous, '+' or '#' would be MQTT wildcards, and spaces or '|' trip search URLs.
    if (v->empty()) {
      in.fail("/hub/id", "must not be empty");
    } else if (v->size() > 64 || !std::all_of(v->begin(), v->end(), id_char)) {
      in.fail("/hub/id", "expected 1 to 64 letters, digits, '.', '_' or '-' (it names the hub in FHIR identifiers "
                         "and MQTT topics), found \"" + *v + "\"");
    }
    h.id = *v;
  }
  if (auto v = in.string(hub, "/hub", "patient", true)) {
    if (!v->starts_with("Patient/") || v->size() == 8) {
      in.fail("/hub/patient", "expected a FHIR reference like \"Patient/123\", found \"" + *v + "\"");
    }
    h.patient = *v;
  }
  if (auto v = in.string(hub, "/hub", "system_id", false)) {
    const auto eui = normalize_eui64(*v);
    if (eui.empty()) {
      in.fail("/hub/system_id", "expected an EUI-64: 16 hex digits, bare or in pairs joined by '-' or ':' "
                                "(e.g. \"FE-ED-AB-EE-DE-AD-77-C3\"), found \"" + *v + "\"");
    } else if (eui == "0000000000000000") {
      // The IG's placeholder for a device without a system id: every hub given it would share one identity.
      in.fail("/hub/system_id", "00-00-00-00-00-00-00-00 means \"no system id\"; leave /hub/system_id out and one is "
                                "derived from /hub/id");
    } else if (hex_value(eui[1]) & 1) {
      in.fail("/hub/system_id", "\"" + *v + "\" is a group (multicast) EUI-64: its first octet's lowest bit is set; "
                                "a hub's system id names one device");
    } else {
      h.system_id = eui;
      h.system_id_derived = false;
    }
  }
  if (h.system_id.empty()) h.system_id = derive_system_id(h.id);
  if (auto v = in.string(hub, "/hub", "time_sync", false)) {
    if (auto mdc = time_sync_mdc(*v)) {
      h.time_sync = *v;
      h.time_sync_mdc = *mdc;
    } else {
      in.fail("/hub/time_sync", "expected one of: " + time_sync_names() + ", found \"" + *v + "\"");
    }
  }
  return h;
}

}  // namespace carehub::daemon
