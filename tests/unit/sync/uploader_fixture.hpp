#pragma once
// The uploader's test fixture: a real store and pipeline in a temp dir, with a scripted FHIR server
// behind HttpClient (fake_fhir_server.hpp). Shared by uploader_test.cpp and uploader_quirks_test.cpp.
#include "sync/uploader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "sync/fhir_mapping.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/sync/fake_fhir_server.hpp"

namespace carehub::sync::fixture {

using namespace std::chrono_literals;
using test::EntryReply;
using test::FakeFhirServer;
using test::has_identifier;
using test::has_resource;
using test::identifier_of;
using test::resource_type;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using nlohmann::json;

constexpr auto kPatience = 10s;  // reached only when a test is failing
const TimePoint kMeasured = from_epoch_ms(1795255200000);  // 2026-11-21T10:00:00Z
const TimePoint kNow = kMeasured + std::chrono::hours(1);
constexpr const char* kBaseUrl = "https://fhir.example.org/fhir/R4";
constexpr const char* kHubId = "hub-0001";
const json kOutcome = json::parse(R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid",)"
                                  R"("diagnostics":"Observation.valueQuantity: unit not allowed"}]})");

inline Reading heart_rate(double bpm, int minute, std::string device = "manual") {
  return carehub::test::heart_rate(bpm, kMeasured + std::chrono::minutes(minute), {.device = std::move(device)});
}

inline std::string identifier(const std::string& uid) { return fhir::observation_identifier(uid); }

inline std::vector<json> observation_bundles(const FakeFhirServer::State& s) {
  std::vector<json> out;
  for (const auto& b : s.bundles) {
    if (has_resource(b, "Observation")) out.push_back(b);
  }
  return out;
}

// Device entries whose identifiers include `identifier_value` (a sensor's is fleet-qualified: see
// fhir::fleet_device_id; pass the device id, it is qualified here).
inline std::size_t device_entries(const FakeFhirServer::State& s, const std::string& device_id) {
  const auto identifier_value = device_id == kHubId ? device_id : fhir::fleet_device_id(device_id, kHubId);
  std::size_t n = 0;
  for (const auto& b : s.bundles) {
    for (const auto& e : b["entry"]) {
      if (resource_type(e) != "Device") continue;
      for (const auto& id : e["resource"]["identifier"]) n += id["value"] == identifier_value ? 1 : 0;
    }
  }
  return n;
}

class UploaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_options.path = dir.file("buffer.db");
    auto w = StoreWriter::open(store_options);
    ASSERT_TRUE(w.has_value()) << w.error().message;
    writer = std::move(*w);
    PipelineOptions po;
    po.default_patient = "Patient/p1";
    // Devices are bound before the test's readings were measured, so they are attributed, not unassigned
    // as a second-hand device's older memory would be (core/attribution.hpp).
    pipeline = std::make_unique<Pipeline>(*writer, binding_clock, log, counters, po);
    pipeline->on_commit([this](const CommitSummary& s) {
      std::lock_guard lock(events_mu);
      op_commits += s.ops > 0 ? 1 : 0;
      events_cv.notify_all();
    });
    pipeline->start();
  }
  void TearDown() override {
    if (uploader) uploader->stop();
    uploader.reset();
    if (pipeline) pipeline->stop();
  }

  static UploaderOptions options() {
    UploaderOptions o;
    o.base_url = kBaseUrl;
    o.hub_id = kHubId;
    o.backoff = {10ms, 50ms};  // so that a Retry-After always decides the wait
    // Each wake() sends at once, as these tests expect; uploader_window_test.cpp tests the window.
    o.upload_window = 0ms;
    return o;
  }
  void start_uploader(UploaderOptions o = options()) {
    auto reader = StoreReader::open(store_options);
    ASSERT_TRUE(reader.has_value()) << reader.error().message;
    uploader = std::make_unique<Uploader>(std::move(*reader), *pipeline, std::make_unique<test::FakeHttpClient>(server),
                                          clock, log, counters, std::move(o));
    uploader->start();
  }

  std::vector<std::string> ingest(std::vector<Reading> rs) {
    auto f = pipeline->ingest(std::move(rs));
    EXPECT_EQ(f.wait_for(kPatience), std::future_status::ready);
    auto r = f.get();
    EXPECT_TRUE(r.has_value()) << r.error().message;
    if (!r.has_value()) return {};
    for (auto s : r->status) EXPECT_EQ(s, IngestStatus::stored);
    return r->uids;
  }
  void register_device(Device d) {
    auto f = pipeline->upsert_device(std::move(d));
    ASSERT_EQ(f.wait_for(kPatience), std::future_status::ready);
    ASSERT_TRUE(f.get().has_value());
  }
  StoredReading stored(const std::string& uid) {
    auto reader = StoreReader::open(store_options);
    const auto all = (*reader)->readings({std::nullopt, 0, 100000, false}).value();
    for (const auto& s : all) {
      if (s.uid == uid) return s;
    }
    ADD_FAILURE() << "no stored reading " << uid;
    return {};
  }
  StoreCounts counts() {
    auto reader = StoreReader::open(store_options);
    return (*reader)->counts().value();
  }

  // Waits for something the uploader logs or the pipeline commits.
  bool wait_event(const std::function<bool()>& pred) {
    std::unique_lock lock(events_mu);
    return events_cv.wait_for(lock, kPatience, pred);
  }
  bool logged(const std::string& needle) const {  // events_mu held
    for (const auto& l : lines) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  bool wait_failure_logged() {
    return wait_event([&] { return logged("event=upload-failed"); });
  }

  std::mutex events_mu;
  std::condition_variable events_cv;
  std::vector<std::string> lines;
  std::size_t op_commits = 0;

  carehub::test::TempDir dir;
  StoreOptions store_options;
  std::unique_ptr<StoreWriter> writer;
  Logger log{LogLevel::debug, [this](LogLevel, std::string_view component, std::string_view message) {
               std::lock_guard lock(events_mu);
               lines.push_back(std::string(component) + ": " + std::string(message));
               events_cv.notify_all();
             }};
  Counters counters;
  ManualClock clock{kNow};
  ManualClock binding_clock{kMeasured - std::chrono::hours(24)};
  std::unique_ptr<Pipeline> pipeline;
  std::shared_ptr<FakeFhirServer> server = std::make_shared<FakeFhirServer>();
  std::unique_ptr<Uploader> uploader;
};

inline Alert red_alert(const std::vector<std::string>& evidence, const std::string& id = "alert-1") {
  return carehub::test::red_alert(id, kNow, evidence);
}

class UploaderAlertTest : public UploaderTest {
 protected:
  void put_alert(const Alert& a) {
    auto f = pipeline->apply([a](StoreWriter& w) { return w.put_alert(a); });
    ASSERT_EQ(f.wait_for(kPatience), std::future_status::ready);
    ASSERT_TRUE(f.get().has_value());
  }
  std::vector<json> issue_entries() {
    std::vector<json> out;
    for (const auto& b : server->state().bundles) {
      for (const auto& e : b["entry"]) {
        if (resource_type(e) == "DetectedIssue") out.push_back(e);
      }
    }
    return out;
  }
  AlertSyncCounts alert_sync() {
    auto reader = StoreReader::open(store_options);
    return (*reader)->alert_sync_counts().value();
  }
};

}  // namespace carehub::sync::fixture
