#include "core/reading.hpp"

#include <openssl/evp.h>

#include <array>
#include <cmath>
#include <cstdio>

namespace carehub {

std::vector<Problem> problems(const Reading& r) {
  std::vector<Problem> out;
  const auto& k = info(r.kind);
  for (const auto& c : k.components) {
    if (c.required && !r.values.contains(std::string(c.name))) {
      out.push_back({"values/" + std::string(c.name), "component \"" + std::string(c.name) + "\" is required"});
    }
  }
  for (const auto& [name, value] : r.values) {
    const auto* c = find_component(r.kind, name);
    if (!c) {
      std::string known;
      for (const auto& kc : k.components) known += (known.empty() ? "" : ", ") + std::string(kc.name);
      out.push_back({"values/" + name, "unknown component \"" + name + "\" (expected one of: " + known + ")"});
      continue;
    }
    if (!std::isfinite(value) || value < c->min || value > c->max) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%s = %g %s is outside the plausible range %g..%g", name.c_str(), value,
                    std::string(c->unit).c_str(), c->min, c->max);
      out.push_back({"values/" + name, buf});
    }
  }
  // Before 2000 no carehub device existed; an effective time that early is a device clock never set.
  if (to_epoch_ms(r.time) < 946684800000LL) {
    out.push_back({"time", format_rfc3339(r.time) + " is before 2000 (a device clock that was never set?)"});
  }
  return out;
}

Result<void> validate(const Reading& r) {
  const auto found = problems(r);
  if (found.empty()) return {};
  std::string message = std::string(to_string(r.kind)) + ": ";
  for (std::size_t i = 0; i < found.size(); ++i) message += (i ? "; " : "") + found[i].message;
  return make_error(Errc::invalid_argument, message);
}

std::optional<std::string> implausible_future(const Reading& r, TimePoint received, Millis tolerance) {
  if (r.time <= received + tolerance) return std::nullopt;
  const auto ahead = std::chrono::duration_cast<std::chrono::seconds>(r.time - received).count();
  return "time " + format_rfc3339(r.time) + " is " + std::to_string(ahead) + " s after the hub received it (" +
         format_rfc3339(received) + "; tolerance " +
         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(tolerance).count()) +
         " s): a device clock set ahead?";
}

bool hardware_device_id(std::string_view id) {
  if (id.size() != 4 + 17 || !id.starts_with("ble-")) return false;
  for (std::size_t i = 4; i < id.size(); ++i) {
    const char c = id[i];
    const bool separator = (i - 4) % 3 == 2;
    if (separator ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string fleet_device_id(std::string_view device_id, std::string_view hub_id) {
  if (hub_id.empty() || hardware_device_id(device_id)) return std::string(device_id);
  return std::string(hub_id) + "/" + std::string(device_id);
}

std::string reading_uid(const Reading& r, std::string_view hub_id) {
  // %.10g: stable across JSON round trips and unit conversions, far finer than any sensor's resolution.
  // Only the device line changes with the hub, and not at all for a BLE device: a BLE reading's uid is the
  // one it had before hub ids entered, so de-duplication of a device's resent memory holds across the upgrade.
  std::string key = "carehub-reading-v1\n" + r.patient + "\n" + fleet_device_id(r.device, hub_id) + "\n" +
                    std::string(to_string(r.kind)) + "\n" + std::to_string(to_epoch_ms(r.time));
  for (const auto& [name, value] : r.values) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", value);
    key += "\n" + name + "=" + buf;
  }
  // Only while unassigned: an attributed reading's id never changed with the user slot (invariant 2).
  if (r.patient.empty() && r.user) key += "\nuser=" + std::to_string(*r.user);
  return name_uuid(key);
}

std::string name_uuid(std::string_view key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), digest.data(), &len, EVP_sha256(), nullptr);
  // Format the first 128 bits as an RFC 9562 version 8 (name-based, custom hash) UUID.
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0F) | 0x80);
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[digest[static_cast<std::size_t>(i)] >> 4];
    out += kHex[digest[static_cast<std::size_t>(i)] & 0x0F];
  }
  return out;
}

}  // namespace carehub
