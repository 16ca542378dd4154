#include "tests/bench/e2e_peers.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "tests/bench/e2e_workload.hpp"

namespace carehub::bench {
namespace {

std::vector<std::string> stat_fields(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> f;
  const auto close = all.rfind(')');
  if (close == std::string::npos) return f;
  std::istringstream rest(all.substr(close + 2));
  for (std::string field; rest >> field;) f.push_back(field);
  return f;  // f[0] is the state (field 3): field n is f[n - 3]
}

std::string comm_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string c;
  std::getline(in, c);
  return c;
}

// What tests/support writes, minus its save-after-every-change (there for the tests that SIGKILL their
// broker; a hub's broker keeps mosquitto's default), plus room for a full-rate burst queued for a slow
// subscriber (mosquitto drops QoS 1 messages beyond max_queued_messages, 1,000 by default).
void as_a_hubs_broker(test::MosquittoPeer& broker, const std::string& dir) {
  const auto path = dir + "/mosquitto.conf";
  auto conf = test::read_file(path);
  const std::string save = "autosave_on_changes true\nautosave_interval 1\n";
  const auto at = conf.find(save);
  if (at == std::string::npos) throw std::runtime_error("tests/support's mosquitto.conf changed: " + conf);
  conf.erase(at, save.size());
  conf += "max_queued_messages 1000000\n";
  broker.stop();
  test::write_file(path, conf);
  broker.start();
}

}  // namespace

double cpu_seconds(pid_t pid) {
  const auto f = stat_fields(pid);
  if (f.size() < 13) return 0;
  const double ticks = static_cast<double>(std::stoll(f[11]) + std::stoll(f[12]));  // utime 14, stime 15
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::int64_t status_kib(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string k;
  std::int64_t v = 0;
  while (in >> k) {
    if (k == key + ":") {
      in >> v;
      return v;
    }
    in.ignore(4096, '\n');
  }
  return 0;
}

pid_t child_pid(const std::string& comm) {
  const auto self = std::to_string(::getpid());
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto pid = static_cast<pid_t>(std::stoi(name));
    const auto f = stat_fields(pid);
    if (f.size() > 1 && f[1] == self && comm_of(pid).rfind(comm, 0) == 0) return pid;
  }
  return -1;
}

Peers::Peers(bool hl7_invariants, bool broker_nagle) {
  std::filesystem::create_directories(dir_.file("broker"));
  // Nagle (mosquitto's default) delays small writes to a subscriber behind an unacknowledged one, which
  // meets the receiver's delayed ACK: 40 ms and more on an alert and on each acknowledgement's way back, a
  // cost of the broker's configuration, not of carehubd (whose own subscriber sets TCP_NODELAY; Paho C
  // 1.3.11, its publisher, does not: docs/performance.md).
  test::MosquittoOptions options;
  options.tcp_nodelay = !broker_nagle;
  broker_ = std::make_unique<test::MosquittoPeer>(dir_.file("broker"), options);
  as_a_hubs_broker(*broker_, dir_.file("broker"));
  broker_pid_ = child_pid("mosquitto");
  test::FhirPeerOptions o;
  o.hl7_invariants = hl7_invariants;
  fhir_ = std::make_unique<test::FhirPeer>(dir_.file("fhir.log"), o);
  fhir_pid_ = child_pid("node");
  reset_fhir();
}

void Peers::reset_fhir() {
  fhir_->reset();
  fhir_->put("Patient/test-patient", {{"resourceType", "Patient"}, {"id", "test-patient"}});
}

std::int64_t Peers::count(const std::string& type) {
  const auto s = fhir_->stats();
  return s["resources"].value(type, std::int64_t{0});
}

Carehubd::Carehubd(Peers& peers, const std::string& name, bool encrypted) {
  daemon_ = std::make_unique<test::DaemonProcess>(dir_, peers.fhir().base_url());
  if (!encrypted) daemon_->config()["store"]["encryption"] = "off";
  test::write_file(dir_.file("rules.json"), rules_json());
  auto& c = daemon_->config();
  c["log"]["level"] = "info";  // a hub's level: debug would cost a line per reading
  c["fhir"]["gzip"] = "off";
  // For comparing upload and commit windows by hand (the table is always measured with carehubd's default).
  if (const char* w = std::getenv("CAREHUB_BENCH_UPLOAD_WINDOW_MS")) c["fhir"]["upload_window_ms"] = std::atoi(w);
  if (const char* w = std::getenv("CAREHUB_BENCH_COMMIT_WINDOW_MS")) c["pipeline"]["commit_window_ms"] = std::atoi(w);
  c["rules"] = {{"file", dir_.file("rules.json")}};
  c["alerts"] = {{"mqtt", {{"broker", peers.broker().url()}}}};
  c["sources"]["mqtt"] = {{"broker", peers.broker().url()},
                          {"client_id", "carehub-bench-" + name},
                          {"subscriptions", {{{"topic", kReadingsTopic}, {"qos", 1}, {"format", "reading-json"}}}}};
}

Carehubd::~Carehubd() = default;

bool Carehubd::start() {
  if (daemon_->start_as_unit()) return true;
  std::cerr << "carehubd did not start:\n" << daemon_->log();
  return false;
}

}  // namespace carehub::bench
