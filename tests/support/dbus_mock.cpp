#include "tests/support/dbus_mock.hpp"

#include <csignal>
#include <stdexcept>

#include "tests/support/temp_dir.hpp"

namespace carehub::test {

PrivateBus::PrivateBus(const std::string& log_file) {
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/bin/dbus-daemon", "--session", "--nofork", "--print-address=1"},
      std::map<std::string, std::string>{}, log_file);
  auto line = process_->read_line(std::chrono::seconds(10));  // printed once the socket listens
  if (!line || line->empty()) throw std::runtime_error("dbus-daemon did not print its address");
  address_ = *line;
}

PrivateBus::~PrivateBus() {
  process_->signal(SIGTERM);
  process_->wait(std::chrono::seconds(10));
}

BluezMock::BluezMock(const PrivateBus& bus, const std::string& log_file) {
  process_ = std::make_unique<ChildProcess>(
      // The call log to a file: on stdout (a pipe nobody reads) a long run of notifications fills the
      // pipe and the mock blocks mid-call.
      std::vector<std::string>{"/usr/bin/python3", "-m", "dbusmock", "--template", "bluez5", "--logfile", log_file + ".calls"},
      std::map<std::string, std::string>{{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}}, log_file);
  // Ready when org.bluez is owned: the kit waits for the name (with a deadline).
  auto r = kit(bus, {"wait-bluez", "20"});
  if (r.exit_code != 0) throw std::runtime_error("the bluez5 mock did not claim org.bluez: " + r.err);
}

BluezMock::~BluezMock() { stop(); }

void BluezMock::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);
  process_->wait(std::chrono::seconds(10));
  process_.reset();
}

namespace {

std::vector<std::string> kit_argv(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/python3", (source_dir() / "tests" / "peers" / "ble" / "kit.py").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace

ProcessResult kit(const PrivateBus& bus, const std::vector<std::string>& args) {
  return run_process(kit_argv(args), {}, {{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}}, std::chrono::seconds(30));
}

std::unique_ptr<ChildProcess> kit_process(const PrivateBus& bus, const std::vector<std::string>& args,
                                          const std::string& log_file) {
  return std::make_unique<ChildProcess>(kit_argv(args), std::map<std::string, std::string>{{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}},
                                        log_file);
}

}  // namespace carehub::test
