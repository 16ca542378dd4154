#include "drivers/ble/agent.hpp"

#include <cstdio>

namespace carehub::ble {
namespace {
Error rejected(const std::string& why) { return make_error(Errc::invalid_argument, "org.bluez.Error.Rejected: " + why); }
}  // namespace

Result<std::uint32_t> PairingAgent::request_passkey(const std::string& path) {
  auto it = pending_.find(path);
  if (it == pending_.end()) return rejected("no pairing of " + path + " was asked for");
  if (!it->second) return rejected(path + " wants a passkey: run `carehubctl devices pair ... --passkey N`");
  return *it->second;
}

Result<std::string> PairingAgent::request_pin_code(const std::string& path) {
  auto key = request_passkey(path);
  if (!key) return key.error();
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06u", static_cast<unsigned>(*key));
  return std::string(buf);
}

Result<void> PairingAgent::request_confirmation(const std::string& path, std::uint32_t passkey) {
  auto it = pending_.find(path);
  if (it == pending_.end()) return rejected("no pairing of " + path + " was asked for");
  // Numeric comparison: with a passkey given, it must match; without one the technician vouched for
  // this device by its address (the hub cannot show a number).
  if (it->second && *it->second != passkey) return rejected("passkey does not match");
  return {};
}

Result<void> PairingAgent::request_authorization(const std::string& path) {
  if (pairing(path)) return {};
  return rejected("no pairing of " + path + " was asked for");
}

Result<void> PairingAgent::authorize_service(const std::string& path, const std::string&) {
  if (pairing(path) || (registered_ && registered_(path))) return {};
  return rejected(path + " is not a registered device");
}

void PairingAgent::display_passkey(const std::string&, std::uint32_t passkey) { displayed_ = passkey; }

}  // namespace carehub::ble
