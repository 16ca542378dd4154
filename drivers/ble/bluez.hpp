#pragma once
// The seam between the BLE driver's logic and BlueZ. The logic (manager.hpp) sees only this small
// interface and carehub::Result; the sd-bus adapter (sdbus_bluez.cpp) implements it and is the only
// place that knows sdbus-c++, so sdbus::Error never escapes it. Unit tests drive the logic through a
// fake implementation.
//
// Threading: one driver thread owns a Bluez and calls everything on it; events and async completions
// are delivered on that same thread (from Bluez::dispatch), never concurrently.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/result.hpp"

namespace carehub::ble {

inline constexpr std::string_view kAdapterInterface = "org.bluez.Adapter1";
inline constexpr std::string_view kDeviceInterface = "org.bluez.Device1";
inline constexpr std::string_view kServiceInterface = "org.bluez.GattService1";
inline constexpr std::string_view kCharacteristicInterface = "org.bluez.GattCharacteristic1";
inline constexpr std::string_view kBatteryInterface = "org.bluez.Battery1";

// A D-Bus property value reduced to the shapes BlueZ uses for what the driver reads. Integers of every
// width become int64; object paths become strings; anything else is monostate (ignored).
using Value = std::variant<std::monostate, bool, std::int64_t, std::string, std::vector<std::string>,
                           std::vector<std::uint8_t>>;
using Properties = std::map<std::string, Value>;      // property name -> value
using Interfaces = std::map<std::string, Properties>;  // interface name -> its properties
using ObjectTree = std::map<std::string, Interfaces>;  // object path -> interfaces

// Typed look-ups that tolerate a missing or differently typed property (BlueZ versions differ).
std::optional<bool> get_bool(const Properties& p, const std::string& name);
std::optional<std::int64_t> get_int(const Properties& p, const std::string& name);
std::optional<std::string> get_string(const Properties& p, const std::string& name);
std::vector<std::string> get_strings(const Properties& p, const std::string& name);
std::optional<std::vector<std::uint8_t>> get_bytes(const Properties& p, const std::string& name);

// What org.bluez.Adapter1.SetDiscoveryFilter receives.
struct DiscoveryFilter {
  std::string transport = "le";
  std::optional<std::int16_t> rssi;
  std::vector<std::string> uuids;  // 128-bit service UUIDs; empty = all
  bool duplicate_data = true;      // report every advertisement (RSSI updates = "device is here")
};

// A BlueZ error name such as "org.bluez.Error.InProgress" is kept at the start of Error::message, so
// the logic can tell busy from broken without knowing D-Bus.
bool is_in_progress(const Error& e);     // InProgress, or an operation already running
bool is_already_done(const Error& e);    // AlreadyExists / AlreadyConnected: the goal already holds

// Decisions a pairing agent (org.bluez.Agent1) must take. Answered on the driver thread, at once.
class AgentHandler {
 public:
  virtual ~AgentHandler() = default;
  virtual Result<std::uint32_t> request_passkey(const std::string& device_path) = 0;
  virtual Result<std::string> request_pin_code(const std::string& device_path) = 0;
  virtual Result<void> request_confirmation(const std::string& device_path, std::uint32_t passkey) = 0;
  virtual Result<void> request_authorization(const std::string& device_path) = 0;
  virtual Result<void> authorize_service(const std::string& device_path, const std::string& uuid) = 0;
  virtual void display_passkey(const std::string& device_path, std::uint32_t passkey) = 0;
  virtual void cancel() = 0;
};

// What the bus reports, delivered from Bluez::dispatch().
class BluezEvents {
 public:
  virtual ~BluezEvents() = default;
  // bluetoothd (the org.bluez name) appeared or vanished (NameOwnerChanged).
  virtual void on_bluez_owner(bool present) = 0;
  virtual void on_interfaces_added(const std::string& path, const Interfaces& added) = 0;
  virtual void on_interfaces_removed(const std::string& path, const std::vector<std::string>& interfaces) = 0;
  virtual void on_properties_changed(const std::string& path, const std::string& interface,
                                     const Properties& changed) = 0;
};

using Done = std::function<void(Result<void>)>;

class Bluez {
 public:
  virtual ~Bluez() = default;

  // Subscribes to NameOwnerChanged, InterfacesAdded/Removed and PropertiesChanged. Signals are matched
  // before anything is read, so nothing that happens between the read and the subscription is lost.
  virtual Result<void> subscribe(BluezEvents& events) = 0;
  // Handles whatever arrived; returns when nothing is left. Event and Done callbacks run in here.
  virtual void dispatch() = 0;
  // Waits until the bus has something to dispatch, `wake_fd` is readable, or `timeout` passes.
  virtual void wait(int wake_fd, std::chrono::milliseconds timeout) = 0;

  // False once the bus connection itself broke (dbus-daemon restarted): the driver opens a new one.
  virtual bool bus_ok() const = 0;
  virtual bool bluez_present() = 0;
  virtual Result<ObjectTree> managed_objects() = 0;

  virtual Result<void> set_discovery_filter(const std::string& adapter, const DiscoveryFilter& filter) = 0;
  virtual Result<void> start_discovery(const std::string& adapter) = 0;
  virtual Result<void> stop_discovery(const std::string& adapter) = 0;
  virtual Result<void> set_powered(const std::string& adapter, bool powered) = 0;
  virtual Result<void> remove_device(const std::string& adapter, const std::string& device) = 0;

  // Connect and Pair take seconds on real radios and Pair calls our agent back meanwhile: both are
  // asynchronous so the driver thread keeps serving the agent and the other devices.
  virtual void connect(const std::string& device, Done done) = 0;
  virtual void pair(const std::string& device, Done done) = 0;
  virtual Result<void> disconnect(const std::string& device) = 0;
  virtual Result<void> set_trusted(const std::string& device, bool trusted) = 0;

  virtual Result<void> start_notify(const std::string& characteristic) = 0;
  virtual Result<void> write_value(const std::string& characteristic, const std::vector<std::uint8_t>& value) = 0;
  virtual Result<std::vector<std::uint8_t>> read_value(const std::string& characteristic) = 0;

  // Exports org.bluez.Agent1 (answered by `handler`) and makes it the default agent.
  virtual Result<void> register_agent(AgentHandler& handler) = 0;
};

// Opens the system bus ($DBUS_SYSTEM_BUS_ADDRESS honoured) and wraps it. Fails when there is no bus.
Result<std::unique_ptr<Bluez>> connect_system_bus();

}  // namespace carehub::ble
