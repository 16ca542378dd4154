#pragma once
// Shared pieces of the reliability scenarios (crash, outage, disk full, dependencies restarting): the
// seeded randomness every scenario prints, reading lines, polling a condition with a deadline, reading
// carehubd's store and memory from outside. Real processes only: carehubd, carehubctl, mosquitto, the
// FHIR peer (tests/support).
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/dbus_mock.hpp"

namespace carehub::reliability {

using namespace std::chrono_literals;

inline constexpr const char* kPatient = "Patient/test-patient";  // DaemonProcess's kit patient
inline constexpr const char* kIdSystem = "urn:ietf:rfc:3986";

// CAREHUB_RELIABILITY_CYCLES (default `fallback`): the CI run uses 20, scripts/reliability.sh 200+.
int cycles(int fallback);
// CAREHUB_RELIABILITY_SEED, else a fresh one; printed (and recorded in the test's XML) so any failure
// can be replayed with the same kill moments.
std::uint64_t seed(const std::string& scenario);

// The wall clock in epoch milliseconds: readings' times are laid out back from it.
std::int64_t now_epoch_ms();

// A reading line (design.md format) for `carehubctl measure add --json` and MQTT reading-json.
nlohmann::json reading_line(const std::string& kind, std::int64_t epoch_ms, const nlohmann::json& values,
                            const std::string& device = "manual");
// The uid carehubd gives that line (attributed to the kit's patient): core's own reading_uid().
std::string uid_of_line(const nlohmann::json& line);

// Runs `carehubctl measure add --json` and returns the uids it acknowledged (stored or duplicate), even
// when the call failed half-way (the daemon killed under it): only those lines were acknowledged.
std::vector<std::string> add_readings(test::DaemonProcess& d, const std::vector<nlohmann::json>& lines,
                                      std::string* error = nullptr);

nlohmann::json status(test::DaemonProcess& d);
// Polls `pred` every few milliseconds until it holds or `timeout` passes (polling a condition, never a
// sleep standing in for one).
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 60s);

// The simulated BLE kit (tests/peers/ble/kit.py on python3-dbusmock's bluez5 template): the id carehubd
// gives a device ("ble-a4-c1-…") and its entry in `carehubctl devices list --json` (null when absent).
std::string ble_id(const std::string& address);
nlohmann::json ble_device(test::DaemonProcess& d, const std::string& address);
// True once carehubd has subscribed to `address` in its `sessions`-th session of this run.
bool ble_subscribed(test::DaemonProcess& d, const std::string& address, int sessions = 1);
// The "ble" source section the kit needs: fast reconnects, the kit's devices keep UTC.
nlohmann::json ble_source();

// A blood pressure monitor of the kit measuring at a steady pace (`kit.py stream`): it resends records
// memory_from..first-1 (its memory) once carehubd listens, then indicates `count` new records from `first`,
// one every `interval_ms`, each stamped epoch_s + index seconds; after a bluetoothd restart it resends its
// memory first. The test reads back which records BlueZ took ("sent I").
class BleStream {
 public:
  BleStream(const test::PrivateBus& bus, const std::string& address, std::int64_t epoch_s, int memory_from, int first,
            int count, int interval_ms, const std::string& log_file);
  bool wait_memory_resent(std::chrono::milliseconds timeout);
  bool wait_sent(int index, std::chrono::milliseconds timeout);  // record `index` (or a later one) was sent
  bool wait_done(std::chrono::milliseconds timeout);
  // Stops the device (if still running) and reads what it reported: next() is then one past the last record sent.
  void stop();
  int next() const { return next_; }

 private:
  bool read(std::chrono::milliseconds timeout);  // one line; false on timeout or EOF
  std::unique_ptr<test::ChildProcess> process_;
  int next_;
  bool memory_ = false;
  bool done_ = false;
};

// What the buffer holds, read from the file with carehubd stopped (or alongside it: WAL).
struct StoredRow {
  std::int64_t seq = 0;
  std::string uid;
  std::string kind;
  std::string device;
  int state = 0;
  std::int64_t synced_ms = 0;
};
std::vector<StoredRow> stored_rows(const std::string& db_path);
std::string integrity_check(const std::string& db_path);
struct StoredAlert {
  std::string id;
  std::string rule;
  std::vector<std::string> readings;
};
std::vector<StoredAlert> stored_alerts(const std::string& db_path);

// VmRSS and VmHWM of a process in KiB (0 when it is gone).
struct Memory {
  std::int64_t rss_kib = 0;
  std::int64_t hwm_kib = 0;
};
Memory memory_of(pid_t pid);

// A small tmpfs at `path` when this process may mount (root in the container), unmounted when it goes.
class SmallFilesystem {
 public:
  SmallFilesystem(std::string path, std::int64_t bytes);
  ~SmallFilesystem();
  bool mounted() const { return mounted_; }
  const std::string& why_not() const { return why_not_; }
  bool resize(std::int64_t bytes);  // "space returns"

 private:
  std::string path_;
  bool mounted_ = false;
  std::string why_not_;
};

}  // namespace carehub::reliability
