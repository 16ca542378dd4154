#pragma once
// Test doubles for the BLE Manager, shared by its tests: a fake BlueZ that records calls and lets each
// test decide when replies and signals arrive, and a fake sink that records what would be stored.
#include <algorithm>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/backoff.hpp"
#include "core/source.hpp"
#include "drivers/ble/address.hpp"
#include "drivers/ble/bluez.hpp"

namespace carehub::ble::fakes {

constexpr const char* kAdapter = "/org/bluez/hci0";
constexpr const char* kBp1 = "A4:C1:38:00:00:01";
constexpr const char* kBp2 = "A4:C1:38:00:00:02";

inline std::string dev_path(const std::string& address) {
  std::string p = std::string(kAdapter) + "/dev_" + address;
  for (auto& c : p) c = c == ':' ? '_' : c;
  return p;
}
inline std::string char_path(const std::string& address) { return dev_path(address) + "/service0010/char0011"; }
inline std::string cts_path(const std::string& address) { return dev_path(address) + "/service0010/char0012"; }

// The jitter's top draw: each backoff is its ceiling (base, doubling, capped), so the tests that are not
// about the jitter see the same delays whatever the randomness (manager_backoff_test.cpp is about it).
inline UnitDraw top_of_jitter() {
  return [] { return 1.0; };
}

inline Error bluez_error(const std::string& name) { return make_error(Errc::io, name + ": test"); }

class FakeBluez final : public Bluez {
 public:
  Result<void> subscribe(BluezEvents& events) override {
    calls.push_back("subscribe");
    events_ = &events;
    return {};
  }
  void dispatch() override {}
  void wait(int, std::chrono::milliseconds) override {}
  bool bus_ok() const override { return true; }
  bool bluez_present() override { return present; }
  Result<ObjectTree> managed_objects() override { return tree; }
  Result<void> set_discovery_filter(const std::string&, const DiscoveryFilter& f) override {
    calls.push_back("SetDiscoveryFilter " + f.transport);
    return {};
  }
  Result<void> start_discovery(const std::string&) override {
    calls.push_back("StartDiscovery");
    if (discovery_error) {
      auto e = *discovery_error;
      discovery_error.reset();
      return e;
    }
    return {};
  }
  Result<void> stop_discovery(const std::string&) override { return {}; }
  Result<void> set_powered(const std::string&, bool) override { return {}; }
  Result<void> remove_device(const std::string&, const std::string& d) override {
    calls.push_back("RemoveDevice " + d);
    return {};
  }
  void connect(const std::string& d, Done done) override {
    calls.push_back("Connect " + d);
    pending_connect[d] = std::move(done);
  }
  void pair(const std::string& d, Done done) override {
    calls.push_back("Pair " + d);
    pending_pair[d] = std::move(done);
  }
  Result<void> disconnect(const std::string& d) override {
    calls.push_back("Disconnect " + d);
    return {};
  }
  Result<void> set_trusted(const std::string& d, bool) override {
    calls.push_back("Trusted " + d);
    return {};
  }
  Result<void> start_notify(const std::string& c) override {
    calls.push_back("StartNotify " + c);
    return {};
  }
  Result<void> write_value(const std::string& c, const std::vector<std::uint8_t>& v) override {
    calls.push_back("WriteValue " + c);
    written[c] = v;
    return {};
  }
  Result<std::vector<std::uint8_t>> read_value(const std::string& c) override {
    calls.push_back("ReadValue " + c);
    auto it = readable.find(c);
    if (it == readable.end()) return make_error(Errc::io, "org.bluez.Error.NotPermitted: test");
    return it->second;
  }
  Result<void> register_agent(AgentHandler&) override {
    calls.push_back("RegisterAgent");
    return {};
  }

  void add_adapter() {
    tree[kAdapter][std::string(kAdapterInterface)] = {{"Powered", true}, {"Discovering", false}};
  }
  void add_device(const std::string& address, const std::string& name, bool with_cts = true,
                  std::uint16_t measurement = 0x2A35) {
    tree[dev_path(address)][std::string(kDeviceInterface)] = {
        {"Address", address}, {"Name", name}, {"Connected", false}, {"ServicesResolved", false}, {"Paired", false}};
    tree[char_path(address)][std::string(kCharacteristicInterface)] = {
        {"UUID", uuid128(measurement)}, {"Flags", std::vector<std::string>{"indicate"}}};
    if (with_cts) {
      tree[cts_path(address)][std::string(kCharacteristicInterface)] = {
          {"UUID", uuid128(0x2A2B)}, {"Flags", std::vector<std::string>{"read", "write"}}};
    }
  }
  bool called(const std::string& call) const { return std::find(calls.begin(), calls.end(), call) != calls.end(); }
  std::size_t count(const std::string& call) const { return static_cast<std::size_t>(std::count(calls.begin(), calls.end(), call)); }

  BluezEvents* events_ = nullptr;
  bool present = true;
  ObjectTree tree;
  std::vector<std::string> calls;
  std::optional<Error> discovery_error;
  std::map<std::string, Done> pending_connect, pending_pair;
  std::map<std::string, std::vector<std::uint8_t>> written;
  std::map<std::string, std::vector<std::uint8_t>> readable;  // what ReadValue answers; else an error
};

template <class T>
std::future<Result<T>> ready(Result<T> v) {
  std::promise<Result<T>> p;
  p.set_value(std::move(v));
  return p.get_future();
}

class FakeSink final : public ReadingSink {
 public:
  std::future<Result<IngestResult>> ingest(std::vector<Reading> r) override {
    IngestResult out;
    for (auto& x : r) {
      out.uids.push_back("uid");
      out.status.push_back(IngestStatus::stored);
      out.errors.emplace_back();
      readings.push_back(std::move(x));
    }
    return ready<IngestResult>(std::move(out));
  }
  std::future<Result<void>> upsert_device(Device d) override {
    devices.push_back(std::move(d));
    return ready<void>({});
  }
  std::future<Result<bool>> remove_device(std::string id) override {
    removed.push_back(id);
    return ready<bool>(true);
  }
  std::vector<Reading> readings;
  std::vector<Device> devices;
  std::vector<std::string> removed;
};

inline Device registered(const std::string& address, const std::string& patient = "Patient/kit") {
  Device d;
  d.id = device_id(address);
  d.address = address;
  d.name = d.model = "BP7150";
  d.category = "blood-pressure";
  d.patient = patient;
  return d;
}

// flags 0x02: time stamp, 2026-11-21 hh:00:00 UTC, mmHg.
inline std::vector<std::uint8_t> bp_packet(std::uint8_t sys, std::uint8_t hour) {
  return {0x02, sys, 0x00, 80, 0x00, 93, 0x00, 0xEA, 0x07, 11, 21, hour, 0, 0};
}

}  // namespace carehub::ble::fakes
