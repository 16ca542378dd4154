#pragma once
// The headless pairing agent's policy. A hub has no screen and no keyboard: it accepts a pairing
// request only for the device a technician is pairing right now (`carehubctl devices pair`), answers a
// passkey request with the passkey the technician typed (printed on the device's label or display),
// and refuses everything else, so a stranger's device cannot pair itself to a patient's hub.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "drivers/ble/bluez.hpp"

namespace carehub::ble {

class PairingAgent final : public AgentHandler {
 public:
  // `registered(path)`: whether the device at `path` is already in the registry (it may re-authorize).
  explicit PairingAgent(std::function<bool(const std::string&)> registered) : registered_(std::move(registered)) {}

  // A technician pairs the device at `path` now; `passkey` when one was given.
  void expect(const std::string& path, std::optional<std::uint32_t> passkey) { pending_[path] = passkey; }
  void done(const std::string& path) { pending_.erase(path); }
  bool pairing(const std::string& path) const { return pending_.count(path) != 0; }
  // The last passkey a device asked us to display (DisplayPasskey), for the technician.
  std::optional<std::uint32_t> displayed() const { return displayed_; }

  Result<std::uint32_t> request_passkey(const std::string& device_path) override;
  Result<std::string> request_pin_code(const std::string& device_path) override;
  Result<void> request_confirmation(const std::string& device_path, std::uint32_t passkey) override;
  Result<void> request_authorization(const std::string& device_path) override;
  Result<void> authorize_service(const std::string& device_path, const std::string& uuid) override;
  void display_passkey(const std::string& device_path, std::uint32_t passkey) override;
  void cancel() override {}

 private:
  std::function<bool(const std::string&)> registered_;
  std::map<std::string, std::optional<std::uint32_t>> pending_;
  std::optional<std::uint32_t> displayed_;
};

}  // namespace carehub::ble
