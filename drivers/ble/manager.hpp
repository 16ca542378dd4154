#pragma once
// The BLE driver's logic, behind the Bluez seam: adapter discovery and recovery, one session per
// registered device (connect -> ServicesResolved -> subscribe -> readings), pairing, and the resend
// guard (record_guard.hpp) that drops records a device resends from its memory. Single-threaded: the driver thread calls
// everything here, and Bluez delivers its events on that thread too. Unit-tested with a fake Bluez.
// One class, one file per job: manager.cpp (signals, deadlines), manager_adapter.cpp (adapter recovery),
// manager_session.cpp (per-device sessions), manager_records.cpp (records), manager_commands.cpp
// (technician commands, the registry).
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/backoff.hpp"
#include "core/source.hpp"
#include "drivers/ble/agent.hpp"
#include "drivers/ble/bluez.hpp"
#include "drivers/ble/config.hpp"
#include "drivers/ble/record_guard.hpp"
#include "drivers/ble/user_data.hpp"
#include "drivers/gatt/record_access.hpp"

namespace carehub::ble {

using SteadyTime = std::chrono::steady_clock::time_point;

enum class SessionState {
  absent,      // BlueZ does not list the device (out of range, adapter gone, bluetoothd down)
  idle,        // listed, not connected: waiting for it to advertise
  connecting,  // Connect() sent
  resolving,   // connected, waiting for ServicesResolved
  subscribed,  // notifications and indications enabled: readings flow
  backoff,     // the last attempt failed; retry at retry_at
};
std::string_view to_string(SessionState s);

// A registered device and its session, keyed by address.
struct DeviceSession {
  Device device;     // the registry record (persisted high-water marks included)
  std::string path;  // BlueZ object path; empty while absent
  SessionState state = SessionState::absent;
  int failures = 0;
  SteadyTime retry_at{};
  SteadyTime resolve_deadline{};
  std::vector<std::string> subscribed;  // characteristic paths with notifications on
  std::uint64_t sessions = 0;           // completed subscriptions (connects) since start
  std::uint64_t readings = 0;           // readings handed to the pipeline
  std::uint64_t resent = 0;             // records dropped as already stored
  std::uint64_t set_aside = 0;          // records not stored because the store could not say (record_guard.hpp)
  std::uint64_t clock_wrong = 0;        // readings stored at their receive time: the device clock was off
  std::uint64_t sequence_restarts = 0;  // the device numbered its records from 1 again
  std::string clock = "none";           // what the device clock was on the last record (DeviceClock)
  // The readings handed to the pipeline lately, newest last: a resend that arrives before those are
  // committed (or while the store cannot answer) is still recognised. Bounded by kRecentRecords.
  std::deque<Reading> recent;
  // Record Access Control Point: which "report stored records" request is running. A meter that numbers
  // from 1 again answers "no records found" to "after the newest stored"; its last record tells.
  enum class Racp { idle, after_newest, last, all } racp = Racp::idle;
  std::string racp_path;
  bool glucose = false;              // glucose records: RACP asks only for those after the newest stored
  // User Data Service (user_data.hpp): the control point, its conversation, and whether the stored
  // records wait for a consent (they are then the consented user's).
  std::string ucp_path;
  UserDataSession uds;
  bool records_after_uds = false;
  bool numbering_went_back = false;  // seen during this RACP procedure
  std::uint64_t malformed = 0;
  std::uint64_t unusable = 0;           // decodable but no measurement (special values...)
  std::optional<TimePoint> last_seen;
  std::optional<TimePoint> last_reading;
  std::optional<std::int64_t> battery;
  std::optional<std::int64_t> rssi;
  std::string last_error;
};

// A registry change the driver made: the record, and when it is durable (the pipeline's future).
struct Registered {
  Device device;
  std::shared_future<Result<void>> stored;
};
using PairDone = std::function<void(Result<Registered>)>;

class Manager final : public BluezEvents {
 public:
  // `draw` is the randomness of the reconnect backoff's jitter (core/backoff.hpp); tests fix it.
  Manager(Bluez& bluez, const BleConfig& config, const SourceContext& context, UnitDraw draw = random_unit_draw());

  // Subscribes to the bus, loads the registry's BLE devices and finds the adapter.
  Result<void> start(const std::vector<Device>& registry);
  // Runs what is due (retries, resolve timeouts, finished ingests). `now` is the clock's monotonic time.
  void tick(SteadyTime now);
  // When tick() next has something to do (a retry, a timeout, an ingest to collect).
  std::optional<SteadyTime> next_deadline() const;

  // BluezEvents.
  void on_bluez_owner(bool present) override;
  void on_interfaces_added(const std::string& path, const Interfaces& added) override;
  void on_interfaces_removed(const std::string& path, const std::vector<std::string>& interfaces) override;
  void on_properties_changed(const std::string& path, const std::string& interface,
                             const Properties& changed) override;

  // Technician commands.
  Result<void> scan_begin();
  nlohmann::json scan_results() const;
  void pair(const std::string& address, const std::string& category, std::optional<std::uint32_t> passkey,
            PairDone done);
  // A User Data Service request (register a user, consent, delete a user's data) for a registered
  // device: run when the device is connected (at once if it is; the technician wakes it otherwise),
  // answered through `done` with the device's answer, or an error at `deadline`.
  void user_data(const std::string& address, UdsRequest request, UdsDone done, SteadyTime deadline);
  // Binds a registered device to another patient (FHIR reference), through the registry.
  Result<Registered> assign(const std::string& address, const std::string& patient);
  // Stops the session, unpairs in BlueZ and removes the device from the registry (`removed` resolves
  // when that is durable).
  struct Forgotten {
    Device device;
    std::shared_future<Result<bool>> removed;
  };
  Result<Forgotten> forget(const std::string& address);
  Result<Device> find(const std::string& address) const;
  nlohmann::json list() const;
  nlohmann::json status() const;

  const std::map<std::string, DeviceSession>& sessions() const { return devices_; }
  PairingAgent& agent() { return agent_; }

 private:
  void resync();
  void lost(const std::string& why);
  void schedule_resync();
  void ensure_discovery();
  void evaluate(DeviceSession& d);
  void start_connect(DeviceSession& d);
  void subscribe(DeviceSession& d);
  // Device Information and battery into the registry record (device_info.hpp), persisted when changed.
  void read_info(DeviceSession& d);
  void fail(DeviceSession& d, const std::string& why, bool disconnect);
  void on_value(DeviceSession& d, const std::string& characteristic, const std::vector<std::uint8_t>& value);
  void ingest(DeviceSession& d, std::vector<Reading> readings, bool persist_marks);
  // Whether `r`, stamped at `instant`, is among the device's recent readings or in the store.
  std::optional<bool> known(DeviceSession& d, const Reading& r, TimePoint instant);
  void report(DeviceSession& d, const Judgement& j);
  void racp_answered(DeviceSession& d, const gatt::RacpResponseCode& rc);
  void request_records(DeviceSession& d);
  // Writes the next waiting User Control Point request, if none is in flight; stored records follow
  // once the conversation is done.
  void pump_user_data(DeviceSession& d);
  void ucp_answered(DeviceSession& d, const std::vector<std::uint8_t>& value);
  void collect_ingests(bool wait);
  std::shared_future<Result<void>> persist(const Device& device);
  void finish_pair(const std::string& path, const std::string& address, const std::string& category,
                   Result<void> paired);
  DeviceSession* by_path(const std::string& path);
  DeviceSession* owner_of(const std::string& object_path);
  std::optional<std::string> path_of_address(const std::string& address) const;
  std::optional<std::uint16_t> uuid_of(const std::string& path) const;
  std::vector<std::string> characteristics_of(const std::string& device_path) const;
  // The wait before retry `failures` (of the adapter or a session): core/backoff.hpp's, with jitter.
  std::chrono::milliseconds backoff(int failures) const;
  std::string adapter_path() const { return "/org/bluez/" + config_.adapter; }
  SteadyTime now() const { return context_.clock.monotonic(); }

  Bluez& bluez_;
  const BleConfig& config_;
  SourceContext context_;
  UnitDraw draw_;
  PairingAgent agent_;
  bool agent_registered_ = false;

  bool bluez_present_ = false;
  bool adapter_present_ = false;
  bool powered_ = false;
  bool discovering_ = false;
  std::string adapter_state_ = "starting";
  int adapter_failures_ = 0;
  std::optional<SteadyTime> resync_at_;
  ObjectTree objects_;  // BlueZ's object tree, kept current from the signals

  std::map<std::string, DeviceSession> devices_;  // by address
  std::map<std::string, PairDone> pairing_;        // by device path

  struct PendingIngest {
    std::string address;
    std::future<Result<IngestResult>> result;
  };
  std::vector<PendingIngest> ingests_;
  std::vector<std::shared_future<Result<void>>> registry_writes_;
};

}  // namespace carehub::ble
