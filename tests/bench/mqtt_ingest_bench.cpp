// Durable MQTT ingest: QoS 1 messages/s from a real mosquitto (tests/support/mosquitto_peer), through
// carehub's own subscriber and the mqtt source (reading JSON), into the pipeline on a store with
// synchronous=FULL; a message counts once its reading is committed. The argument is the source's
// max_inflight: 1 is the former one-message-at-a-time subscriber (one commit per message), 20 the default
// (the pipeline's group commit takes what is in flight in one transaction). Both run in the same process,
// on the same disk.
// The second argument is the scenario:
//   0  live, the test peer as the integration tests run it: it saves its database with an fsync after every
//      change (so that a SIGKILLed broker loses nothing it acknowledged). mosquitto is single-threaded, so
//      that fsync caps what any subscriber can receive, whatever carehub does;
//   1  live, the same peer restarted without those two lines, i.e. mosquitto's default persistence (save
//      every 1800 s and on exit), as a broker on a hub runs. One mosquitto_pub -l publishes; at the default
//      window it, not carehub, may be the limit;
//   2  backlog: as 1, but the 5,000 messages are queued in the source's session while it is away (the hub
//      restarting after an outage; max_queued_messages raised for it) and the time runs from its reconnect
//      until the last is durable: the subscriber and the pipeline alone.
#include <benchmark/benchmark.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "store/pipeline.hpp"
#include "core/time.hpp"
#include "drivers/mqtt/source.hpp"
#include "tests/support/mosquitto_peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace carehub;
using namespace std::chrono_literals;

constexpr int kMessages = 5000;
// mosquitto drops QoS 1 messages beyond max_queued_messages (1000 by default) queued for a slow client, so
// the publisher sends chunks of kChunk and keeps at most kBacklog published but not yet durable.
constexpr int kChunk = 500;
constexpr int kBacklog = 900;

// On the build tree's disk, not a tmpfs: fsync must cost what it costs on a hub.
std::filesystem::path scratch(const std::string& name) {
  auto dir = std::filesystem::current_path() / "bench-scratch";
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return path;
}

std::string reading_json(int i) {
  return nlohmann::json{{"kind", "heart-rate"},
                        {"time", format_rfc3339(from_epoch_ms(1'790'000'000'000 + std::int64_t{i} * 1000))},
                        {"device", "watch-1"},
                        {"values", {{"value", 50 + i % 100}}}}
      .dump();
}

Logger quiet(LogLevel::error, [](LogLevel, std::string_view, std::string_view) {});

// Readings committed so far, counted by the pipeline's commit listener.
class Durable {
 public:
  void add(std::size_t n) {
    {
      std::lock_guard lock(mu_);
      count_ += n;
    }
    cv_.notify_all();
  }
  // Waits until at least `n` are durable; false after `timeout`.
  bool wait_for(std::size_t n, std::chrono::seconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return count_ >= n; });
  }
  std::size_t count() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t count_ = 0;
};

bool poll_until(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);  // a status poll with a deadline, outside the timed part
  }
  return true;
}

constexpr std::string_view kSaveEachChange = "autosave_on_changes true\nautosave_interval 1\n";

enum Scenario { kLiveTestPeer = 0, kLiveDefaultBroker = 1, kQueuedBacklog = 2 };

void BM_MqttQos1Ingest(benchmark::State& state) {
  const auto max_inflight = state.range(0);
  const auto scenario = static_cast<Scenario>(state.range(1));
  test::TempDir dir;
  std::filesystem::create_directories(dir.file("broker"));
  test::MosquittoPeer broker(dir.file("broker"));
  if (scenario != kLiveTestPeer) {
    const auto conf_path = dir.file("broker") + "/mosquitto.conf";
    auto conf = test::read_file(conf_path);
    const auto at = conf.find(kSaveEachChange);
    if (at == std::string::npos) {
      state.SkipWithError("the test peer's mosquitto.conf changed: cannot turn off its save after every change");
      return;
    }
    conf.erase(at, kSaveEachChange.size());
    if (scenario == kQueuedBacklog) conf += "max_queued_messages " + std::to_string(2 * kMessages) + "\n";
    broker.stop();
    test::write_file(conf_path, conf);
    broker.start();  // same port, same directory
  }
  auto writer = StoreWriter::open({scratch("mqtt-" + std::to_string(max_inflight) + ".db").string(), Synchronous::full});
  if (!writer) {
    state.SkipWithError(writer.error().message.c_str());
    return;
  }
  Counters counters;
  SystemClock clock;
  Pipeline pipeline(**writer, clock, quiet, counters, {.default_patient = "Patient/bench"});
  Durable durable;
  pipeline.on_commit([&](const CommitSummary& s) { durable.add(s.stored + s.duplicates); });
  pipeline.start();
  SourceContext context{pipeline, clock, quiet, counters, "hub-bench", "Patient/bench"};
  const nlohmann::json config{
      {"broker", broker.url()},
      {"client_id", "carehub-bench-" + std::to_string(max_inflight)},
      {"max_inflight", max_inflight},
      {"subscriptions", {{{"topic", "bench/readings"}, {"qos", 1}, {"format", "reading-json"}}}}};
  auto source = mqtt::make_mqtt_source(config, "/sources/mqtt", context);
  if (!source) {
    state.SkipWithError(source.error().message.c_str());
    return;
  }
  if (auto r = (*source)->start(); !r) {
    state.SkipWithError(r.error().message.c_str());
    return;
  }
  if (!poll_until([&] { return (*source)->status()["state"] == "connected"; }, 20s)) {
    state.SkipWithError("the mqtt source did not connect");
    return;
  }
  std::vector<std::vector<std::string>> chunks;
  for (int i = 0; i < kMessages; i += kChunk) {
    std::vector<std::string> lines;
    for (int k = i; k < std::min(i + kChunk, kMessages); ++k) lines.push_back(reading_json(k));
    chunks.push_back(std::move(lines));
  }

  if (scenario == kQueuedBacklog) {
    // Subscribed (the session exists at the broker), then away while everything is published.
    (*source)->stop();
    for (const auto& lines : chunks) {
      if (!broker.publish_lines("bench/readings", lines)) {
        state.SkipWithError("mosquitto_pub failed");
        return;
      }
    }
  }

  for (auto _ : state) {
    if (scenario == kQueuedBacklog) {
      if (auto r = (*source)->start(); !r) {
        state.SkipWithError(r.error().message.c_str());
        break;
      }
      if (!durable.wait_for(kMessages, 300s)) state.SkipWithError("not every message became durable");
      continue;
    }
    std::size_t published = 0;
    for (const auto& lines : chunks) {
      // Room for this chunk in the broker's queue for us before it is sent.
      const auto need = published + lines.size() > kBacklog ? published + lines.size() - kBacklog : 0;
      if (!durable.wait_for(need, 300s)) {
        state.SkipWithError("ingest stalled");
        break;
      }
      if (!broker.publish_lines("bench/readings", lines)) {
        state.SkipWithError("mosquitto_pub failed");
        break;
      }
      published += lines.size();
    }
    if (!durable.wait_for(kMessages, 300s)) state.SkipWithError("not every message became durable");
  }

  // Every message exactly once, and every one acknowledged (the PUBACK follows its commit).
  const bool acknowledged =
      poll_until([&] { return (*source)->status()["acknowledged"].get<int>() >= kMessages; }, 30s);
  const auto status = (*source)->status();
  (*source)->stop();
  pipeline.stop();
  if (durable.count() != static_cast<std::size_t>(kMessages)) state.SkipWithError("wrong number of readings stored");
  if (!acknowledged) state.SkipWithError("not every message was acknowledged");
  const auto snapshot = counters.snapshot();
  const auto commits = static_cast<double>(snapshot.count("pipeline_commits") ? snapshot.at("pipeline_commits") : 0);
  state.SetItemsProcessed(kMessages);
  state.counters["stored"] = static_cast<double>(durable.count());
  state.counters["acknowledged"] = status["acknowledged"].get<double>();
  state.counters["commits"] = commits;
  state.counters["msgs_per_commit"] = commits > 0 ? kMessages / commits : 0;
  state.counters["connects"] = status["connects"].get<double>();
}
BENCHMARK(BM_MqttQos1Ingest)
    ->ArgNames({"max_inflight", "scenario"})
    ->Args({1, kLiveTestPeer})
    ->Args({20, kLiveTestPeer})
    ->Args({1, kLiveDefaultBroker})
    ->Args({20, kLiveDefaultBroker})
    ->Args({1, kQueuedBacklog})
    ->Args({20, kQueuedBacklog})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
