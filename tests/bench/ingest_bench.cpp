// Durable ingest: readings/s through the pipeline (validate, attribute, uid, INSERT, group commit with
// synchronous=FULL) against raw batched SQLite inserts of the same rows into the same schema, measured
// in the same run on the same disk; and the reading -> durable latency at a steady 1,000 readings/s.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <filesystem>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "store/pipeline.hpp"
#include "core/reading.hpp"
#include "store/buffer_key.hpp"

namespace {

using namespace carehub;

// On the build tree's disk, not a tmpfs: fsync must cost what it costs on a hub.
std::filesystem::path scratch(const std::string& name) {
  auto dir = std::filesystem::current_path() / "bench-scratch";
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return path;
}

Reading make_reading(std::int64_t i) {
  Reading r;
  r.kind = Kind::heart_rate;
  r.device = "ble-aa-bb-cc-dd-ee-" + std::to_string(i % 10);
  r.time = from_epoch_ms(1'790'000'000'000 + i * 1000);
  r.received = r.time;
  r.source = "bench";
  r.values["value"] = 60.0 + static_cast<double>(i % 40);
  return r;
}

Logger quiet(LogLevel::error, [](LogLevel, std::string_view, std::string_view) {});

// Baseline: the same INSERT of the same rows (the uid, patient and values JSON the pipeline would store)
// into the same table, prepared once, BATCH rows per transaction. The rows are made with the timer
// paused: what is timed is SQLite alone, the floor for the pipeline. (Until this run the baseline used
// sequential uids, which append to the uid index instead of inserting at random like real name-based
// UUIDs: a cheaper workload than the pipeline's, not the same rows.)
struct RawRow {
  std::string uid, device, values;
  std::int64_t time_ms = 0, received_ms = 0;
};

void BM_RawSqliteBatchedInsert(benchmark::State& state) {
  const auto batch = state.range(0);
  const auto path = scratch("raw.db");
  auto writer = StoreWriter::open({path.string(), Synchronous::full});  // same schema and pragmas
  if (!writer) {
    state.SkipWithError(writer.error().message.c_str());
    return;
  }
  writer.value().reset();  // it created the schema; the baseline writes through its own connection
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  // The writer's own pragmas (store/store_writer.cpp), so only the work differs.
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-8192; PRAGMA wal_autocheckpoint=8192;", nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO readings (uid, kind, device, patient, time_ms, device_time_ms, received_ms, source,"
                     " values_json) VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8) ON CONFLICT (uid) DO NOTHING",
                     -1, &st, nullptr);
  std::int64_t i = 0;
  std::vector<RawRow> rows(static_cast<std::size_t>(batch));
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& row : rows) {
      auto r = make_reading(i++);
      r.patient = "Patient/bench";
      nlohmann::json values = nlohmann::json::object();
      for (const auto& [name, value] : r.values) values[name] = value;
      row = {reading_uid(r), r.device, values.dump(), to_epoch_ms(r.time), to_epoch_ms(r.received)};
    }
    state.ResumeTiming();
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (const auto& row : rows) {
      sqlite3_bind_text(st, 1, row.uid.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 2, "heart-rate", -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 3, row.device.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 4, "Patient/bench", -1, SQLITE_STATIC);
      sqlite3_bind_int64(st, 5, row.time_ms);
      sqlite3_bind_int64(st, 6, row.received_ms);
      sqlite3_bind_text(st, 7, "bench", -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 8, row.values.c_str(), -1, SQLITE_STATIC);
      sqlite3_step(st);
      sqlite3_reset(st);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  state.SetItemsProcessed(i);
}
BENCHMARK(BM_RawSqliteBatchedInsert)->Arg(100)->Arg(1000)->UseRealTime()->Unit(benchmark::kMillisecond);

// Not a baseline: the same rows but with sequential uids ("0", "1", ...), which append to the uid index
// instead of landing at random. The gap to BM_RawSqliteBatchedInsert is what the name-based UUID key
// costs SQLite (docs/performance.md, "Where ingest time goes").
void BM_RawSqliteSequentialUids(benchmark::State& state) {
  const auto batch = state.range(0);
  const auto path = scratch("raw-sequential.db");
  StoreWriter::open({path.string(), Synchronous::full}).value().reset();  // same schema
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-8192; PRAGMA wal_autocheckpoint=8192;", nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO readings (uid, kind, device, patient, time_ms, device_time_ms, received_ms, source,"
                     " values_json) VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8) ON CONFLICT (uid) DO NOTHING",
                     -1, &st, nullptr);
  std::int64_t i = 0;
  std::vector<RawRow> rows(static_cast<std::size_t>(batch));
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& row : rows) {
      auto r = make_reading(i);
      nlohmann::json values = nlohmann::json::object();
      for (const auto& [name, value] : r.values) values[name] = value;
      row = {std::to_string(i++), r.device, values.dump(), to_epoch_ms(r.time), to_epoch_ms(r.received)};
    }
    state.ResumeTiming();
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (const auto& row : rows) {
      sqlite3_bind_text(st, 1, row.uid.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 2, "heart-rate", -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 3, row.device.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 4, "Patient/bench", -1, SQLITE_STATIC);
      sqlite3_bind_int64(st, 5, row.time_ms);
      sqlite3_bind_int64(st, 6, row.received_ms);
      sqlite3_bind_text(st, 7, "bench", -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 8, row.values.c_str(), -1, SQLITE_STATIC);
      sqlite3_step(st);
      sqlite3_reset(st);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  state.SetItemsProcessed(i);
}
BENCHMARK(BM_RawSqliteSequentialUids)->Arg(1000)->UseRealTime()->Unit(benchmark::kMillisecond);

// carehub: producers hand readings to the pipeline in batches of BATCH (as a driver would); the writer
// thread commits whatever is queued. Items counted once durable.
void BM_PipelineIngest(benchmark::State& state) {
  const auto batch = state.range(0);
  const auto path = scratch("pipeline.db");
  auto writer = StoreWriter::open({path.string(), Synchronous::full});
  if (!writer) {
    state.SkipWithError(writer.error().message.c_str());
    return;
  }
  Counters counters;
  SystemClock system_clock;
  Pipeline pipeline(**writer, system_clock, quiet, counters, {.default_patient = "Patient/bench"});
  pipeline.start();
  std::int64_t i = 0;
  std::vector<std::future<Result<IngestResult>>> inflight;
  for (auto _ : state) {
    std::vector<Reading> readings;
    readings.reserve(static_cast<std::size_t>(batch));
    for (std::int64_t k = 0; k < batch; ++k) readings.push_back(make_reading(i++));
    inflight.push_back(pipeline.ingest(std::move(readings)));
    if (inflight.size() >= 64) {  // keep the queue fed but bounded
      for (auto& f : inflight) {
        if (!f.get()) state.SkipWithError("ingest failed");
      }
      inflight.clear();
    }
  }
  for (auto& f : inflight) {
    if (!f.get()) state.SkipWithError("ingest failed");
  }
  pipeline.stop();
  state.SetItemsProcessed(i);
  state.counters["commits"] = static_cast<double>(counters.snapshot()["pipeline_commits"]);
}
BENCHMARK(BM_PipelineIngest)->Arg(100)->Arg(1000)->UseRealTime()->Unit(benchmark::kMillisecond);

// Issue 18: what the buffer encrypted at rest (SQLCipher, store/buffer_key.hpp) costs, as a ratio to the
// plaintext buffer in the same run. Each iteration pushes the same 5,000 readings (batches of BATCH, as
// BM_PipelineIngest) through a fresh plaintext pipeline and a fresh encrypted one, in alternating order so
// that a drift in the machine's load does not favour either; the counters are the medians over the rounds
// (per-reading times, and the ratio of each round's pair). scripts/bench.sh reads encrypted_over_plaintext.
double ingest_seconds(bool encrypted, std::int64_t batch, std::int64_t& next) {
  StoreOptions options{scratch(encrypted ? "encrypted.db" : "plaintext.db").string(), Synchronous::full};
  if (encrypted) {
    options.key = BufferKey::parse("6b65792d666f722d62656e63686d61726b696e672d6f6e6c792d6e6f742d7365", "bench").value();
  }
  auto writer = StoreWriter::open(options);
  if (!writer) return -1;
  Counters counters;
  SystemClock system_clock;
  Pipeline pipeline(**writer, system_clock, quiet, counters, {.default_patient = "Patient/bench"});
  pipeline.start();
  constexpr std::int64_t kReadings = 5000;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::future<Result<IngestResult>>> inflight;
  bool ok = true;
  for (std::int64_t done = 0; done < kReadings; done += batch) {
    std::vector<Reading> readings;
    for (std::int64_t k = 0; k < batch; ++k) readings.push_back(make_reading(next++));
    inflight.push_back(pipeline.ingest(std::move(readings)));
  }
  for (auto& f : inflight) ok = f.get().has_value() && ok;
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
  pipeline.stop();
  return ok ? took.count() / kReadings : -1;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

void BM_PipelineIngestEncryptedRatio(benchmark::State& state) {
  const auto batch = state.range(0);
  std::vector<double> plain, encrypted, ratio;
  std::int64_t next = 0;
  for (auto _ : state) {
    const bool encrypted_first = plain.size() % 2 == 1;
    double p = 0, e = 0;
    if (encrypted_first) {
      e = ingest_seconds(true, batch, next);
      p = ingest_seconds(false, batch, next);
    } else {
      p = ingest_seconds(false, batch, next);
      e = ingest_seconds(true, batch, next);
    }
    if (p <= 0 || e <= 0) {
      state.SkipWithError("ingest failed");
      return;
    }
    plain.push_back(p);
    encrypted.push_back(e);
    ratio.push_back(e / p);
  }
  state.counters["plaintext_us_per_reading"] = median(plain) * 1e6;
  state.counters["encrypted_us_per_reading"] = median(encrypted) * 1e6;
  state.counters["encrypted_over_plaintext"] = median(ratio);
  state.counters["ratio_min"] = *std::min_element(ratio.begin(), ratio.end());
  state.counters["ratio_max"] = *std::max_element(ratio.begin(), ratio.end());
}
BENCHMARK(BM_PipelineIngestEncryptedRatio)->Arg(1000)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);

// One reading every millisecond (1,000/s) from one producer; latency from ingest() to durable. A
// second thread waits on the futures in order (they resolve in commit order) and stamps each.
void BM_PipelineLatencyAt1000PerSecond(benchmark::State& state) {
  const auto path = scratch("latency.db");
  auto writer = StoreWriter::open({path.string(), Synchronous::full});
  if (!writer) {
    state.SkipWithError(writer.error().message.c_str());
    return;
  }
  Counters counters;
  SystemClock system_clock;
  Pipeline pipeline(**writer, system_clock, quiet, counters, {.default_patient = "Patient/bench"});
  pipeline.start();
  using Clock = std::chrono::steady_clock;
  std::vector<double> latencies_ms;
  std::int64_t i = 0;
  for (auto _ : state) {
    constexpr int kReadings = 3000;  // three seconds at 1,000/s
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::pair<Clock::time_point, std::future<Result<IngestResult>>>> queue;
    bool done = false;
    std::thread waiter([&] {
      for (;;) {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return done || !queue.empty(); });
        if (queue.empty()) return;
        auto [sent, future] = std::move(queue.front());
        queue.pop_front();
        lock.unlock();
        future.wait();
        latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
      }
    });
    const auto start = Clock::now();
    for (int k = 0; k < kReadings; ++k) {
      std::this_thread::sleep_until(start + std::chrono::microseconds(1000 * k));  // pacing the load
      auto sent = Clock::now();
      auto future = pipeline.ingest({make_reading(i++)});
      {
        std::lock_guard lock(mu);
        queue.emplace_back(sent, std::move(future));
      }
      cv.notify_one();
    }
    {
      std::lock_guard lock(mu);
      done = true;
    }
    cv.notify_one();
    waiter.join();
  }
  pipeline.stop();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) { return latencies_ms[static_cast<std::size_t>(p * static_cast<double>(latencies_ms.size() - 1))]; };
  state.counters["p50_ms"] = pct(0.50);
  state.counters["p99_ms"] = pct(0.99);
  state.counters["max_ms"] = latencies_ms.back();
  state.counters["commits"] = static_cast<double>(counters.snapshot()["pipeline_commits"]);
  state.SetItemsProcessed(i);
}
BENCHMARK(BM_PipelineLatencyAt1000PerSecond)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
