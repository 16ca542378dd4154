// The Manager's adapter side: finding bluetoothd and the adapter, powering it, keeping discovery on, and
// recovering from each going away (a resync paced by the jittered backoff of core/backoff.hpp). Split
// from manager.cpp (BlueZ's signals, deadlines); sessions: manager_session.cpp.
#include "drivers/ble/manager.hpp"

#include <algorithm>

#include "core/backoff.hpp"

namespace carehub::ble {
namespace {

constexpr std::string_view kLog = "ble";

}  // namespace

std::chrono::milliseconds Manager::backoff(int failures) const {
  // Full jitter: hubs (and devices) that lost the same adapter or bluetoothd do not retry in lockstep.
  return backoff_delay(BackoffPolicy{config_.backoff_base, config_.backoff_cap}, failures, draw_());
}

void Manager::schedule_resync() { resync_at_ = now() + backoff(std::max(adapter_failures_, 1)); }

void Manager::lost(const std::string& why) {
  if (adapter_state_ != why) context_.log.warning(kLog, "bluez-lost", {{"error", why}});
  bluez_present_ = bluez_.bluez_present();
  adapter_present_ = false;
  powered_ = false;
  discovering_ = false;
  adapter_state_ = why;
  objects_.clear();
  for (auto& [address, d] : devices_) {
    d.path.clear();
    d.subscribed.clear();
    d.state = SessionState::absent;
    if (d.uds.in_flight()) d.uds.fail_all("interrupted: " + why);  // queued ones wait for a reconnect
    d.uds.reset_current();
  }
  auto pairing = std::move(pairing_);
  pairing_.clear();
  for (auto& [path, done] : pairing) {
    agent_.done(path);
    done(make_error(Errc::unavailable, "pairing interrupted: " + why));
  }
}

void Manager::resync() {
  resync_at_.reset();
  if (!bluez_.bluez_present()) {
    agent_registered_ = false;
    lost("bluetoothd is not running (no org.bluez on the bus)");
    ++adapter_failures_;
    schedule_resync();  // NameOwnerChanged normally wakes us first; this is the safety net
    return;
  }
  bluez_present_ = true;
  auto tree = bluez_.managed_objects();
  if (!tree) {
    ++adapter_failures_;
    adapter_state_ = "cannot list BlueZ objects: " + tree.error().message;
    context_.log.warning(kLog, "bluez-objects-unlisted", {{"error", tree.error().message}});
    schedule_resync();
    return;
  }
  objects_ = std::move(*tree);
  if (!agent_registered_) {
    if (auto r = bluez_.register_agent(agent_); r) agent_registered_ = true;
    else context_.log.warning(kLog, "agent-not-registered", {{"error", r.error().message}});
  }
  auto adapter = objects_.find(adapter_path());
  if (adapter == objects_.end() || !adapter->second.count(std::string(kAdapterInterface))) {
    const auto why = "adapter " + config_.adapter + " not found";
    lost(why);
    bluez_present_ = true;
    ++adapter_failures_;
    schedule_resync();
    return;
  }
  adapter_present_ = true;
  const auto& props = adapter->second[std::string(kAdapterInterface)];
  powered_ = get_bool(props, "Powered").value_or(false);
  discovering_ = get_bool(props, "Discovering").value_or(false);
  if (!powered_) {
    // rfkill or a technician may have switched it off; ask once per resync, the Powered signal follows.
    if (auto r = bluez_.set_powered(adapter_path(), true); !r) {
      adapter_state_ = "adapter " + config_.adapter + " is powered off: " + r.error().message;
      ++adapter_failures_;
      schedule_resync();
      return;
    }
    powered_ = true;
  }
  ensure_discovery();
  for (auto& [address, d] : devices_) {
    d.path = path_of_address(address).value_or("");
    if (d.path.empty()) {
      d.state = SessionState::absent;
      continue;
    }
    if (d.state == SessionState::absent) d.state = SessionState::idle;
    evaluate(d);
  }
}

void Manager::ensure_discovery() {
  if (!adapter_present_ || !powered_ || discovering_) {
    if (adapter_present_ && powered_) adapter_state_ = "ready";
    return;
  }
  // SetDiscoveryFilter must come first: BlueZ applies the filter when a discovery session starts.
  auto filter = bluez_.set_discovery_filter(adapter_path(), config_.filter);
  auto started = filter ? bluez_.start_discovery(adapter_path()) : Result<void>(filter.error());
  if (!started) {
    ++adapter_failures_;
    adapter_state_ = is_in_progress(started.error())
                         ? "adapter busy (" + started.error().message + "), retrying discovery"
                         : "discovery failed: " + started.error().message;
    context_.log.rate_limited(LogLevel::warning, kLog, "ble:discovery", "discovery-failed",
                              {{"adapter", config_.adapter}, {"error", adapter_state_}});
    schedule_resync();
    return;
  }
  discovering_ = true;
  adapter_failures_ = 0;
  adapter_state_ = "ready";
}

void Manager::on_bluez_owner(bool present) {
  if (!present) {
    agent_registered_ = false;  // a restarted bluetoothd knows no agents; an adapter coming back keeps them
    lost("bluetoothd stopped (org.bluez left the bus)");
    return;
  }
  context_.log.notice(kLog, "bluez-appeared");  // finds the adapter and devices again
  adapter_failures_ = 0;
  resync();
}

}  // namespace carehub::ble
