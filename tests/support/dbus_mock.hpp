#pragma once
// BlueZ for tests without a radio: a private dbus-daemon and python3-dbusmock's bluez5 template on it,
// plus the kit script (tests/peers/ble/kit.py) that adds health devices with GATT objects and sends
// their notifications. Each object stops what it started.
#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace carehub::test {

// `dbus-daemon --session` on a fresh socket; address() is what DBUS_SYSTEM_BUS_ADDRESS should say.
class PrivateBus {
 public:
  explicit PrivateBus(const std::string& log_file);
  ~PrivateBus();
  const std::string& address() const { return address_; }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string address_;
};

// `/usr/bin/python3 -m dbusmock --template bluez5` on the private bus (it claims org.bluez).
class BluezMock {
 public:
  BluezMock(const PrivateBus& bus, const std::string& log_file);
  ~BluezMock();
  void stop();  // bluetoothd "crashes": org.bluez leaves the bus

 private:
  std::unique_ptr<ChildProcess> process_;
};

// Runs tests/peers/ble/kit.py with `args` against `bus`; exit code 0 and "ok" on success.
ProcessResult kit(const PrivateBus& bus, const std::vector<std::string>& args);
// Starts kit.py with `args` in the background (a device that keeps sending, e.g. `stream`): its stdout
// is read with read_line(), its stderr goes to `log_file`; stopped when the object goes.
std::unique_ptr<ChildProcess> kit_process(const PrivateBus& bus, const std::vector<std::string>& args,
                                          const std::string& log_file);

}  // namespace carehub::test
