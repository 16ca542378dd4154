// Decision-support cost: rule evaluation per reading in the commit path (store insert alone vs insert +
// rules, so the difference is the rules' own cost), an extreme-reading episode, and reading -> alert
// published latency (p50/p99) through the real pipeline with synchronous=FULL.
// Target: rules_bench (deps: carehub_rules, benchmark::benchmark).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>

#include "core/clock.hpp"
#include "store/pipeline.hpp"
#include "rules/engine.hpp"

namespace {

using namespace carehub;
using namespace std::chrono_literals;

const TimePoint kT0 = from_epoch_ms(1795255200000);  // 2026-11-21T10:00:00Z

// A pilot-sized rule set: HF5, blood-pressure bands, inactivity per kind and a weight trend.
const char* kRules = R"({"rules": [
  {"id": "HF5", "type": "confirm-by-repeat", "category": "CVD", "kind": "blood-pressure",
   "bands": {"systolic": {"extreme_high": 200}, "diastolic": {"extreme_high": 130}}},
  {"id": "bp-bands", "type": "bands", "kind": "blood-pressure",
   "bands": {"systolic": {"extreme_low": 80, "optimal_low": 100, "optimal_high": 140, "extreme_high": 180}},
   "outcomes": {"extreme_low": "amber", "extreme_high": "amber"}},
  {"id": "no-bp", "type": "inactivity", "kind": "blood-pressure"},
  {"id": "no-weight", "type": "inactivity", "kind": "body-weight", "after": "3d"},
  {"id": "weight-gain", "type": "trend", "kind": "body-weight", "change": 2, "within": "3d"}]})";

struct Scratch {
  Scratch() {
    std::string pattern = (std::filesystem::temp_directory_path() / "carehub-rules-bench-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~Scratch() { std::filesystem::remove_all(path); }
  std::filesystem::path path;
};

Reading bp(double sys, double dia, TimePoint t) {
  Reading r;
  r.kind = Kind::blood_pressure;
  r.device = "cuff-1";
  r.patient = "Patient/bench";
  r.time = t;
  r.received = t;
  r.source = "bench";
  r.values = {{"systolic", sys}, {"diastolic", dia}};
  return r;
}

// One reading per iteration, 500 per transaction (a busy group commit), synchronous=NORMAL so the
// numbers are CPU and SQLite work, not the disk's fsync.
void evaluate(benchmark::State& state, bool with_rules, bool extreme) {
  Scratch dir;
  auto store = std::move(StoreWriter::open({(dir.path / "b.db").string(), Synchronous::normal}).value());
  Logger log(LogLevel::error);
  Counters counters;
  rules::Engine engine(std::move(rules::parse_rules(kRules, "bench").value()), log, counters);
  std::int64_t i = 0;
  std::optional<StoreTransaction> tx;
  tx.emplace(store->begin().value());
  for (auto _ : state) {
    const TimePoint t = kT0 + std::chrono::minutes(i);
    // Extreme: every reading opens or confirms an HF5 episode (and writes alerts); else a normal reading.
    Reading r = extreme ? bp(205, 100, t) : bp(120 + static_cast<double>(i % 7), 80, t);
    const auto uid = reading_uid(r);
    (void)store->insert_reading(r, uid);
    if (with_rules) {
      auto events = engine.in_transaction(*store, {{0, uid, r, SyncState::pending, 0, {}, {}}}, t);
      benchmark::DoNotOptimize(events);
    }
    if (++i % 500 == 0) {
      (void)tx->commit();
      tx.reset();
      tx.emplace(store->begin().value());
    }
  }
  (void)tx->commit();
  state.SetItemsProcessed(state.iterations());
}

void BM_StoreInsertOnly(benchmark::State& s) { evaluate(s, false, false); }
void BM_InsertAndEvaluateNormalReading(benchmark::State& s) { evaluate(s, true, false); }
void BM_InsertAndEvaluateExtremeReading(benchmark::State& s) { evaluate(s, true, true); }
BENCHMARK(BM_StoreInsertOnly);
BENCHMARK(BM_InsertAndEvaluateNormalReading);
BENCHMARK(BM_InsertAndEvaluateExtremeReading);

// Reading handed to the pipeline -> alert event delivered to an after-commit listener (what MQTT and
// `alerts watch` receive), one extreme reading at a time, synchronous=FULL: the durable path.
void BM_ReadingToAlertPublished(benchmark::State& state) {
  Scratch dir;
  auto store = std::move(StoreWriter::open({(dir.path / "b.db").string(), Synchronous::full}).value());
  Logger log(LogLevel::error);
  Counters counters;
  rules::Engine engine(std::move(rules::parse_rules(kRules, "bench").value()), log, counters);
  SystemClock clock;
  PipelineOptions options;
  options.default_patient = "Patient/bench";
  Pipeline pipeline(*store, clock, log, counters, options);
  pipeline.set_batch_hook(engine);
  std::mutex mu;
  std::condition_variable cv;
  std::size_t published = 0;
  std::chrono::steady_clock::time_point at;
  pipeline.on_commit([&](const CommitSummary& s) {
    if (s.alerts.empty()) return;
    std::lock_guard lock(mu);
    at = std::chrono::steady_clock::now();
    ++published;
    cv.notify_all();
  });
  pipeline.start();
  std::vector<double> micros;
  std::int64_t i = 0;
  const TimePoint base = clock.now() - 1min;
  for (auto _ : state) {
    // A new patient each time: every reading opens an episode and publishes a repeat-request.
    Reading r = bp(210, 100, base + std::chrono::milliseconds(i));
    r.patient = "Patient/p" + std::to_string(i++);
    std::unique_lock lock(mu);
    const auto before = published;
    const auto start = std::chrono::steady_clock::now();
    lock.unlock();
    auto f = pipeline.ingest({std::move(r)});
    lock.lock();
    cv.wait(lock, [&] { return published > before; });
    micros.push_back(std::chrono::duration<double, std::micro>(at - start).count());
    lock.unlock();
    (void)f.get();
  }
  pipeline.stop();
  std::sort(micros.begin(), micros.end());
  auto pct = [&](double p) { return micros[static_cast<std::size_t>(p * static_cast<double>(micros.size() - 1))]; };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
}
BENCHMARK(BM_ReadingToAlertPublished)->Iterations(300)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
