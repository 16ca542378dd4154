// Sync throughput: Observations/s delivered to the local FHIR peer (tests/peers/fhir, validation on) by
// carehub's uploader, against a direct bulk client posting the same kind of bundles over the same
// keep-alive libcurl client in the same run; and the CPU carehub spends per 1,000 Observations (the whole
// process: uploader thread plus the writer thread recording outcomes; the peer is another process).
// carehub should be limited by the server, not by itself: the ratio should be close to 1.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <filesystem>

#include "core/json_check.hpp"
#include "store/pipeline.hpp"
#include "sync/bundle.hpp"
#include "sync/fhir_mapping.hpp"
#include "sync/uploader.hpp"
#include "tests/support/fhir_peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace carehub;

constexpr std::int64_t kBundle = 100;

test::FhirPeer& peer() {
  static test::TempDir dir;
  static test::FhirPeer p(dir.file("fhir.log"));
  static const bool patient = [] {
    p.put("Patient/bench", {{"resourceType", "Patient"}, {"id", "bench"}});
    return true;
  }();
  (void)patient;
  return p;
}

Reading make_reading(std::int64_t run, std::int64_t i) {
  Reading r;
  r.kind = Kind::heart_rate;
  r.device = "manual";
  r.patient = "Patient/bench";
  r.time = from_epoch_ms(1'790'000'000'000 + run * 100'000'000 + i * 1000);
  r.received = r.time;
  r.source = "bench";
  r.values["value"] = 60.0 + static_cast<double>(i % 40);
  return r;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::int64_t run_counter = 0;  // distinct readings per run: every create is a real create

// Baseline: the same Observations, mapped and posted in 100-entry batch bundles, one after another.
void BM_DirectBulkClient(benchmark::State& state) {
  const auto n = state.range(0);
  auto& fhir = peer();
  auto http = sync::make_curl_client({});
  // The hub's Device first, as the uploader does, so both send the same Observations.
  auto hub = http->send({"POST", fhir.base_url(), {{"Content-Type", "application/fhir+json"}},
                         sync::batch_bundle({{fhir::hub_device("bench"), fhir::hub_if_none_exist("bench"), {}}}).dump()});
  const auto hub_ref = sync::read_batch_response(nlohmann::json::parse(hub->body), 1).value().front().server_id;
  for (auto _ : state) {
    const auto run = ++run_counter;
    std::vector<StoredReading> readings;
    for (std::int64_t i = 0; i < n; ++i) {
      StoredReading s;
      s.reading = make_reading(run, i);
      s.uid = reading_uid(s.reading);
      readings.push_back(std::move(s));
    }
    const auto cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t b = 0; b < n; b += kBundle) {
      std::vector<sync::BundleEntry> entries;
      for (auto i = b; i < std::min(n, b + kBundle); ++i) {
        entries.push_back({fhir::observation(readings[static_cast<std::size_t>(i)], {"", hub_ref}),
                           fhir::observation_if_none_exist(readings[static_cast<std::size_t>(i)].uid), {}});
      }
      auto resp = http->send({"POST", fhir.base_url(),
                              {{"Content-Type", "application/fhir+json"}, {"Accept", "application/fhir+json"}},
                              sync::batch_bundle(entries).dump()});
      if (!resp || resp->status != 200) state.SkipWithError("the peer refused a bundle");
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(secs);
    state.counters["observations_per_s"] = static_cast<double>(n) / secs;
    state.counters["cpu_ms_per_1000"] = (cpu_seconds() - cpu0) * 1000.0 * 1000.0 / static_cast<double>(n);
  }
}

// carehub: the same number of readings, buffered first (not timed), then uploaded by the Uploader.
void BM_CarehubUploader(benchmark::State& state) {
  const auto n = state.range(0);
  const bool gzip = state.range(1) != 0;
  auto& fhir = peer();
  Logger quiet(LogLevel::error, [](LogLevel, std::string_view, std::string_view) {});
  for (auto _ : state) {
    const auto run = ++run_counter;
    test::TempDir dir;
    StoreOptions store{dir.file("buffer.db"), Synchronous::full};
    auto writer = StoreWriter::open(store).value();
    Counters counters;
    SystemClock clock;
    Pipeline pipeline(*writer, clock, quiet, counters, {});
    pipeline.start();
    std::vector<Reading> readings;
    for (std::int64_t i = 0; i < n; ++i) readings.push_back(make_reading(run, i));
    if (!pipeline.ingest(std::move(readings)).get()) state.SkipWithError("ingest failed");
    sync::UploaderOptions o;
    o.base_url = fhir.base_url();
    o.hub_id = "bench";
    o.bundle_size = kBundle;
    o.compression = gzip ? sync::Compression::on : sync::Compression::off;
    sync::Uploader uploader(StoreReader::open(store).value(), pipeline, sync::make_curl_client({}), clock, quiet,
                            counters, o);
    const auto cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    uploader.start();
    if (!uploader.wait_idle(std::chrono::minutes(10))) state.SkipWithError("the upload did not finish");
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = cpu_seconds() - cpu0;
    uploader.stop();
    pipeline.stop();
    if (counters.get("sync_synced").load() != static_cast<std::uint64_t>(n)) state.SkipWithError("not every reading synced");
    state.SetIterationTime(secs);
    state.counters["observations_per_s"] = static_cast<double>(n) / secs;
    state.counters["cpu_ms_per_1000"] = cpu * 1000.0 * 1000.0 / static_cast<double>(n);
  }
}

// The peer's own answer to one 100-entry bundle (it echoes every created Observation, as HAPI and Medplum
// do by default), for the two ways of reading it below.
const std::string& batch_response_body() {
  static const std::string body = [] {
    auto& fhir = peer();
    auto http = sync::make_curl_client({});
    const auto run = ++run_counter;
    std::vector<sync::BundleEntry> entries;
    for (std::int64_t i = 0; i < kBundle; ++i) {
      StoredReading s;
      s.reading = make_reading(run, i);
      s.uid = reading_uid(s.reading);
      entries.push_back({fhir::observation(s, {"", ""}), fhir::observation_if_none_exist(s.uid), {}});
    }
    auto resp = http->send({"POST", fhir.base_url(), {{"Content-Type", "application/fhir+json"}},
                            sync::batch_bundle(entries).dump()});
    return resp && resp->status == 200 ? resp->body : std::string();
  }();
  return body;
}

// Baseline: the whole answer parsed into a DOM, then read (what read_batch_response_body did before).
void BM_BatchResponseWholeParse(benchmark::State& state) {
  const auto& body = batch_response_body();
  for (auto _ : state) {
    auto whole = parse_peer_json(body, "FHIR batch-response");
    auto outcomes = sync::read_batch_response(*whole, kBundle);
    if (!outcomes || outcomes->front().fate != sync::EntryFate::synced) state.SkipWithError("unreadable answer");
    benchmark::DoNotOptimize(outcomes);
  }
  state.counters["body_bytes"] = static_cast<double>(body.size());
}

// carehub: the answer read without building the server's copies of the resources (bundle_response.cpp).
void BM_BatchResponsePruned(benchmark::State& state) {
  const auto& body = batch_response_body();
  for (auto _ : state) {
    auto outcomes = sync::read_batch_response_body(body, kBundle);
    if (!outcomes || outcomes->front().fate != sync::EntryFate::synced) state.SkipWithError("unreadable answer");
    benchmark::DoNotOptimize(outcomes);
  }
  state.counters["body_bytes"] = static_cast<double>(body.size());
}

BENCHMARK(BM_BatchResponseWholeParse)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BatchResponsePruned)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DirectBulkClient)->Arg(5000)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CarehubUploader)->Args({5000, 0})->Args({5000, 1})->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
