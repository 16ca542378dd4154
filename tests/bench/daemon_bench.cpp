// carehubd's footprint and start-up, measured from outside on the real binary: RSS and CPU idle with 10
// registered devices and under 1,000 readings/s, start-up to READY=1 with 1,000,000 buffered readings,
// database bytes per reading. Prints one JSON object per measurement (scripts/bench.sh collects them).
// Also reading -> alert published on MQTT: a fever reading through carehubctl until the alert's retained
// message reaches a mosquitto_sub subscriber (includes carehubctl's own start-up, reported beside it).
//   daemon_bench [--readings N]   (N buffered readings for the start-up measurement, default 1000000)
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <functional>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/reading.hpp"
#include "store/store.hpp"
#include "core/time.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/mosquitto_peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace carehub;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

void emit(const std::string& name, double value, const std::string& unit, const nlohmann::json& extra = {}) {
  nlohmann::json j{{"name", name}, {"value", value}, {"unit", unit}};
  if (extra.is_object()) j.update(extra);
  std::cout << j.dump() << std::endl;
}

std::int64_t rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  std::int64_t v = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> v;
      return v;
    }
    in.ignore(4096, '\n');
  }
  return 0;
}

// utime + stime in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(all.substr(all.rfind(')') + 2));
  std::string field;
  std::vector<std::string> f;
  while (rest >> field) f.push_back(field);
  // After the comm: state is field 3, utime 14, stime 15 (1-based) -> indexes 11 and 12 here.
  const double ticks = static_cast<double>(std::stoll(f.at(11)) + std::stoll(f.at(12)));
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

Reading reading(std::int64_t i, std::int64_t base_ms) {
  Reading r;
  r.kind = i % 2 ? Kind::heart_rate : Kind::room_temperature;
  r.device = i % 2 ? "ble-watch-" + std::to_string(i % 10) : "openhab-room-" + std::to_string(i % 4);
  r.patient = "Patient/test-patient";
  r.time = from_epoch_ms(base_ms + i * 1000);
  r.received = r.time;
  r.source = "bench";
  r.values = {{"value", i % 2 ? 60.0 + static_cast<double>(i % 40) : 20.0 + static_cast<double>(i % 50) / 10.0}};
  return r;
}

// The store carehubd will open: `n` pending readings and 10 registered devices, written directly.
void prepare(const std::string& path, std::int64_t n) {
  auto w = StoreWriter::open({.path = path, .synchronous = Synchronous::normal, .max_bytes = 0}).value();
  {
    auto tx = w->begin().value();
    for (int d = 0; d < 10; ++d) {
      Device dev;
      dev.id = "ble-watch-" + std::to_string(d);
      dev.address = "AA:BB:CC:DD:EE:0" + std::to_string(d);
      dev.name = "Watch " + std::to_string(d);
      dev.patient = "Patient/test-patient";
      (void)w->upsert_device(dev);
    }
    (void)tx.commit();
  }
  // A week old at most: inside the default 30-day retention, so nothing is pruned meanwhile.
  const std::int64_t base = to_epoch_ms(std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now())) -
                            n * 1000 - 3600 * 1000;
  for (std::int64_t i = 0; i < n;) {
    auto tx = w->begin().value();
    for (std::int64_t k = 0; k < 20000 && i < n; ++k, ++i) {
      const auto r = reading(i, base);
      (void)w->insert_reading(r, reading_uid(r));
    }
    (void)tx.commit();
  }
}

struct Sample {
  double cpu_percent = 0;
  std::int64_t rss_max_kib = 0;
  std::int64_t rss_end_kib = 0;
};

// CPU over `window` and the largest RSS seen (sampled every 100 ms), while `load` runs (if any).
Sample observe(pid_t pid, std::chrono::seconds window, const std::function<void(Steady::time_point)>& load = {}) {
  const auto start = Steady::now();
  const double cpu0 = cpu_seconds(pid);
  std::atomic<bool> done{false};
  std::thread loader;
  if (load) loader = std::thread([&] { load(start + window); });
  Sample s;
  while (Steady::now() < start + window) {
    s.rss_max_kib = std::max(s.rss_max_kib, rss_kib(pid));
    std::this_thread::sleep_for(100ms);  // a sampling period, not a synchronisation
  }
  if (loader.joinable()) loader.join();
  const double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
  s.cpu_percent = 100.0 * (cpu_seconds(pid) - cpu0) / elapsed;
  s.rss_end_kib = rss_kib(pid);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t buffered = 1'000'000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--readings") buffered = std::atoll(argv[i + 1]);
  }
  test::TempDir dir;

  // 1. Footprint: idle with 10 registered devices, then under 1,000 readings/s (100 per carehubctl call).
  {
    prepare(dir.file("buffer.db"), 0);
    test::DaemonProcess d(dir, "");
    d.config()["log"]["level"] = "info";
    if (!d.start_as_unit()) {
      std::cerr << "carehubd did not start:\n" << d.log();
      return 1;
    }
    std::this_thread::sleep_for(2s);  // let start-up work finish before measuring "idle"
    const auto idle = observe(d.pid(), 10s);
    emit("idle_cpu_percent", idle.cpu_percent, "%", {{"devices", 10}, {"window_s", 10}});
    emit("idle_rss_mib", static_cast<double>(idle.rss_max_kib) / 1024.0, "MiB", {{"devices", 10}});
    std::int64_t sent = 0;
    const std::int64_t base = to_epoch_ms(std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now())) - 86400000;
    const auto load = observe(d.pid(), 15s, [&](Steady::time_point until) {
      auto next = Steady::now();
      while (Steady::now() < until) {
        std::string lines;
        for (int k = 0; k < 100; ++k, ++sent) {
          lines += nlohmann::json{{"kind", "heart-rate"},
                                  {"time", format_rfc3339(from_epoch_ms(base + sent * 10))},
                                  {"device", "watch-1"},
                                  {"values", {{"value", 60 + sent % 40}}}}
                       .dump() + "\n";
        }
        (void)d.ctl({"measure", "add", "--json"}, lines);
        next += 100ms;  // pacing the offered load at 1,000 readings/s
        std::this_thread::sleep_until(next);
      }
    });
    emit("load_cpu_percent", load.cpu_percent, "%", {{"readings_per_s", 1000}, {"sent", sent}});
    emit("load_rss_mib", static_cast<double>(load.rss_max_kib) / 1024.0, "MiB", {{"readings_per_s", 1000}});
    d.signal(SIGTERM);
    d.wait_exit();
  }

  // 2. Reading -> alert on MQTT. A red fever alert per sample; closing it lets the next fever raise a new one.
  {
    test::TempDir mq;
    std::filesystem::create_directories(mq.file("broker"));
    test::MosquittoPeer broker(mq.file("broker"));
    test::DaemonProcess d(mq, "");
    test::write_file(mq.file("rules.json"), R"({"categories": {"VITAL": {"notify": true}},
      "rules": [{"id": "fever", "type": "bands", "category": "VITAL", "kind": "body-temperature",
                 "bands": {"value": {"extreme_high": 39}}, "outcomes": {"extreme_high": "red"}}]})");
    d.config()["rules"] = {{"file", "rules.json"}};
    d.config()["alerts"] = {{"mqtt", {{"broker", broker.url()}}}};
    d.config()["log"]["level"] = "info";
    if (!d.start_as_unit()) {
      std::cerr << "carehubd did not start:\n" << d.log();
      return 1;
    }
    test::ChildProcess sub({"/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-v",
                            "-t", "carehub/hub-test/alerts/+"});
    // The subscription is in place once it hears a probe published after it started.
    for (bool heard = false; !heard;) {
      (void)broker.publish("carehub/hub-test/alerts/probe", "probe");
      for (auto got = sub.read_line(1s); got; got = sub.read_line(100ms)) heard = heard || got->find("/probe ") != std::string::npos;
    }
    std::vector<double> alert_ms, ctl_ms;
    std::set<std::string> seen;
    const std::int64_t base = to_epoch_ms(std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now())) - 3600000;
    for (int i = 0; i < 60; ++i) {
      const auto line = nlohmann::json{{"kind", "body-temperature"}, {"time", format_rfc3339(from_epoch_ms(base + i * 1000))},
                                       {"values", {{"value", 40.0}}}}.dump() + "\n";
      const auto t0 = Steady::now();
      const auto added = d.ctl({"measure", "add", "--json"}, line);
      ctl_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
      if (added.exit_code != 0) {
        std::cerr << "measure add failed: " << added.err;
        return 1;
      }
      std::string id;
      while (id.empty()) {
        auto got = sub.read_line(5s);
        if (!got) {
          std::cerr << "no alert on MQTT within 5 s\n" << d.log();
          return 1;
        }
        const auto space = got->find(' ');
        const auto topic = got->substr(0, space);
        const auto leaf = topic.substr(topic.rfind('/') + 1);
        if (space == std::string::npos || leaf == "open" || leaf == "ack" || leaf == "probe" || seen.count(leaf)) continue;
        seen.insert(leaf);
        id = leaf;
      }
      alert_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
      (void)d.ctl({"alerts", "close", id});
    }
    auto pct = [](std::vector<double> v, double p) {
      std::sort(v.begin(), v.end());
      return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
    };
    emit("alert_mqtt_p50_ms", pct(alert_ms, 0.5), "ms", {{"samples", alert_ms.size()}, {"carehubctl_round_trip_p50_ms", pct(ctl_ms, 0.5)}});
    emit("alert_mqtt_p99_ms", pct(alert_ms, 0.99), "ms", {{"samples", alert_ms.size()}, {"carehubctl_round_trip_p99_ms", pct(ctl_ms, 0.99)}});
    d.signal(SIGTERM);
    d.wait_exit();
  }

  // 3. Start-up to READY=1 with `buffered` readings in the buffer; database bytes per reading.
  {
    test::TempDir big;
    const auto path = big.file("buffer.db");
    const auto made = Steady::now();
    prepare(path, buffered);
    std::cerr << "prepared " << buffered << " readings in "
              << std::chrono::duration<double>(Steady::now() - made).count() << " s\n";
    auto reader = StoreReader::open({.path = path}).value();
    const auto counts = reader->counts().value();
    emit("db_bytes_per_reading", static_cast<double>(counts.bytes) / static_cast<double>(buffered), "B",
         {{"readings", buffered}, {"db_bytes", counts.bytes}});
    std::vector<double> ms;
    for (int run = 0; run < 3; ++run) {
      test::DaemonProcess d(big, "http://127.0.0.1:1/fhir/R4");  // nothing listens: the backlog stays
      d.config()["store"]["path"] = path;
      const auto t0 = Steady::now();
      if (!d.start_as_unit()) {
        std::cerr << "carehubd did not start:\n" << d.log();
        return 1;
      }
      ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
      d.signal(SIGTERM);
      d.wait_exit();
    }
    std::sort(ms.begin(), ms.end());
    emit("startup_ready_ms", ms[1], "ms", {{"buffered_readings", buffered}, {"runs_ms", ms}});
  }
  return 0;
}
