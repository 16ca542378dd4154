// End to end under load (issue 15): mosquitto, the validating FHIR peer (tests/peers/fhir) and carehubd,
// each started here on free loopback ports; a publisher sends readings over MQTT QoS 1 (1 in 50 an extreme
// blood pressure that raises a red alert) and a display client acknowledges every alert at once on
// <prefix>/ack. Per scenario: reading → alert on MQTT latency, Observations/s delivered to the peer and the
// drain lag, carehubd's CPU per 1,000 readings (/proc/<pid>/stat), its RSS (VmRSS sampled, VmHWM); and, in
// the same run on the same peer, a direct bulk client posting the same resources (e2e_baseline.hpp).
// One JSON object per measurement on stdout (scripts/bench.sh collects them); progress on stderr.
// Not a test: nothing here asserts a time.
//   e2e_bench [--rate-seconds S] [--full-readings N] [--idle-alerts N] [--idle-seconds S]
//             [--hl7-invariants] [--broker-nagle] [--only idle,100,1000,1000-plaintext,full,baseline]
#include <cstdlib>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include "tests/bench/e2e_scenarios.hpp"
#include "tests/support/daemon_process.hpp"

namespace {

using namespace carehub::bench;

struct Options {
  int rate_seconds = 20;
  std::int64_t full_readings = 40'000;
  int idle_alerts = 50;
  int idle_seconds = 5;
  bool hl7_invariants = false;
  bool broker_nagle = false;
  std::set<std::string> only{"idle", "100", "1000", "1000-plaintext", "full", "baseline"};
};

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--hl7-invariants") {
      o.hl7_invariants = true;
    } else if (a == "--broker-nagle") {
      o.broker_nagle = true;
    } else if (a == "--rate-seconds" && has_value) {
      o.rate_seconds = std::atoi(argv[++i]);
    } else if (a == "--full-readings" && has_value) {
      o.full_readings = std::atoll(argv[++i]);
    } else if (a == "--idle-alerts" && has_value) {
      o.idle_alerts = std::atoi(argv[++i]);
    } else if (a == "--idle-seconds" && has_value) {
      o.idle_seconds = std::atoi(argv[++i]);
    } else if (a == "--only" && has_value) {
      o.only.clear();
      std::istringstream list(argv[++i]);
      for (std::string s; std::getline(list, s, ',');) o.only.insert(s);
    } else {
      std::cerr << "usage: e2e_bench [--rate-seconds S] [--full-readings N] [--idle-alerts N] [--idle-seconds S]"
                   " [--hl7-invariants] [--broker-nagle] [--only idle,100,1000,1000-plaintext,full,baseline]\n";
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) return 2;
  const std::string validation = o.hl7_invariants ? "default checks + --hl7-invariants" : "default checks";
  const auto environment = carehub::test::DaemonProcess::unit_environment();  // as systemd/carehubd.service
  const Emit emit = [&](const std::string& name, double value, const std::string& unit, const nlohmann::json& extra) {
    nlohmann::json j{{"name", name}, {"value", value}, {"unit", unit}};
    if (extra.is_object()) j.update(extra);
    j["peer_validation"] = validation;
    j["broker_tcp_nodelay"] = !o.broker_nagle;
    j["carehubd_environment"] = environment;
    std::cout << j.dump() << std::endl;
  };
  Peers peers(o.hl7_invariants, o.broker_nagle);
  auto step = [&](const std::string& what, const std::function<bool()>& run) {
    if (!o.only.count(what)) return true;
    std::cerr << "== e2e " << what << "\n";
    return run();
  };
  bool ok = true;
  ok = step("idle", [&] { return run_idle(peers, o.idle_seconds, o.idle_alerts, emit); }) && ok;
  ok = step("100", [&] { return run_load(peers, "e2e_100", 100, 100LL * o.rate_seconds, emit); }) && ok;
  ok = step("1000", [&] { return run_load(peers, "e2e_1000", 1000, 1000LL * o.rate_seconds, emit); }) && ok;
  // The cost of the encrypted buffer (issue 18): the same load on a plaintext buffer (/store/encryption off).
  ok = step("1000-plaintext", [&] {
    return run_load(peers, "e2e_1000_plaintext", 1000, 1000LL * o.rate_seconds, emit, nullptr, false);
  }) && ok;
  // The baseline sends the alerts carehubd raised in the full-rate run (an extreme that arrives while the
  // previous alert is still unacknowledged raises none: one open alert per rule, patient and band).
  std::set<std::int64_t> alerted;
  bool full_ran = false;
  ok = step("full", [&] { return full_ran = run_load(peers, "e2e_full", 0, o.full_readings, emit, &alerted); }) && ok;
  ok = step("baseline", [&] { return run_baseline(peers, o.full_readings, emit, full_ran ? &alerted : nullptr); }) && ok;
  return ok ? 0 : 1;
}
