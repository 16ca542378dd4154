#include "tests/bench/e2e_scenarios.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "core/time.hpp"
#include "tests/bench/e2e_baseline.hpp"
#include "tests/bench/e2e_mqtt.hpp"
#include "tests/bench/e2e_workload.hpp"

namespace carehub::bench {
namespace {

using namespace std::chrono_literals;

double secs(Steady::duration d) { return std::chrono::duration<double>(d).count(); }
double ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::int64_t now_ms() {
  return to_epoch_ms(std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()));
}

// RSS every 100 ms (a sampling period, not a synchronisation), and carehubd's notify queue read every
// second: a full queue would block its main thread in sd_notify.
class Sampler {
 public:
  explicit Sampler(Carehubd& d) : d_(d), thread_([this] { run(); }) {}
  ~Sampler() { stop(); }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::int64_t rss_max_kib() const { return max_; }

 private:
  void run() {
    for (int tick = 0; !done_; ++tick) {
      max_ = std::max<std::int64_t>(max_, status_kib(d_.pid(), "VmRSS"));
      if (tick % 10 == 0) d_.drain_notify();
      std::this_thread::sleep_for(100ms);
    }
  }
  Carehubd& d_;
  std::atomic<bool> done_{false};
  std::atomic<std::int64_t> max_{0};
  std::thread thread_;
};

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout, std::chrono::milliseconds every) {
  const auto deadline = Steady::now() + timeout;
  while (!done()) {
    if (Steady::now() >= deadline) return false;
    std::this_thread::sleep_for(every);  // polling a peer's count, with a deadline
  }
  return true;
}

bool start_connected(Carehubd& d) {
  if (!d.start()) return false;
  if (wait_until([&] { return d.status()["sources"]["mqtt"]["state"] == "connected"; }, 30s, 50ms)) return true;
  std::cerr << "carehubd's MQTT source did not connect:\n" << d.log();
  return false;
}

}  // namespace

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

bool run_idle(Peers& peers, int idle_seconds, int alerts, const Emit& emit) {
  peers.reset_fhir();
  Carehubd d(peers, "idle");
  if (!start_connected(d)) return false;
  Display display(peers.broker().url(), "bench-display-idle", kAlertPrefix);
  Publisher pub(peers.broker().url(), "bench-publisher-idle", 100);
  Sampler sampler(d);
  std::this_thread::sleep_for(1s);  // start-up work (first upload pass, alert snapshot) out of the idle window
  const double cpu0 = cpu_seconds(d.pid());
  const auto t0 = Steady::now();
  std::int64_t idle_rss = 0;
  while (Steady::now() < t0 + std::chrono::seconds(idle_seconds)) {
    idle_rss = std::max(idle_rss, status_kib(d.pid(), "VmRSS"));
    std::this_thread::sleep_for(100ms);
  }
  const double idle_cpu = 100.0 * (cpu_seconds(d.pid()) - cpu0) / secs(Steady::now() - t0);
  emit("e2e_idle_cpu_percent", idle_cpu, "%", {{"window_s", idle_seconds}});
  emit("e2e_idle_rss_mib", static_cast<double>(idle_rss) / 1024.0, "MiB", {{"config", "mqtt source, mqtt alerts, fhir upload"}});

  const Workload w{now_ms() - 3'600'000, static_cast<std::int64_t>(alerts) * kAlertEvery};
  std::vector<double> latency, ack;
  for (std::int64_t k = 0; k < alerts; ++k) {
    const auto i = k * kAlertEvery + kAlertEvery / 2;
    const auto sent = Steady::now();
    pub.publish(kReadingsTopic, w.payload(i));
    if (!display.wait_acknowledged(k, 10s)) {
      std::cerr << "idle: no acknowledged alert for extreme " << k << " within 10 s\n" << d.log();
      return false;
    }
    const auto seen = display.seen().at(k);
    latency.push_back(ms(seen.shown - sent));
    ack.push_back(ms(*seen.acked - seen.shown));
  }
  emit("e2e_idle_alert_p50_ms", percentile(latency, 0.5), "ms", {{"samples", latency.size()}});
  emit("e2e_idle_alert_p99_ms", percentile(latency, 0.99), "ms",
       {{"samples", latency.size()}, {"p90_ms", percentile(latency, 0.9)}, {"max_ms", percentile(latency, 1.0)}});
  emit("e2e_idle_ack_roundtrip_p50_ms", percentile(ack, 0.5), "ms",
       {{"what", "alert shown -> its acknowledged revision back on MQTT"}});
  sampler.stop();
  emit("e2e_idle_rss_hwm_mib", static_cast<double>(status_kib(d.pid(), "VmHWM")) / 1024.0, "MiB", {});
  return true;
}

bool run_load(Peers& peers, const std::string& name, double rate, std::int64_t count, const Emit& emit,
              std::set<std::int64_t>* alerted, bool encrypted) {
  peers.reset_fhir();
  Carehubd d(peers, name, encrypted);
  if (!start_connected(d)) return false;
  Display display(peers.broker().url(), "bench-display-" + name, kAlertPrefix);
  Publisher pub(peers.broker().url(), "bench-publisher-" + name, 100);
  std::this_thread::sleep_for(1s);  // start-up work out of the measured window
  const Workload w{now_ms() - count - 60'000, count};
  std::map<std::int64_t, Steady::time_point> sent;
  Sampler sampler(d);
  const double cpu0 = cpu_seconds(d.pid()), peer0 = cpu_seconds(peers.fhir_pid()),
               broker0 = cpu_seconds(peers.broker_pid());
  const auto t0 = Steady::now();
  for (std::int64_t i = 0; i < count; ++i) {
    if (rate > 0) std::this_thread::sleep_until(t0 + std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 * static_cast<double>(i) / rate)));
    if (Workload::extreme(i)) sent[Workload::extreme_seq(i)] = Steady::now();
    pub.publish(kReadingsTopic, w.payload(i));
  }
  const auto last_publish = Steady::now();
  pub.wait_all();
  std::int64_t stored = 0;
  const bool drained = wait_until([&] { return (stored = peers.count("Observation")) >= count; }, 600s, 20ms);
  const auto done = Steady::now();
  const double cpu = cpu_seconds(d.pid()) - cpu0, peer_cpu = cpu_seconds(peers.fhir_pid()) - peer0,
               broker_cpu = cpu_seconds(peers.broker_pid()) - broker0;
  // Acknowledgements still on their way are let through (not part of the drain), so that the next
  // scenario's carehubd starts on a quiet broker.
  display.wait_all_acknowledged(10s);
  sampler.stop();
  const auto issues = peers.count("DetectedIssue");
  if (!drained) {
    std::cerr << name << ": only " << stored << " of " << count << " Observations reached the peer within 600 s\n";
    return false;
  }
  std::vector<double> latency;
  for (const auto& [seq, s] : display.seen()) {
    if (auto it = sent.find(seq); it != sent.end()) latency.push_back(ms(s.shown - it->second));
    if (alerted) alerted->insert(seq);
  }
  const double per1000 = 1000.0 / static_cast<double>(count);
  const nlohmann::json ctx{{"readings", count}, {"rate", rate > 0 ? nlohmann::json(rate) : nlohmann::json("full")}};
  auto with = [&](nlohmann::json extra) {
    extra.update(ctx);
    return extra;
  };
  const double publish_s = secs(last_publish - t0);
  emit(name + "_offered_per_s", static_cast<double>(count) / publish_s, "/s", with({{"publish_s", publish_s}}));
  emit(name + "_observations_per_s", static_cast<double>(count) / secs(done - t0), "/s",
       with({{"what", "readings / (first publish -> last Observation stored on the peer)"}, {"seconds", secs(done - t0)}}));
  emit(name + "_drain_lag_s", secs(done - last_publish), "s", with({{"what", "last publish -> last Observation stored"}}));
  emit(name + "_cpu_s_per_1000", cpu * per1000, "s",
       with({{"cpu_s", cpu}, {"peer_cpu_s_per_1000", peer_cpu * per1000}, {"broker_cpu_s_per_1000", broker_cpu * per1000}}));
  emit(name + "_alert_p50_ms", percentile(latency, 0.5), "ms", with({{"samples", latency.size()}}));
  emit(name + "_alert_p99_ms", percentile(latency, 0.99), "ms",
       with({{"samples", latency.size()}, {"expected_alerts", w.alerts()}, {"unmatched", display.unmatched()},
             {"detected_issues_on_peer", issues}, {"p90_ms", percentile(latency, 0.9)},
             {"p95_ms", percentile(latency, 0.95)}, {"max_ms", percentile(latency, 1.0)}}));
  emit(name + "_alerts_raised", static_cast<double>(latency.size()), "", with({{"extremes", w.alerts()},
       {"what", "extremes that raised an alert; one arriving while the previous is unacknowledged raises none"}}));
  emit(name + "_rss_max_mib", static_cast<double>(sampler.rss_max_kib()) / 1024.0, "MiB", with({}));
  emit(name + "_rss_hwm_mib", static_cast<double>(status_kib(d.pid(), "VmHWM")) / 1024.0, "MiB", with({}));
  return true;
}

bool run_baseline(Peers& peers, std::int64_t count, const Emit& emit, const std::set<std::int64_t>* alerted) {
  peers.reset_fhir();
  const Workload w{now_ms() - count - 60'000, count};
  const double peer0 = cpu_seconds(peers.fhir_pid());
  const auto r = run_direct_bulk_client(peers.fhir().base_url(), w, alerted);
  const double peer_cpu = cpu_seconds(peers.fhir_pid()) - peer0;
  if (!r.ok) {
    std::cerr << "direct bulk client: " << r.error << "\n";
    return false;
  }
  const auto stored = peers.count("Observation");
  emit("baseline_observations_per_s", static_cast<double>(r.observations) / r.seconds, "/s",
       {{"observations", r.observations}, {"stored_on_peer", stored}, {"alerts", r.alerts}, {"alert_revisions", r.alert_revisions},
        {"requests", r.requests}, {"seconds", r.seconds},
        {"client_cpu_s_per_1000", r.cpu_seconds * 1000.0 / static_cast<double>(count)},
        {"peer_cpu_s_per_1000", peer_cpu * 1000.0 / static_cast<double>(count)}});
  return true;
}

}  // namespace carehub::bench
