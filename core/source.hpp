#pragma once
// The contract between carehub and its drivers (BLE, openHAB, MQTT, simulators). A driver is a Source:
// the daemon constructs it from its configuration section, starts it, asks it for its health, routes
// its control commands to it, and stops it. It hands readings to a ReadingSink and learns from the
// returned future when they are durable (an MQTT driver acknowledges only then).
#include <functional>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/device.hpp"
#include "core/log.hpp"
#include "core/reading.hpp"
#include "core/result.hpp"

namespace carehub {

enum class IngestStatus { stored, duplicate, rejected };

struct IngestResult {
  std::vector<std::string> uids;  // in the order submitted (empty for rejected ones)
  std::vector<IngestStatus> status;
  // Why a reading was rejected, or why a stored one was quarantined ("quarantined: …", its time is not
  // believed: stored, never judged nor uploaded); empty for the others.
  std::vector<std::string> errors;
};

// Where readings go: the pipeline in carehubd, a recording fake in tests.
class ReadingSink {
 public:
  virtual ~ReadingSink() = default;
  // Thread-safe. Resolves once the readings are durable (or refused). May block while the queue is full.
  virtual std::future<Result<IngestResult>> ingest(std::vector<Reading> readings) = 0;
  // The device registry: binds a device id to a patient (and records what is known about it).
  virtual std::future<Result<void>> upsert_device(Device device) = 0;
  virtual std::future<Result<bool>> remove_device(std::string id) = 0;
  // Binds a multi-user device's user slot to a patient (pairing with --user N --patient …): its readings
  // from now on are that patient's (binding.since is set by the sink). A sink without a registry refuses.
  virtual std::future<Result<void>> bind_user(UserBinding binding);
  virtual std::future<Result<bool>> unbind_user(std::string device, int user);
};

// What a driver gets from the daemon. References outlive the driver.
struct SourceContext {
  ReadingSink& sink;
  const Clock& clock;
  Logger& log;
  Counters& counters;
  std::string hub_id;
  std::string patient;  // the kit's patient
  // The device registry as stored (a driver that reconnects to its devices reads it at start). Empty
  // in a configuration check; thread-safe.
  std::function<Result<std::vector<Device>>()> devices{};
  // Readings already stored from `device` whose own time stamp (device_time) is `device_time`: the
  // evidence that tells a device resending its memory from a new measurement when its clock or record
  // numbering went back (BLE driver). Unset in a configuration check; thread-safe.
  std::function<Result<std::vector<Reading>>(const std::string& device, TimePoint device_time)> stored_at{};
};

class Source {
 public:
  virtual ~Source() = default;
  virtual std::string name() const = 0;
  // Starts background work. A peer that is down is not an error here: the driver retries on its own
  // and reports it in status(); an error means the driver cannot run at all.
  virtual Result<void> start() = 0;
  // Stops and joins; readings already handed to the sink are the sink's business.
  virtual void stop() = 0;
  // Health for `carehubctl status`: connection state, last reading, error counts...
  virtual nlohmann::json status() const = 0;
  // Control commands this driver answers, e.g. {"devices.scan", "devices.pair"}.
  virtual std::vector<std::string> commands() const { return {}; }
  virtual Result<nlohmann::json> handle(const std::string& cmd, const nlohmann::json& args) {
    (void)args;
    return make_error(Errc::invalid_argument, name() + " does not answer \"" + cmd + "\"");
  }
};

// Builds a driver from its configuration section (`/sources/<name>` in carehubd.json). Must validate
// everything and do no I/O: `carehubctl config check` calls it too. Errors name the JSON path.
using SourceFactory = Result<std::unique_ptr<Source>> (*)(const nlohmann::json& config, const std::string& path,
                                                          const SourceContext& context);

}  // namespace carehub
