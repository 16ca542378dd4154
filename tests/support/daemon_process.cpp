#include "tests/support/daemon_process.hpp"

#include <grp.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include "tests/support/buffer_key.hpp"

namespace carehub::test {

DaemonProcess::DaemonProcess(const TempDir& dir, const std::string& fhir_url) : dir_(dir) {
  config_ = {
      {"hub", {{"id", "hub-test"}, {"patient", "Patient/test-patient"}}},
      // Retention off: the tests date readings on fixed 2026 days and inspect them after they were
      // uploaded; with the default 30 days they would be pruned once those days are a month past.
      // Retention itself is tested in store_test (StoreSpaceTest.RetentionPrunesOnlySyncedReadingsPastTheirAgeAWindowAtATime).
      // The buffer is encrypted at rest (issue 18): every carehubd the tests start has a key, in a file
      // /store/key_file names, as systemd's credential buffer-key would hold it. A test may change it.
      {"store", {{"path", dir.file("buffer.db")}, {"retention_days", 0}, {"key_file", dir.file("buffer-key")}}},
      {"control", {{"socket", dir.file("control.sock")}}},
      {"fhir", {{"base_url", fhir_url}, {"retry_base_ms", 50}, {"retry_cap_ms", 500}, {"request_timeout_ms", 10000}}},
      {"log", {{"level", "debug"}}},
  };
  write_buffer_key(dir);
}

std::map<std::string, std::string> DaemonProcess::unit_environment() {
  std::map<std::string, std::string> env;
  std::ifstream unit(source_dir() / "systemd" / "carehubd.service");
  for (std::string line; std::getline(unit, line);) {
    if (!line.starts_with("Environment=")) continue;
    const auto assignment = line.substr(std::string_view("Environment=").size());
    if (const auto eq = assignment.find('='); eq != std::string::npos) {
      env[assignment.substr(0, eq)] = assignment.substr(eq + 1);
    }
  }
  return env;
}

bool DaemonProcess::start_as_unit() {
  if (const group* g = ::getgrgid(::getgid())) config_["control"]["group"] = g->gr_name;
  return start(unit_environment());
}

DaemonProcess::~DaemonProcess() {
  if (process_ && process_->running()) {
    process_->signal(SIGTERM);
    process_->wait(std::chrono::seconds(20));
  }
}

std::string DaemonProcess::socket() const { return dir_.file("control.sock"); }

std::string DaemonProcess::log() const { return read_file(dir_.file("carehubd.log")); }

bool DaemonProcess::start(const std::map<std::string, std::string>& env) {
  write_file(dir_.file("carehubd.json"), config_.dump(2));
  notify_.reset();
  notify_ = std::make_unique<NotifySocket>(dir_.file("notify.sock"));
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{(binary_dir() / "daemon" / "carehubd").string(), "--config", dir_.file("carehubd.json")},
      [&] {
        auto all = env;
        all["NOTIFY_SOCKET"] = notify_->path();
        return all;
      }(),
      dir_.file("carehubd.log"));
  // READY=1 or the process dying: poll the socket in short slices so an early exit is seen at once.
  for (int i = 0; i < 300; ++i) {
    if (notify_->wait_for("READY=1", std::chrono::milliseconds(100))) return true;
    if (!process_->running()) return false;
  }
  return false;
}

int DaemonProcess::run_to_exit() {
  write_file(dir_.file("carehubd.json"), config_.dump(2));
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{(binary_dir() / "daemon" / "carehubd").string(), "--config", dir_.file("carehubd.json")},
      std::map<std::string, std::string>{}, dir_.file("carehubd.log"));
  return process_->wait(std::chrono::seconds(30));
}

void DaemonProcess::signal(int sig) { process_->signal(sig); }

int DaemonProcess::wait_exit() { return process_->wait(std::chrono::seconds(30)); }

bool DaemonProcess::notified(const std::string& needle) const {
  if (!notify_) return false;
  for (const auto& m : notify_->received()) {
    if (m.find(needle) != std::string::npos) return true;
  }
  return false;
}

bool DaemonProcess::wait_notify(const std::string& needle) {
  return notify_->wait_for(needle, std::chrono::seconds(30)).has_value();
}

void DaemonProcess::drain_notify() {
  // The needle matches nothing: it reads all that is queued. 20 ms, as wait_for rounds a shorter wait down to none.
  if (notify_) notify_->wait_for(std::string(1, '\0'), std::chrono::milliseconds(20));
}

ProcessResult DaemonProcess::ctl(const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> argv{(binary_dir() / "daemon" / "carehubctl").string(), "--socket", socket()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, input);
}

std::vector<std::string> DaemonProcess::Added::uids(std::string_view status) const {
  std::vector<std::string> out;
  for (const auto& r : results) {
    if (r.value("status", "") == status) out.push_back(r.value("uid", ""));
  }
  return out;
}

DaemonProcess::Added DaemonProcess::add(const std::string& lines) {
  auto r = ctl({"measure", "add", "--json"}, lines);
  Added out{r.exit_code, r.err, {}};
  std::size_t from = 0;
  for (auto nl = r.out.find('\n'); nl != std::string::npos; from = nl + 1, nl = r.out.find('\n', from)) {
    auto j = nlohmann::json::parse(r.out.substr(from, nl - from), nullptr, false);
    if (j.is_object()) out.results.push_back(std::move(j));
  }
  return out;
}

nlohmann::json DaemonProcess::status() {
  auto j = nlohmann::json::parse(ctl({"status", "--json"}).out, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

}  // namespace carehub::test
