// The hostile-peer harness (issue 12, design invariant 6): the real carehubd among peers that lie, stall and
// attack. Each test is one scenario (its name is the gtest parameter, so `--gtest_filter='*/mqtt_garbage'`
// or `ctest -R hostile.*mqtt_garbage` runs one) and runs CAREHUB_HOSTILE_ROUNDS rounds. A round:
//   1. honest MQTT messages (reading JSON and a plain number), acknowledged by carehubd;
//   2. the scenario's hostile input, from the peer it names: the hostile openHAB (tests/peers/hostile/
//      openhab.py), MQTT broker (mqtt_broker.py), FHIR server (fhir.py, in front of the real FHIR peer),
//      or the control socket (this file);
//   3. honest input interleaved behind it: openHAB item updates, an openHAB state over MQTT, manual
//      readings through carehubctl;
//   4. the checks: carehubd alive with no sanitizer report in its stderr, VmRSS and VmHWM under
//      CAREHUB_HOSTILE_RSS_MB, every honest reading of every round so far stored exactly once under the
//      hub's patient (and no reading under another patient), and once the FHIR peer is honest again,
//      every honest reading uploaded exactly once (counted on the real FHIR peer by identifier).
// Every peer prints the seed (CAREHUB_HOSTILE_SEED, default fixed so CI's outcome is reproducible); a line
// "[hostile] scenario=... seed=... round=..." per round gives the RSS and what was checked.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "sync/http_client.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/fhir_peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kIdSystem = "urn:ietf:rfc:3986";
constexpr const char* kPatient = "Patient/test-patient";  // DaemonProcess's hub patient

// The scenarios, named as the peers name them (each peer's --list); ctl_* are played from this file and
// `mix` runs every scenario of every peer in each round.
const std::vector<std::string> kOpenhab = {
    "oh_alive_numbers", "oh_event_numbers", "oh_event_deep",      "oh_event_garbage",   "oh_event_endless",
    "oh_stream_reset",  "oh_stream_slowloris", "oh_items_numbers", "oh_items_deep",      "oh_items_garbage",
    "oh_items_endless", "oh_items_gzip_bomb",  "oh_items_slowloris", "oh_items_reset",   "oh_items_status"};
const std::vector<std::string> kMqtt = {
    "mqtt_bad_remaining_length", "mqtt_huge_remaining_length", "mqtt_oversize",        "mqtt_garbage",
    "mqtt_huge_topics",          "mqtt_invalid_packets",       "mqtt_hostile_payloads", "mqtt_dup_redelivery",
    "mqtt_dup_same_connection",  "mqtt_lost_puback",           "mqtt_slowloris",        "mqtt_reset",
    "mqtt_hostile_connack",      "mqtt_hostile_suback"};
const std::vector<std::string> kFhir = {
    "fhir_garbage",   "fhir_deep_outcome", "fhir_numbers",     "fhir_gzip_bomb",    "fhir_endless",
    "fhir_slowloris", "fhir_resets",       "fhir_forward_then_garbage", "fhir_retry_after", "fhir_statuses",
    "fhir_wrong_bundle", "fhir_token_numbers", "fhir_token_hostile"};
const std::vector<std::string> kControl = {"ctl_garbage", "ctl_deep", "ctl_numbers", "ctl_slow_clients"};

std::vector<std::string> all_scenarios() {
  std::vector<std::string> out;
  for (const auto* list : {&kOpenhab, &kMqtt, &kFhir, &kControl}) out.insert(out.end(), list->begin(), list->end());
  out.push_back("mix");
  return out;
}

bool starts_with(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

std::string seed() {
  const char* v = std::getenv("CAREHUB_HOSTILE_SEED");
  return v && *v ? v : "20261204";
}

json http(const std::string& method, const std::string& url, const json& body = nullptr,
          std::chrono::milliseconds timeout = 240s) {
  sync::CurlOptions o;
  o.request_timeout = timeout;
  auto client = sync::make_curl_client(o);
  sync::HttpRequest req{method, url, {{"Content-Type", "application/json"}}, body.is_null() ? "" : body.dump()};
  auto resp = client->send(req);
  if (!resp) throw std::runtime_error(method + " " + url + ": " + resp.error().message);
  if (resp->status >= 300) throw std::runtime_error(method + " " + url + ": HTTP " + std::to_string(resp->status) + " " + resp->body);
  return json::parse(resp->body);
}

// One of the Python peers in tests/peers/hostile, started for one test and stopped with it.
class ScriptPeer {
 public:
  ScriptPeer(const std::string& script, std::vector<std::string> args, const std::string& log_file) : log_(log_file) {
    std::vector<std::string> argv{"/usr/bin/python3", (source_dir() / "tests" / "peers" / "hostile" / script).string()};
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = std::make_unique<ChildProcess>(argv, std::map<std::string, std::string>{}, log_file);
    auto line = process_->read_line(20s);
    if (!line || !starts_with(*line, "LISTENING ")) throw std::runtime_error(script + " did not start:\n" + read_file(log_file));
    std::istringstream in(line->substr(10));
    in >> port_ >> control_;
  }
  ~ScriptPeer() {
    if (process_ && process_->running()) {
      process_->signal(SIGTERM);
      process_->wait(10s);
    }
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  json call(const std::string& method, const std::string& path, const json& body = nullptr) {
    return http(method, "http://127.0.0.1:" + std::to_string(control_) + path, body.is_null() ? json::object() : body);
  }
  bool running() { return process_->running(); }
  std::string log() const { return read_file(log_); }

 private:
  std::string log_;
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
  int control_ = 0;
};

std::string tail(const std::string& text, std::size_t lines = 80) {
  std::size_t from = text.size();
  for (std::size_t n = 0; n <= lines && from > 0; ++n) {
    const auto nl = text.rfind('\n', from - 1);
    if (nl == std::string::npos) {
      from = 0;
      break;
    }
    from = nl;
  }
  auto out = text.substr(from);
  if (out.size() > 16000) out = "..." + out.substr(out.size() - 16000);  // one 60 KB log line is enough
  return out;
}

// /proc/<pid>/status of a live process; "" once it is gone or a zombie (it crashed and is not reaped yet).
std::string proc_status(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::stringstream s;
  s << in.rdbuf();
  const auto text = s.str();
  if (text.find("State:\tZ") != std::string::npos || text.find("State:\tX") != std::string::npos) return "";
  return text;
}

long kb(const std::string& status, const std::string& field) {
  const auto at = status.find(field + ":");
  return at == std::string::npos ? -1 : std::atol(status.c_str() + at + field.size() + 1);
}

// What a sanitizer, the C++ runtime or the kernel's default handlers leave in stderr when carehubd dies.
const char* const kCrashMarks[] = {"AddressSanitizer", "UndefinedBehaviorSanitizer", "ThreadSanitizer", "LeakSanitizer",
                                   "MemorySanitizer", "runtime error:", "terminate called", "Assertion `",
                                   "stack-overflow", "Segmentation fault"};

// An honest reading the test expects exactly once in the buffer (and once on the FHIR server).
struct Good {
  Good(std::string d, std::string k, double v, std::string t, int r)
      : device(std::move(d)), kind(std::move(k)), value(v), time(std::move(t)), round(r) {}
  std::string device;
  std::string kind;
  double value = 0;
  std::string time;  // empty: the reading takes its receive time
  int round = 0;
  std::string uid;   // found in the buffer
  bool uploaded = false;
  std::string describe() const {
    char v[32];
    std::snprintf(v, sizeof v, "%.2f", value);
    return "round " + std::to_string(round) + ": " + device + " " + kind + " " + v + (time.empty() ? "" : " @" + time);
  }
  bool matches(const json& row) const {
    if (row.value("device", "") != device || row.value("kind", "") != kind) return false;
    if (!time.empty() && row.value("time", "") != time) return false;
    const auto& values = row["values"];
    if (!values.is_object() || values.empty() || !values.begin()->is_number()) return false;
    return std::fabs(values.begin()->get<double>() - value) < 0.005;
  }
};

// ------------------------------------------------------------------------------ the control socket as a peer
int connect_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  timeval tv{5, 0};  // no hostile client of ours waits longer than this for an answer
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

void send_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const auto n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;  // refused, closed or timed out: what the daemon does with us is its business
    off += static_cast<std::size_t>(n);
  }
}

// Sends `data` on a fresh connection and reads what comes back: until the daemon closes, or once an answer
// came, until 200 ms pass without more (5 s at most). The answers are not judged (a hostile client gets
// whatever error it deserves); the daemon's survival and the honest readings are.
std::string one_shot(const std::string& socket, const std::string& data) {
  const int fd = connect_unix(socket);
  if (fd < 0) return {};
  send_all(fd, data);
  ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[65536];
  const auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline && out.size() < (8u << 20)) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, out.empty() ? 5000 : 200) <= 0) break;
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string deep(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// Hostile control clients that keep going in the background while the round's honest input is added.
class SlowClients {
 public:
  SlowClients(const std::string& socket, int trickling, int not_reading) {
    for (int i = 0; i < trickling; ++i) {
      threads_.emplace_back([this, socket] {
        const int fd = connect_unix(socket);
        const std::string req = "{\"id\":1,\"cmd\":\"status\"}\n";
        for (std::size_t k = 0; fd >= 0 && !stop_; k = (k + 1) % req.size()) {
          send_all(fd, req.substr(k, 1));
          std::this_thread::sleep_for(100ms);  // slowloris: the pace is the attack, not a synchronisation
        }
        if (fd >= 0) ::close(fd);
      });
    }
    for (int i = 0; i < not_reading; ++i) {
      // Pipelines requests with big answers and never reads one: the daemon's writes must not block it.
      threads_.emplace_back([this, socket] {
        const int fd = connect_unix(socket);
        std::string burst;
        for (int k = 0; k < 200; ++k) burst += "{\"id\":" + std::to_string(k) + ",\"cmd\":\"measurements\",\"args\":{\"limit\":100000}}\n";
        if (fd >= 0) send_all(fd, burst);
        while (!stop_) std::this_thread::sleep_for(50ms);  // hold the connection open, unread
        if (fd >= 0) ::close(fd);
      });
    }
  }
  ~SlowClients() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

json control_round(const std::string& socket, const std::string& scenario, std::mt19937_64& rng) {
  int n = 0;
  auto shoot = [&](const std::string& data) {
    one_shot(socket, data);
    ++n;
  };
  if (scenario == "ctl_garbage") {
    std::string junk(4096, '\0');
    for (auto& c : junk) c = static_cast<char>(rng() & 0xff);
    shoot(junk + "\n");
    shoot(std::string("\0\0\0\n", 4));
    shoot("\xff\xfe{}\n");
    shoot("{\"id\":1}\n[]\n\"status\"\n{\"id\":{},\"cmd\":[],\"args\":1}\n{\"cmd\":\"status\",\"args\":[]}\n");
    shoot("{\"id\":1,\"cmd\":\"" + std::string(100000, 'c') + "\"}\n");
    shoot("{\"id\":1,\"cmd\":\"status\"," + std::string(2 << 20, ' ') + "}\n");  // over the 1 MiB cap
    shoot("{\"id\":1,\"cmd\":\"measure.add\",\"args\":{\"readings\":[{\"kind\":\"heart-rate\",\"device\":\"hostile-ctl\\n"
          "level=error\",\"time\":\"2026-11-21T10:00:00Z\",\"values\":{\"value\":70}}]}}\n");
    std::string many;
    for (int i = 0; i < 2000; ++i) many += "{\"id\":" + std::to_string(i) + ",\"cmd\":\"no.such\"}\n";
    shoot(many);
  } else if (scenario == "ctl_deep") {
    shoot("{\"id\":1,\"cmd\":\"status\",\"args\":" + deep(200000) + "}\n");
    shoot("{\"id\":" + deep(500000) + ",\"cmd\":\"status\"}\n");
    std::string obj;
    for (int i = 0; i < 100000; ++i) obj += "{\"a\":";
    shoot("{\"id\":1,\"cmd\":\"measure.add\",\"args\":" + obj + "1" + std::string(100000, '}') + "}\n");
    shoot("{\"id\":1,\"cmd\":\"status\",\"args\":" + std::string(900000, '[') + "\n");
    shoot("{\"id\":1,\"cmd\":\"measure.add\",\"args\":{\"readings\":[{\"kind\":\"heart-rate\",\"device\":\"hostile-ctl\","
          "\"time\":\"2026-11-21T10:00:00Z\",\"values\":{\"value\":" + deep(100000) + "}}]}}\n");
  } else if (scenario == "ctl_numbers") {
    for (const char* v : {"1e999", "-1e999", "1e300", "18446744073709551616", "-1", "1.5", "4.9e-324", "NaN"}) {
      const std::string s = v;
      shoot("{\"id\":" + s + ",\"cmd\":\"status\"}\n");
      shoot("{\"id\":1,\"cmd\":\"measurements\",\"args\":{\"limit\":" + s + "}}\n");
      shoot("{\"id\":1,\"cmd\":\"sync.now\",\"args\":{\"wait_s\":" + s + "}}\n");
      shoot("{\"id\":1,\"cmd\":\"measure.add\",\"args\":{\"readings\":[{\"kind\":\"heart-rate\",\"device\":\"hostile-ctl\","
            "\"time\":\"2026-11-21T10:00:00Z\",\"values\":{\"value\":" + s + "}}]}}\n");
    }
    for (const char* t : {"9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "2062-01-01T00:00:00Z", "2026-12-31T23:59:60Z",
                          "2026-11-21T10:00:00+99:99", "1e999"}) {
      shoot(std::string("{\"id\":1,\"cmd\":\"measure.add\",\"args\":{\"readings\":[{\"kind\":\"heart-rate\",\"device\":") +
            "\"hostile-ctl\",\"time\":\"" + t + "\",\"values\":{\"value\":70}}]}}\n");
    }
  }
  return {{"requests", n}};
}

// ------------------------------------------------------------------------------------------ the harness
json home_items() {
  auto item = [](const std::string& name, const std::string& type, const std::string& state) {
    return json{{"name", name}, {"type", type}, {"state", state}, {"tags", json::array()}, {"groupNames", json::array()}};
  };
  return json::array({item("Good_Temperature", "Number:Temperature", "NULL"),
                      item("Good_Humidity", "Number:Dimensionless", "NULL"),
                      item("Hostile_Temperature", "Number:Temperature", "20 °C"),
                      item("Hostile_Lux", "Number:Illuminance", "100 lx")});
}

class HostilePeers : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    scenario_ = GetParam();
    const auto mine = [&](std::string_view prefix) {
      return scenario_ == "mix" ? std::string("ALL") : starts_with(scenario_, prefix) ? scenario_ : std::string();
    };
    auto list = [&](const std::vector<std::string>& names, std::string_view prefix) {
      const auto m = mine(prefix);
      if (m != "ALL") return m;
      std::string out;
      for (const auto& s : names) out += (out.empty() ? "" : ",") + s;
      return out;
    };
    const auto s = seed();
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // a run killed by its timeout still shows how far it got
    std::printf("[hostile] scenario=%s seed=%s rounds=%d (replay: CAREHUB_HOSTILE_SEED=%s)\n", scenario_.c_str(), s.c_str(),
                rounds_, s.c_str());
    write_file(dir_.file("secret"), "hostile-secret\n");
    FhirPeerOptions fo;
    fo.client_id = "carehub-hub";
    fo.client_secret = "hostile-secret";
    fhir_ = std::make_unique<FhirPeer>(dir_.file("fhir.log"), fo);
    fhir_->put("Patient/test-patient", {{"resourceType", "Patient"}, {"id", "test-patient"}});
    hostile_fhir_ = std::make_unique<ScriptPeer>(
        "fhir.py",
        std::vector<std::string>{"--seed", s, "--scenarios", list(kFhir, "fhir_"), "--upstream",
                                 "127.0.0.1:" + std::to_string(fhir_->port()), "--bomb-mb", std::to_string(bomb_mb_),
                                 "--slow-s", "5"},
        dir_.file("hostile-fhir.log"));
    write_file(dir_.file("items.json"), home_items().dump());
    openhab_ = std::make_unique<ScriptPeer>(
        "openhab.py",
        std::vector<std::string>{"--seed", s, "--scenarios", list(kOpenhab, "oh_"), "--items", dir_.file("items.json"),
                                 "--alive-interval", "1", "--bomb-mb", std::to_string(bomb_mb_)},
        dir_.file("hostile-openhab.log"));
    broker_ = std::make_unique<ScriptPeer>(
        "mqtt_broker.py",
        std::vector<std::string>{"--seed", s, "--scenarios", list(kMqtt, "mqtt_"), "--topic-count",
                                 std::to_string(env_int("CAREHUB_HOSTILE_TOPICS", 300))},
        dir_.file("hostile-mqtt.log"));

    d_ = std::make_unique<DaemonProcess>(dir_, "http://127.0.0.1:" + std::to_string(hostile_fhir_->port()) + "/fhir/R4");
    auto& c = d_->config();
    c["log"]["level"] = "info";  // hostile input is logged at warning; debug would be the bulk of the disk I/O
    c["fhir"]["request_timeout_ms"] = 3000;
    c["fhir"]["connect_timeout_ms"] = 2000;
    c["fhir"]["oauth2"] = {{"token_url", hostile_fhir_->url() + "/oauth2/token"},
                           {"client_id", "carehub-hub"},
                           {"client_secret_file", dir_.file("secret")}};
    c["sources"]["openhab"] = {{"url", openhab_->url()},
                               {"keepalive_margin_s", 1},
                               {"silence_timeout_s", 2},
                               {"retry_base_ms", 50},
                               {"retry_cap_ms", 400},
                               {"connect_timeout_ms", 2000},
                               {"request_timeout_ms", 3000},
                               {"items",
                                {{{"name", "Good_Temperature"}, {"kind", "room-temperature"}},
                                 {{"name", "Good_Humidity"}, {"kind", "room-humidity"}},
                                 {{"name", "Hostile_Temperature"}, {"kind", "room-temperature"}},
                                 {{"name", "Hostile_Lux"}, {"kind", "illuminance"}}}}};
    c["sources"]["mqtt"] = {
        {"broker", "tcp://127.0.0.1:" + std::to_string(broker_->port())},
        {"client_id", "carehub-hostile"},
        {"keepalive_s", 5},
        {"connect_timeout_ms", 2000},
        {"retry_base_ms", 50},
        {"retry_cap_ms", 500},
        {"subscriptions",
         {{{"topic", "hub/readings"}, {"qos", 1}, {"format", "reading-json"}},
          {{"topic", "hub/number/+"}, {"qos", 1}, {"format", "number"}, {"kind", "room-temperature"}},
          {{"topic", "openhab/out/+/state"},
           {"qos", 1},
           {"format", "openhab-state"},
           {"items",
            {{{"name", "Mqtt_Good_Humidity"}, {"kind", "room-humidity"}},
             {{"name", "Mqtt_Hostile_Humidity"}, {"kind", "room-humidity"}}}}}}}};
    ASSERT_TRUE(d_->start()) << tail(d_->log());
    pid_ = d_->pid();
  }

  void TearDown() override {
    if (HasFailure() && d_) {
      std::printf("[hostile] scenario=%s seed=%s FAILED; carehubd's log (tail):\n%s\n", scenario_.c_str(), seed().c_str(),
                  tail(d_->log()).c_str());
      if (!proc_status(pid_).empty()) {
        const auto dead = d_->ctl({"sync", "dead"});
        std::printf("--- carehubctl sync dead:\n%s\n", tail(dead.out + dead.err, 40).c_str());
      }
      for (auto* p : {hostile_fhir_.get(), openhab_.get(), broker_.get()}) {
        if (p) std::printf("--- peer log (tail):\n%s\n", tail(p->log(), 30).c_str());
      }
      std::printf("--- FHIR peer log (tail):\n%s\n", tail(read_file(dir_.file("fhir.log")), 30).c_str());
    }
  }

  // ---------------------------------------------------------------------------------------- checks
  bool alive() {
    d_->drain_notify();  // or carehubd blocks in sd_notify after ~100 s (see DaemonProcess::drain_notify)
    if (!proc_status(pid_).empty()) return true;
    ADD_FAILURE() << "carehubd (pid " << pid_ << ") died in scenario " << scenario_ << " (seed " << seed() << ")";
    return false;
  }

  void check_stderr() {
    const auto log = d_->log();
    for (const char* mark : kCrashMarks) {
      const auto at = log.find(mark);
      if (at != std::string::npos) {
        ADD_FAILURE() << "carehubd's stderr has \"" << mark << "\":\n" << log.substr(at > 2000 ? at - 2000 : 0, 6000);
        return;
      }
    }
  }

  void check_rss(int round) {
    const auto st = proc_status(pid_);
    const long rss = kb(st, "VmRSS"), hwm = kb(st, "VmHWM");
    max_rss_ = std::max(max_rss_, rss);
    max_hwm_ = std::max(max_hwm_, hwm);
    std::printf("[hostile] scenario=%s seed=%s round=%d rss_kb=%ld hwm_kb=%ld\n", scenario_.c_str(), seed().c_str(), round,
                rss, hwm);
    const long bound = static_cast<long>(rss_bound_mb_) * 1024;
    EXPECT_LE(rss, bound) << "VmRSS over CAREHUB_HOSTILE_RSS_MB=" << rss_bound_mb_ << " after round " << round;
    EXPECT_LE(hwm, bound) << "VmHWM (peak RSS) over CAREHUB_HOSTILE_RSS_MB=" << rss_bound_mb_ << " by round " << round;
  }

  std::vector<json> rows() {
    auto r = d_->ctl({"measurements", "--json", "--limit", "100000"});
    std::vector<json> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      auto j = json::parse(line, nullptr, false);
      if (j.is_object()) out.push_back(std::move(j));
    }
    return out;
  }

  // Every honest reading so far: exactly once, under the hub's patient. Waits (bounded) for missing ones.
  void check_stored(int round) {
    const auto deadline = Clock::now() + 60s;
    std::vector<json> all;
    for (;;) {
      all = rows();
      bool complete = true;
      for (const auto& g : goods_) {
        complete = complete && std::any_of(all.begin(), all.end(), [&](const json& r) { return g.matches(r); });
      }
      if (complete || Clock::now() > deadline || !alive()) break;
      std::this_thread::sleep_for(100ms);  // polling a condition, with a deadline
    }
    for (auto& g : goods_) {
      int n = 0;
      for (const auto& r : all) {
        if (!g.matches(r)) continue;
        ++n;
        g.uid = r.value("uid", "");
        EXPECT_EQ(r.value("patient", ""), kPatient) << g.describe() << ": " << r.dump();
      }
      EXPECT_EQ(n, 1) << "honest reading stored " << n << " times after round " << round << ": " << g.describe();
    }
    for (const auto& r : all) {
      const auto p = r.value("patient", "");
      EXPECT_TRUE(p.empty() || p == kPatient) << "a reading filed under another patient: " << r.dump().substr(0, 400);
    }
    stored_ = all.size();
  }

  // The FHIR peer's hostile answers are used up by the uploader (sync now, again and again, with new tokens
  // when the token endpoint is the target), then a last `sync now --wait` and every honest reading is
  // on the real FHIR peer exactly once.
  void check_uploaded(int round) {
    const auto deadline = Clock::now() + 120s;
    for (;;) {
      const auto st = hostile_fhir_->call("GET", "/state");
      const int pending = st["pending_fhir"].get<int>() + st["pending_token"].get<int>();
      if (pending == 0) break;
      if (Clock::now() > deadline || !alive()) {
        ADD_FAILURE() << "the uploader did not use up the hostile FHIR answers within 120 s: " << st.dump();
        hostile_fhir_->call("POST", "/honest");
        break;
      }
      if (st["pending_token"].get<int>() > 0) fhir_->expire_tokens();  // the next request needs a new token
      // Something to upload, or the uploader sends nothing and the hostile answers wait for ever.
      char t[40];
      std::snprintf(t, sizeof t, "2026-10-01T%02d:%02d:%02dZ", (fillers_ / 3600) % 24, (fillers_ / 60) % 60, fillers_ % 60);
      ++fillers_;
      d_->add(json{{"kind", "heart-rate"}, {"time", t}, {"device", "filler"}, {"values", {{"value", 70}}}}.dump() + "\n");
      d_->ctl({"sync", "now"});
      std::this_thread::sleep_for(200ms);  // polling a condition, with a deadline
    }
    if (!alive()) return;
    auto r = d_->ctl({"sync", "now", "--wait", "90"});
    EXPECT_EQ(r.exit_code, 0) << "sync now --wait after round " << round << ": " << r.out << r.err;
    for (auto& g : goods_) {
      if (g.uid.empty()) continue;
      const auto n = fhir_->count_by_identifier("Observation", kIdSystem, "urn:uuid:" + g.uid);
      EXPECT_EQ(n, 1u) << "honest reading on the FHIR server " << n << " times after round " << round << ": "
                       << g.describe();
      if (n != 1 && !dead_shown_) {
        dead_shown_ = true;
        const auto dead = d_->ctl({"sync", "dead"});
        ADD_FAILURE() << "carehubctl sync dead:\n" << tail(dead.out + dead.err, 40);
      }
    }
  }

  // ---------------------------------------------------------------------------------------- a round
  bool mqtt_acked(const std::vector<std::string>& labels, std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const auto st = broker_->call("GET", "/state");
      bool all = true;
      for (const auto& l : labels) all = all && st["acked"].value(l, 0) >= 1;
      if (all) return true;
      if (Clock::now() > deadline || !alive()) {
        ADD_FAILURE() << "broker: not every honest message acknowledged: " << st.dump().substr(0, 2000);
        return false;
      }
      std::this_thread::sleep_for(50ms);  // polling a condition, with a deadline
    }
  }

  void publish(const std::string& label, const std::string& topic, const std::string& payload, int round) {
    broker_->call("POST", "/publish", {{"label", label}, {"topic", topic}, {"payload", payload}, {"round", round}});
    labels_.push_back(label);
  }

  void wait_openhab_stream() {
    const auto deadline = Clock::now() + 30s;
    while (Clock::now() < deadline && alive()) {
      if (openhab_->call("GET", "/test/clients")["connected"].get<int>() >= 1) return;
      std::this_thread::sleep_for(50ms);  // polling a condition, with a deadline
    }
  }

  void run_round(int round) {
    char buf[160];
    const int r = round;
    const auto t_start = Clock::now();
    // 1. Honest MQTT first (acknowledged before the hostile input, which may redeliver them).
    std::snprintf(buf, sizeof buf, "2026-11-21T%02d:%02d:%02dZ", 10 + (r / 3600) % 12, (r / 60) % 60, r % 60);
    const std::string t = buf;
    const double hr = 50 + r % 100;
    publish("r" + std::to_string(r) + "-json", "hub/readings",
            json{{"kind", "heart-rate"}, {"time", t}, {"device", "mqtt-good"}, {"values", {{"value", hr}}}}.dump(), r);
    goods_.emplace_back(Good{"mqtt-good", "heart-rate", hr, t, r});
    const double num = 10 + (r % 4000) * 0.01;
    std::snprintf(buf, sizeof buf, "%.2f", num);
    publish("r" + std::to_string(r) + "-number", "hub/number/good", buf, r);
    goods_.emplace_back(Good{"mqtt-hub/number/good", "room-temperature", num, "", r});
    if (!mqtt_acked(labels_, 60s)) return;

    // 2. The hostile input.
    std::unique_ptr<SlowClients> slow;
    json report = json::object();
    const bool mix = scenario_ == "mix";
    if (mix || starts_with(scenario_, "fhir_")) {
      report["fhir"] = hostile_fhir_->call("POST", "/round", {{"round", r}});
      if (mix || starts_with(scenario_, "fhir_token")) fhir_->expire_tokens();
    }
    if (mix || starts_with(scenario_, "oh_")) report["openhab"] = openhab_->call("POST", "/test/round", {{"round", r}});
    if (mix || starts_with(scenario_, "mqtt_")) report["mqtt"] = broker_->call("POST", "/round", {{"round", r}});
    std::mt19937_64 rng(std::hash<std::string>{}(seed() + "|" + scenario_ + "|" + std::to_string(r)));
    for (const auto& c : kControl) {
      if (!mix && scenario_ != c) continue;
      if (c == "ctl_slow_clients") {
        slow = std::make_unique<SlowClients>(d_->socket(), 20, 16);
      } else {
        report[c] = control_round(d_->socket(), c, rng);
      }
    }
    std::printf("[hostile] scenario=%s seed=%s round=%d hostile=%s\n", scenario_.c_str(), seed().c_str(), r,
                report.dump().substr(0, 600).c_str());
    if (!alive()) return;

    // 3. Honest input behind it: manual readings (carehubctl), openHAB item updates, an openHAB state over MQTT.
    std::vector<std::string> manual;
    for (int k = 0; k < 2; ++k) {
      std::snprintf(buf, sizeof buf, "2026-11-20T%02d:%02d:%02dZ", (r / 3600) % 12 + 12 * k, (r / 60) % 60, r % 60);
      const double v = 110 + k * 20 + r % 50;
      const std::string device = k ? "manual-good-2" : "manual-good-1";
      manual.push_back(json{{"kind", "heart-rate"}, {"time", buf}, {"device", device}, {"values", {{"value", v}}}}.dump());
      goods_.emplace_back(Good{device, "heart-rate", v, buf, r});
    }
    // A technician told "too many control connections; try again" tries again: for 30 s at most (every
    // slot a hostile client holds must come free within the control socket's request deadline).
    const auto busy = [](const std::string& err) {
      return err.find("too many control connections") != std::string::npos || err.find("Broken pipe") != std::string::npos ||
             err.find("Connection reset") != std::string::npos;
    };
    const auto ctl_deadline = Clock::now() + 30s;
    auto added = d_->add(manual[0] + "\n" + manual[1] + "\n");
    while (added.exit_code != 0 && busy(added.err) && Clock::now() < ctl_deadline) {
      std::this_thread::sleep_for(200ms);  // retrying a refused client, with a deadline
      added = d_->add(manual[0] + "\n" + manual[1] + "\n");
    }
    EXPECT_EQ(added.exit_code, 0) << "carehubctl measure add after round " << r << "'s hostile input: " << added.err;
    wait_openhab_stream();
    const double temp = 10 + (r % 4000) * 0.01, hum = 20 + (r % 600) * 0.1;
    std::snprintf(buf, sizeof buf, "%.2f °C", temp);
    openhab_->call("POST", "/test/update", {{"item", "Good_Temperature"}, {"state", buf}, {"type", "Quantity"}});
    std::snprintf(buf, sizeof buf, "%.1f %%", hum);
    openhab_->call("POST", "/test/update", {{"item", "Good_Humidity"}, {"state", buf}, {"type", "Quantity"}});
    goods_.emplace_back(Good{"openhab-Good_Temperature", "room-temperature", temp, "", r});
    goods_.emplace_back(Good{"openhab-Good_Humidity", "room-humidity", hum, "", r});
    const double mh = 30 + (r % 600) * 0.1;
    std::snprintf(buf, sizeof buf, "%.1f %%", mh);
    publish("r" + std::to_string(r) + "-state", "openhab/out/Mqtt_Good_Humidity/state", buf, r);
    goods_.emplace_back(Good{"openhab-Mqtt_Good_Humidity", "room-humidity", mh, "", r});
    const auto before = Clock::now();
    auto status = d_->ctl({"status", "--json"});
    while (status.exit_code != 0 && busy(status.err) && Clock::now() < ctl_deadline) {
      std::this_thread::sleep_for(200ms);  // retrying a refused client, with a deadline
      status = d_->ctl({"status", "--json"});
    }
    const auto status_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - before).count();
    EXPECT_EQ(status.exit_code, 0) << "carehubctl status during round " << r << ": " << status.err;
    EXPECT_LT(status_ms, 30000) << "carehubctl status took " << status_ms << " ms during round " << r;
    slow.reset();

    // 4. Checks.
    if (!alive()) return;
    const auto t_input = Clock::now();
    mqtt_acked(labels_, 60s);
    check_stored(r);
    const auto t_stored = Clock::now();
    if (!alive()) return;
    check_uploaded(r);
    const auto t_uploaded = Clock::now();
    const auto ms = [](auto a, auto b) { return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count()); };
    if (!alive()) return;
    check_rss(r);
    check_stderr();
    std::printf("[hostile] scenario=%s seed=%s round=%d checked: %zu honest readings, %zu rows stored, %s "
                "(ms: hostile+input %ld, stored %ld, uploaded %ld)\n",
                scenario_.c_str(), seed().c_str(), r, goods_.size(), stored_, HasFailure() ? "FAILED" : "ok",
                ms(t_start, t_input), ms(t_input, t_stored), ms(t_stored, t_uploaded));
  }

  std::string scenario_;
  int rounds_ = std::max(1, env_int("CAREHUB_HOSTILE_ROUNDS", 1));
  int rss_bound_mb_ = env_int("CAREHUB_HOSTILE_RSS_MB", 256);
  int bomb_mb_ = env_int("CAREHUB_HOSTILE_BOMB_MB", 1024);
  TempDir dir_;
  std::unique_ptr<FhirPeer> fhir_;
  std::unique_ptr<ScriptPeer> hostile_fhir_, openhab_, broker_;
  std::unique_ptr<DaemonProcess> d_;
  pid_t pid_ = -1;
  std::vector<Good> goods_;
  std::vector<std::string> labels_;
  std::size_t stored_ = 0;
  bool dead_shown_ = false;
  int fillers_ = 0;
  long max_rss_ = 0, max_hwm_ = 0;
};

TEST_P(HostilePeers, CarehubdSurvivesAndKeepsEveryHonestReadingExactlyOnce) {
  for (int r = 1; r <= rounds_; ++r) {
    run_round(r);
    if (HasFailure()) break;  // the first failing round is the one to report (and replay)
  }
  if (!proc_status(pid_).empty()) {
    d_->drain_notify();
    d_->signal(SIGTERM);
    EXPECT_EQ(d_->wait_exit(), 0) << "carehubd did not stop cleanly after the hostile rounds";
  }
  check_stderr();
  std::printf("[hostile] scenario=%s seed=%s rounds=%d max_rss_kb=%ld max_hwm_kb=%ld result=%s\n", scenario_.c_str(),
              seed().c_str(), rounds_, max_rss_, max_hwm_, HasFailure() ? "FAILED" : "passed");
}

INSTANTIATE_TEST_SUITE_P(Scenario, HostilePeers, ::testing::ValuesIn(all_scenarios()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// The scenario names above are the peers' own: a scenario renamed or added in a peer must be added here.
TEST(HostilePeerScenarios, MatchWhatEachPeerOffers) {
  const std::vector<std::pair<std::string, const std::vector<std::string>*>> peers = {
      {"openhab.py", &kOpenhab}, {"mqtt_broker.py", &kMqtt}, {"fhir.py", &kFhir}};
  for (const auto& [script, mine] : peers) {
    std::vector<std::string> argv{"/usr/bin/python3", (source_dir() / "tests" / "peers" / "hostile" / script).string(),
                                  "--seed", "0", "--list"};
    if (script == "openhab.py") argv.insert(argv.end(), {"--items", "/dev/null"});
    if (script == "fhir.py") argv.insert(argv.end(), {"--upstream", "127.0.0.1:1"});
    const auto r = run_process(argv);
    ASSERT_EQ(r.exit_code, 0) << script << ": " << r.err;
    std::vector<std::string> listed;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) listed.push_back(line);
    auto sorted = *mine;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(listed, sorted) << script;
  }
}

}  // namespace
}  // namespace carehub::test
