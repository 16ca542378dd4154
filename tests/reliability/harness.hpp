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

// What the buffer holds, read from the file with carehubd stopped (or alongside it: WAL).
struct StoredRow {
  std::int64_t seq = 0;
  std::string uid;
  std::string kind;
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
