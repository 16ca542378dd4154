#include "drivers/ble/source.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/backoff.hpp"
#include "core/json_check.hpp"
#include "core/thread_name.hpp"
#include "drivers/ble/address.hpp"
#include "drivers/ble/bluez.hpp"
#include "drivers/ble/config.hpp"
#include "drivers/ble/manager.hpp"

namespace carehub::ble {
namespace {

constexpr std::string_view kLog = "ble";
constexpr auto kCommandTimeout = std::chrono::seconds(30);
constexpr auto kPairTimeout = std::chrono::seconds(120);
// A UDS request waits for the device to connect (the technician wakes it) and answer.
constexpr auto kUserDataTimeout = std::chrono::seconds(60);

// An eventfd that wakes the driver thread's poll(); closed with its owner.
class WakeFd {
 public:
  WakeFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~WakeFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;
  int fd() const { return fd_; }
  void wake() const {
    const std::uint64_t one = 1;
    (void)!::write(fd_, &one, sizeof one);
  }
  void drain() const {
    std::uint64_t n;
    (void)!::read(fd_, &n, sizeof n);
  }

 private:
  int fd_;
};

nlohmann::json device_json(const Device& d) {
  return {{"id", d.id},         {"address", d.address},   {"name", d.name},
          {"model", d.model},   {"category", d.category}, {"patient", d.patient}};
}

class BleSource final : public Source {
 public:
  BleSource(BleConfig config, const SourceContext& context) : config_(std::move(config)), context_(context) {
    status_ = {{"state", "not started"}};
  }
  ~BleSource() override { stop(); }

  std::string name() const override { return "ble"; }

  Result<void> start() override {
    if (wake_.fd() < 0) return make_error(Errc::io, "eventfd failed");
    {
      std::lock_guard lock(mu_);
      stopping_ = false;
    }
    thread_ = std::thread([this] {
      name_this_thread("ble");
      run();
    });
    return {};
  }

  void stop() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    wake_.wake();
    if (thread_.joinable()) thread_.join();
  }

  nlohmann::json status() const override {
    std::lock_guard lock(status_mu_);
    return status_;
  }

  std::vector<std::string> commands() const override {
    return {"devices.scan", "devices.pair", "devices.list", "devices.forget", "devices.assign", "devices.users"};
  }

  Result<nlohmann::json> handle(const std::string& cmd, const nlohmann::json& args) override {
    if (cmd == "devices.scan") return scan(args);
    if (cmd == "devices.pair") return pair(args);
    if (cmd == "devices.list") return list(args);
    if (cmd == "devices.forget") return forget(args);
    if (cmd == "devices.assign") return assign(args);
    if (cmd == "devices.users") return users(args);
    return Source::handle(cmd, args);
  }

 private:
  using Job = std::function<void(Manager*)>;

  // Runs `job` on the driver thread; it answers through the callback it is given (perhaps later,
  // after an asynchronous BlueZ call). Waits at most `timeout`.
  template <class T>
  Result<T> on_thread(std::function<void(Manager&, std::function<void(Result<T>)>)> job,
                      std::chrono::milliseconds timeout) {
    auto promise = std::make_shared<std::promise<Result<T>>>();
    auto answered = std::make_shared<bool>(false);  // touched on the driver thread only
    auto future = promise->get_future();
    post([job = std::move(job), promise, answered](Manager* m) {
      auto reply = [promise, answered](Result<T> r) {
        if (*answered) return;
        *answered = true;
        promise->set_value(std::move(r));
      };
      if (!m) return reply(make_error(Errc::unavailable, "the BLE driver has no D-Bus connection (see carehubctl status)"));
      job(*m, reply);
    });
    if (future.wait_for(timeout) != std::future_status::ready) {
      return make_error(Errc::timeout, "the BLE driver did not answer within " +
                                           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) + " s");
    }
    return future.get();
  }

  void post(Job job) {
    {
      std::unique_lock lock(mu_);
      if (!stopping_) {
        jobs_.push_back(std::move(job));
        lock.unlock();
        wake_.wake();
        return;
      }
    }
    job(nullptr);  // stopping: answer at once instead of leaving the caller to time out
  }

  static Result<std::string> address_arg(JsonReader& in, const nlohmann::json& args) {
    auto a = in.string(args, "/args", "address", true);
    if (!a) return make_error(Errc::invalid_argument, in.joined(""));
    auto address = normalise_address(*a);
    if (address.empty()) {
      return make_error(Errc::invalid_argument, "/args/address: expected a Bluetooth address such as "
                                                "\"AA:BB:CC:DD:EE:FF\", found \"" + *a + "\"");
    }
    return address;
  }

  Result<nlohmann::json> scan(const nlohmann::json& args) {
    JsonReader in;
    in.only_keys(args, "/args", {"seconds"});
    const auto seconds = in.integer(args, "/args", "seconds", false, 1, 120).value_or(10);
    if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
    auto begun = on_thread<bool>([](Manager& m, auto reply) {
      auto r = m.scan_begin();
      reply(r ? Result<bool>(true) : Result<bool>(r.error()));
    }, kCommandTimeout);
    if (!begun) return begun.error();
    {
      // The scan window itself: the technician asked to listen this long.
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(seconds), [this] { return stopping_; });
    }
    auto found = on_thread<nlohmann::json>([](Manager& m, auto reply) { reply(m.scan_results()); }, kCommandTimeout);
    if (!found) return found.error();
    return nlohmann::json{{"devices", *found}};
  }

  Result<nlohmann::json> pair(const nlohmann::json& args) {
    JsonReader in;
    in.only_keys(args, "/args", {"address", "category", "passkey"});
    auto address = address_arg(in, args);
    if (!address) return address.error();
    auto category = in.string(args, "/args", "category", true);
    auto passkey = in.integer(args, "/args", "passkey", false, 0, 999999);
    if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
    if (!known_category(*category)) {
      return make_error(Errc::invalid_argument, "/args/category: expected one of " + known_categories() + ", found \"" + *category + "\"");
    }
    std::optional<std::uint32_t> key;
    if (passkey) key = static_cast<std::uint32_t>(*passkey);
    auto done = on_thread<Registered>([a = *address, c = *category, key](Manager& m, auto reply) { m.pair(a, c, key, reply); },
                                      kPairTimeout);
    if (!done) return done.error();
    if (auto stored = done->stored.get(); !stored) return stored.error();  // durable in the registry first
    return nlohmann::json{{"device", device_json(done->device)}};
  }

  Result<nlohmann::json> list(const nlohmann::json& args) {
    JsonReader in;
    in.only_keys(args, "/args", {});
    if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
    auto rows = on_thread<nlohmann::json>([](Manager& m, auto reply) { reply(m.list()); }, kCommandTimeout);
    if (!rows) return rows.error();
    return nlohmann::json{{"devices", *rows}};
  }

  Result<nlohmann::json> forget(const nlohmann::json& args) {
    JsonReader in;
    in.only_keys(args, "/args", {"address"});
    auto address = address_arg(in, args);
    if (!address) return address.error();
    if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
    auto gone = on_thread<Manager::Forgotten>([a = *address](Manager& m, auto reply) { reply(m.forget(a)); }, kCommandTimeout);
    if (!gone) return gone.error();
    auto removed = gone->removed.get();
    if (!removed) return removed.error();
    return nlohmann::json{{"forgotten", device_json(gone->device)}, {"was_registered", *removed}};
  }

  Result<nlohmann::json> assign(const nlohmann::json& args) {
    JsonReader in;
    in.only_keys(args, "/args", {"address", "patient"});
    auto address = address_arg(in, args);
    if (!address) return address.error();
    auto patient = in.string(args, "/args", "patient", true);
    if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
    if (patient->rfind("Patient/", 0) != 0 || patient->size() <= 8) {
      return make_error(Errc::invalid_argument, "/args/patient: expected a reference such as \"Patient/123\", found \"" + *patient + "\"");
    }
    auto done = on_thread<Registered>([a = *address, p = *patient](Manager& m, auto reply) { reply(m.assign(a, p)); },
                                      kCommandTimeout);
    if (!done) return done.error();
    if (auto stored = done->stored.get(); !stored) return stored.error();
    return nlohmann::json{{"device", device_json(done->device)}};
  }

  // User Data Service: {address, action: "register" | "consent" | "delete", user (consent), consent
  // (register, consent: the code 0..9999 the person chose)}. The device must connect meanwhile (the
  // technician wakes it); the answer is the device's own (the new user index, or why it refused).
  Result<nlohmann::json> users(const nlohmann::json& args) {
    JsonReader in;
    in.only_keys(args, "/args", {"address", "action", "user", "consent"});
    auto address = address_arg(in, args);
    if (!address) return address.error();
    auto action = in.string(args, "/args", "action", true);
    UdsRequest req;
    if (action) {
      if (*action == "register") req.op = UdsRequest::Op::register_user;
      else if (*action == "consent") req.op = UdsRequest::Op::consent;
      else if (*action == "delete") req.op = UdsRequest::Op::delete_user_data;
      else in.fail("/args/action", "expected \"register\", \"consent\" or \"delete\", found \"" + *action + "\"");
    }
    const bool needs_code = req.op != UdsRequest::Op::delete_user_data;
    auto user = in.integer(args, "/args", "user", req.op == UdsRequest::Op::consent, 0, 254);  // 255: the unknown user
    auto code = in.integer(args, "/args", "consent", needs_code, 0, 9999);
    if (!in.ok()) return make_error(Errc::invalid_argument, in.joined(""));
    if (user) req.user = static_cast<int>(*user);
    if (code) req.code = static_cast<std::uint16_t>(*code);
    const auto deadline = context_.clock.monotonic() + kUserDataTimeout;
    auto done = on_thread<UdsAnswer>([a = *address, req, deadline](Manager& m, auto reply) { m.user_data(a, req, reply, deadline); },
                                     kUserDataTimeout + std::chrono::seconds(5));
    if (!done) return done.error();
    return nlohmann::json{{"address", *address}, {"device", device_id(*address)}, {"action", *action}, {"user", done->user}};
  }

  void publish(nlohmann::json s) {
    std::lock_guard lock(status_mu_);
    status_ = std::move(s);
  }

  void run() {
    std::unique_ptr<Bluez> bus;
    std::unique_ptr<Manager> manager;
    int failures = 0;
    auto next_try = context_.clock.monotonic();
    const UnitDraw draw = random_unit_draw();  // the bus reopen waits like every other reconnect (core/backoff)
    const auto drop = [&] {
      manager.reset();  // nothing left that could call back into it: the bus goes next
      bus.reset();
    };
    for (;;) {
      std::deque<Job> jobs;
      {
        std::lock_guard lock(mu_);
        if (stopping_) break;
        jobs.swap(jobs_);
      }
      if (bus && !bus->bus_ok()) {
        context_.log.warning(kLog, "system-bus-lost", {{"action", "reconnecting"}});
        drop();
      }
      if (!bus && context_.clock.monotonic() >= next_try) {
        auto opened = connect_system_bus();
        if (opened) {
          bus = std::move(*opened);
          manager = std::make_unique<Manager>(*bus, config_, context_);
          std::vector<Device> registry;
          if (context_.devices) {
            auto r = context_.devices();
            if (r) registry = std::move(*r);
            else context_.log.error(kLog, "registry-read-failed", {{"error", r.error().message}});
          }
          if (auto r = manager->start(registry); !r) {
            context_.log.error(kLog, "bluez-watch-failed", {{"error", r.error().message}});
            drop();
          }
        }
        if (!bus) {
          ++failures;
          const auto delay = backoff_delay(BackoffPolicy{config_.backoff_base, config_.backoff_cap}, failures, draw());
          next_try = context_.clock.monotonic() + delay;
          publish({{"bluetoothd", false},
                   {"adapter", {{"name", config_.adapter}, {"state", "no D-Bus system bus: " + (opened ? std::string("subscription failed") : opened.error().message)}}},
                   {"devices", nlohmann::json::object()}});
        } else {
          failures = 0;
        }
      }
      if (bus) bus->dispatch();
      for (auto& job : jobs) job(manager.get());
      std::chrono::milliseconds timeout{1000};
      if (manager) {
        manager->tick(context_.clock.monotonic());
        publish(manager->status());
        if (auto next = manager->next_deadline()) {
          auto until = std::chrono::duration_cast<std::chrono::milliseconds>(*next - context_.clock.monotonic());
          timeout = std::clamp(until, std::chrono::milliseconds(0), timeout);
        }
        bus->wait(wake_.fd(), timeout);
      } else {
        pollfd fd{wake_.fd(), POLLIN, 0};
        (void)::poll(&fd, 1, static_cast<int>(timeout.count()));
      }
      wake_.drain();
    }
    // Jobs posted while stopping still get an answer.
    std::deque<Job> left;
    {
      std::lock_guard lock(mu_);
      left.swap(jobs_);
    }
    for (auto& job : left) job(nullptr);
    drop();
  }

  const BleConfig config_;
  SourceContext context_;
  WakeFd wake_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  mutable std::mutex status_mu_;
  nlohmann::json status_;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<Source>> make_ble_source(const nlohmann::json& config, const std::string& path,
                                                const SourceContext& context) {
  auto parsed = parse_config(config, path);
  if (!parsed) return parsed.error();
  return std::unique_ptr<Source>(std::make_unique<BleSource>(std::move(*parsed), context));
}

}  // namespace carehub::ble
