// The sdbus-c++ adapter behind the Bluez seam. Every sdbus call is wrapped here and an sdbus::Error
// becomes a carehub::Error on the spot ("org.bluez.Error.InProgress: ..." keeps BlueZ's error name
// first, so the logic can tell busy from broken). Nothing in here decides anything.
#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <memory>

#include "drivers/ble/bluez.hpp"

namespace carehub::ble {
namespace {

constexpr const char* kBluezName = "org.bluez";
constexpr const char* kObjectManager = "org.freedesktop.DBus.ObjectManager";
constexpr const char* kProperties = "org.freedesktop.DBus.Properties";
constexpr const char* kAgentPath = "/org/carehub/agent";
constexpr const char* kAgentInterface = "org.bluez.Agent1";
constexpr auto kCallTimeout = std::chrono::seconds(10);
constexpr auto kConnectTimeout = std::chrono::seconds(40);  // BlueZ's own LE connect gives up before this
constexpr auto kPairTimeout = std::chrono::seconds(90);     // a technician typing a passkey

Error to_error(const sdbus::Error& e) {
  const auto& name = e.getName();
  Errc code = Errc::io;
  if (name == "org.freedesktop.DBus.Error.NoReply" || name == "org.freedesktop.DBus.Error.Timeout" ||
      name == "org.freedesktop.DBus.Error.TimedOut") {
    code = Errc::timeout;
  } else if (name == "org.freedesktop.DBus.Error.ServiceUnknown" || name == "org.freedesktop.DBus.Error.NameHasNoOwner" ||
             name == "org.bluez.Error.InProgress" || name == "org.bluez.Error.NotReady" ||
             name == "org.bluez.Error.NotConnected") {
    code = Errc::unavailable;
  } else if (name == "org.freedesktop.DBus.Error.UnknownObject" || name == "org.bluez.Error.DoesNotExist") {
    code = Errc::not_found;
  }
  return make_error(code, name + ": " + e.getMessage());
}

Value to_value(const sdbus::Variant& v) {
  try {
    const auto type = v.peekValueType();
    if (type == "b") return v.get<bool>();
    if (type == "y") return static_cast<std::int64_t>(v.get<std::uint8_t>());
    if (type == "n") return static_cast<std::int64_t>(v.get<std::int16_t>());
    if (type == "q") return static_cast<std::int64_t>(v.get<std::uint16_t>());
    if (type == "i") return static_cast<std::int64_t>(v.get<std::int32_t>());
    if (type == "u") return static_cast<std::int64_t>(v.get<std::uint32_t>());
    if (type == "x") return v.get<std::int64_t>();
    if (type == "t") return static_cast<std::int64_t>(v.get<std::uint64_t>());
    if (type == "s") return v.get<std::string>();
    if (type == "o") return std::string(v.get<sdbus::ObjectPath>());
    if (type == "as") return v.get<std::vector<std::string>>();
    if (type == "ay") return v.get<std::vector<std::uint8_t>>();
  } catch (const sdbus::Error&) {
    // A value that does not deserialise as its signature says: treat as absent.
  }
  return std::monostate{};
}

Properties to_properties(const std::map<std::string, sdbus::Variant>& in) {
  Properties out;
  for (const auto& [k, v] : in) out[k] = to_value(v);
  return out;
}

Interfaces to_interfaces(const std::map<std::string, std::map<std::string, sdbus::Variant>>& in) {
  Interfaces out;
  for (const auto& [iface, props] : in) out[iface] = to_properties(props);
  return out;
}

[[noreturn]] void reject(const Error& e) {
  throw sdbus::Error("org.bluez.Error.Rejected", e.message);
}

class SdbusBluez final : public Bluez {
 public:
  explicit SdbusBluez(std::unique_ptr<sdbus::IConnection> connection) : connection_(std::move(connection)) {}

  ~SdbusBluez() override {
    // Slots, proxies and the agent object go before the connection they live on.
    agent_.reset();
    proxies_.clear();
    matches_.clear();
    bus_proxy_.reset();
  }

  Result<void> subscribe(BluezEvents& events) override {
    events_ = &events;
    try {
      matches_.push_back(connection_->addMatch(
          "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',"
          "arg0='org.bluez'",
          [this](sdbus::Message& msg) {
            guarded([&] {
              std::string name, old_owner, new_owner;
              msg >> name >> old_owner >> new_owner;
              events_->on_bluez_owner(!new_owner.empty());
            });
          }));
      // No sender='org.bluez' here: the bus resolves well-known senders but sd-bus's own match check
      // compares unique names, so the path namespace does the filtering.
      matches_.push_back(connection_->addMatch(
          "type='signal',interface='org.freedesktop.DBus.ObjectManager',path='/'", [this](sdbus::Message& msg) {
            guarded([&] {
            sdbus::ObjectPath path;
            if (msg.getMemberName() == std::string("InterfacesAdded")) {
              std::map<std::string, std::map<std::string, sdbus::Variant>> added;
              msg >> path >> added;
              events_->on_interfaces_added(path, to_interfaces(added));
            } else if (msg.getMemberName() == std::string("InterfacesRemoved")) {
              std::vector<std::string> removed;
              msg >> path >> removed;
              events_->on_interfaces_removed(path, removed);
            }
            });
          }));
      matches_.push_back(connection_->addMatch(
          "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
          "path_namespace='/org/bluez'",
          [this](sdbus::Message& msg) {
            guarded([&] {
              std::string iface;
              std::map<std::string, sdbus::Variant> changed;
              msg >> iface >> changed;
              events_->on_properties_changed(msg.getPath(), iface, to_properties(changed));
            });
          }));
    } catch (const sdbus::Error& e) {
      return to_error(e);
    }
    return {};
  }

  void dispatch() override {
    if (!ok_) return;
    try {
      while (connection_->processPendingRequest()) {
      }
    } catch (const sdbus::Error&) {
      ok_ = false;  // the bus connection is gone; the driver opens a new one
    }
  }

  void wait(int wake_fd, std::chrono::milliseconds timeout) override {
    pollfd fds[2] = {{wake_fd, POLLIN, 0}, {-1, 0, 0}};
    int n = 1;
    if (ok_) {
      try {
        const auto data = connection_->getEventLoopPollData();
        fds[1] = {data.fd, data.events, 0};
        n = 2;
        if (auto rel = data.getRelativeTimeout()) {
          timeout = std::min(timeout, std::chrono::duration_cast<std::chrono::milliseconds>(*rel));
        }
      } catch (const sdbus::Error&) {
        ok_ = false;
      }
    }
    (void)::poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::max<std::int64_t>(timeout.count(), 0)));
  }

  bool bus_ok() const override { return ok_; }

  bool bluez_present() override {
    try {
      if (!bus_proxy_) bus_proxy_ = sdbus::createProxy(*connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus");
      bool has = false;
      bus_proxy_->callMethod("NameHasOwner")
          .onInterface("org.freedesktop.DBus")
          .withTimeout(kCallTimeout)
          .withArguments(std::string(kBluezName))
          .storeResultsTo(has);
      return has;
    } catch (const sdbus::Error&) {
      return false;
    }
  }

  Result<ObjectTree> managed_objects() override {
    try {
      std::map<sdbus::ObjectPath, std::map<std::string, std::map<std::string, sdbus::Variant>>> objects;
      proxy("/").callMethod("GetManagedObjects").onInterface(kObjectManager).withTimeout(kCallTimeout).storeResultsTo(objects);
      ObjectTree out;
      for (const auto& [path, ifaces] : objects) out[path] = to_interfaces(ifaces);
      return out;
    } catch (const sdbus::Error& e) {
      return to_error(e);
    }
  }

  Result<void> set_discovery_filter(const std::string& adapter, const DiscoveryFilter& f) override {
    std::map<std::string, sdbus::Variant> filter;
    filter["Transport"] = sdbus::Variant(f.transport);
    if (f.rssi) filter["RSSI"] = sdbus::Variant(*f.rssi);
    if (!f.uuids.empty()) filter["UUIDs"] = sdbus::Variant(f.uuids);
    filter["DuplicateData"] = sdbus::Variant(f.duplicate_data);
    return call(adapter, "org.bluez.Adapter1", "SetDiscoveryFilter", filter);
  }
  Result<void> start_discovery(const std::string& adapter) override {
    return call(adapter, "org.bluez.Adapter1", "StartDiscovery");
  }
  Result<void> stop_discovery(const std::string& adapter) override {
    return call(adapter, "org.bluez.Adapter1", "StopDiscovery");
  }
  Result<void> set_powered(const std::string& adapter, bool powered) override {
    return call(adapter, kProperties, "Set", std::string("org.bluez.Adapter1"), std::string("Powered"),
                sdbus::Variant(powered));
  }
  Result<void> remove_device(const std::string& adapter, const std::string& device) override {
    return call(adapter, "org.bluez.Adapter1", "RemoveDevice", sdbus::ObjectPath(device));
  }

  void connect(const std::string& device, Done done) override {
    call_async(device, "Connect", kConnectTimeout, std::move(done));
  }
  void pair(const std::string& device, Done done) override { call_async(device, "Pair", kPairTimeout, std::move(done)); }
  Result<void> disconnect(const std::string& device) override { return call(device, "org.bluez.Device1", "Disconnect"); }
  Result<void> set_trusted(const std::string& device, bool trusted) override {
    return call(device, kProperties, "Set", std::string("org.bluez.Device1"), std::string("Trusted"),
                sdbus::Variant(trusted));
  }

  Result<void> start_notify(const std::string& characteristic) override {
    return call(characteristic, "org.bluez.GattCharacteristic1", "StartNotify");
  }
  Result<void> write_value(const std::string& characteristic, const std::vector<std::uint8_t>& value) override {
    std::map<std::string, sdbus::Variant> options{{"type", sdbus::Variant(std::string("request"))}};
    return call(characteristic, "org.bluez.GattCharacteristic1", "WriteValue", value, options);
  }
  Result<std::vector<std::uint8_t>> read_value(const std::string& characteristic) override {
    try {
      std::vector<std::uint8_t> value;
      proxy(characteristic)
          .callMethod("ReadValue")
          .onInterface("org.bluez.GattCharacteristic1")
          .withTimeout(kCallTimeout)
          .withArguments(std::map<std::string, sdbus::Variant>{})
          .storeResultsTo(value);
      return value;
    } catch (const sdbus::Error& e) {
      return to_error(e);
    }
  }

  Result<void> register_agent(AgentHandler& handler) override {
    try {
      if (!agent_) export_agent(handler);
    } catch (const sdbus::Error& e) {
      return to_error(e);
    }
    auto r = call("/org/bluez", "org.bluez.AgentManager1", "RegisterAgent", sdbus::ObjectPath(kAgentPath),
                  std::string("KeyboardDisplay"));
    if (!r && !is_already_done(r.error())) return r;
    return call("/org/bluez", "org.bluez.AgentManager1", "RequestDefaultAgent", sdbus::ObjectPath(kAgentPath));
  }

 private:
  // A signal that does not deserialise (another sender on our match, a BlueZ change) is skipped, never
  // allowed to unwind through sd-bus's dispatch.
  template <class F>
  static void guarded(F&& f) {
    try {
      f();
    } catch (const sdbus::Error&) {
    }
  }

  sdbus::IProxy& proxy(const std::string& path) {
    auto& p = proxies_[path];
    if (!p) p = sdbus::createProxy(*connection_, kBluezName, path);
    return *p;
  }

  template <class... Args>
  Result<void> call(const std::string& path, const std::string& iface, const std::string& method, Args&&... args) {
    try {
      auto& p = proxy(path);
      auto m = p.createMethodCall(iface, method);
      ((void)(m << args), ...);
      p.callMethod(m, static_cast<std::uint64_t>(std::chrono::microseconds(kCallTimeout).count()));
      return {};
    } catch (const sdbus::Error& e) {
      return to_error(e);
    }
  }

  void call_async(const std::string& path, const std::string& method, std::chrono::seconds timeout, Done done) {
    try {
      proxy(path)
          .callMethodAsync(method)
          .onInterface("org.bluez.Device1")
          .withTimeout(timeout)
          .uponReplyInvoke([done](const sdbus::Error* e) {
            if (e) done(to_error(*e));
            else done(Result<void>{});
          });
    } catch (const sdbus::Error& e) {
      done(to_error(e));
    }
  }

  void export_agent(AgentHandler& h) {
    agent_ = sdbus::createObject(*connection_, kAgentPath);
    agent_->registerMethod("Release").onInterface(kAgentInterface).implementedAs([] {});
    agent_->registerMethod("RequestPinCode").onInterface(kAgentInterface).implementedAs([&h](const sdbus::ObjectPath& d) {
      auto r = h.request_pin_code(d);
      if (!r) reject(r.error());
      return *r;
    });
    agent_->registerMethod("DisplayPinCode")
        .onInterface(kAgentInterface)
        .implementedAs([](const sdbus::ObjectPath&, const std::string&) {});
    agent_->registerMethod("RequestPasskey").onInterface(kAgentInterface).implementedAs([&h](const sdbus::ObjectPath& d) {
      auto r = h.request_passkey(d);
      if (!r) reject(r.error());
      return *r;
    });
    agent_->registerMethod("DisplayPasskey")
        .onInterface(kAgentInterface)
        .implementedAs([&h](const sdbus::ObjectPath& d, std::uint32_t passkey, std::uint16_t) { h.display_passkey(d, passkey); });
    agent_->registerMethod("RequestConfirmation")
        .onInterface(kAgentInterface)
        .implementedAs([&h](const sdbus::ObjectPath& d, std::uint32_t passkey) {
          if (auto r = h.request_confirmation(d, passkey); !r) reject(r.error());
        });
    agent_->registerMethod("RequestAuthorization").onInterface(kAgentInterface).implementedAs([&h](const sdbus::ObjectPath& d) {
      if (auto r = h.request_authorization(d); !r) reject(r.error());
    });
    agent_->registerMethod("AuthorizeService")
        .onInterface(kAgentInterface)
        .implementedAs([&h](const sdbus::ObjectPath& d, const std::string& uuid) {
          if (auto r = h.authorize_service(d, uuid); !r) reject(r.error());
        });
    agent_->registerMethod("Cancel").onInterface(kAgentInterface).implementedAs([&h] { h.cancel(); });
    agent_->finishRegistration();
  }

  std::unique_ptr<sdbus::IConnection> connection_;
  BluezEvents* events_ = nullptr;
  bool ok_ = true;
  std::vector<sdbus::Slot> matches_;
  std::unique_ptr<sdbus::IProxy> bus_proxy_;
  std::map<std::string, std::unique_ptr<sdbus::IProxy>> proxies_;  // by object path, reused per call
  std::unique_ptr<sdbus::IObject> agent_;
};

}  // namespace

Result<std::unique_ptr<Bluez>> connect_system_bus() {
  try {
    return std::unique_ptr<Bluez>(std::make_unique<SdbusBluez>(sdbus::createSystemBusConnection()));
  } catch (const sdbus::Error& e) {
    return to_error(e);
  }
}

}  // namespace carehub::ble
