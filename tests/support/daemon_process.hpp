#pragma once
// carehubd as the tests run it: its own config, store and control socket in a temp dir, started with a
// NOTIFY_SOCKET so the test waits for READY=1, and carehubctl pointed at its socket.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/child_process.hpp"
#include "tests/support/notify_socket.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::test {

class DaemonProcess {
 public:
  // A config for this directory; `fhir_url` empty = buffer only. Tests may edit it before start().
  DaemonProcess(const TempDir& dir, const std::string& fhir_url);
  ~DaemonProcess();

  nlohmann::json& config() { return config_; }
  std::string socket() const;
  std::string log() const;  // carehubd's stderr so far

  // Writes the config and starts carehubd (with `env` added to its environment); returns once it sent
  // READY=1 (false if it exited or timed out).
  bool start(const std::map<std::string, std::string>& env = {});
  // start() as systemd/carehubd.service starts it, for the benchmarks (issue 15): with the unit's
  // Environment= lines, and a control group that exists (on a hub sysusers makes "carehub"; here the
  // running user's own group: a group that does not exist sends getgrnam on to nsswitch's systemd
  // module, which a hub never loads).
  bool start_as_unit();
  // The unit's Environment= assignments, NAME=value.
  static std::map<std::string, std::string> unit_environment();
  // Starts carehubd and waits for it to exit; its exit code (for configs it must refuse).
  int run_to_exit();
  void signal(int sig);
  int wait_exit();  // exit code after a signal
  bool wait_notify(const std::string& needle);
  // Whether a notification read so far (start() reads up to READY=1) contained `needle`.
  bool notified(const std::string& needle) const;
  // Reads every queued notification. carehubd sends STATUS= every 10 s and the kernel queues only
  // net.unix.max_dgram_qlen (10 here) datagrams: a test running longer than that without reading blocks
  // carehubd's main thread in sd_notify, and with it SIGTERM handling.
  void drain_notify();
  // carehubd's process id while it runs (-1 before start): tests read its /proc/<pid>/status.
  pid_t pid() const { return process_ ? process_->pid() : -1; }

  ProcessResult ctl(const std::vector<std::string>& args, const std::string& input = {});

  // `carehubctl measure add --json` with reading JSON lines: one result object per line, in order
  // ({"status":"stored"|"duplicate"|"rejected","uid":…}); `exit_code`/`err` of the command beside them.
  struct Added {
    int exit_code = 0;
    std::string err;
    std::vector<nlohmann::json> results;
    std::vector<std::string> uids(std::string_view status = "stored") const;  // of the results with `status`
  };
  Added add(const std::string& lines);
  // `carehubctl status --json`, parsed (an empty object if it did not answer).
  nlohmann::json status();

 private:
  const TempDir& dir_;
  nlohmann::json config_;
  std::unique_ptr<NotifySocket> notify_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace carehub::test
