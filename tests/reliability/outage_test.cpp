// Outage: the FHIR server is away while a week of readings accumulates (times spread over seven days, sent
// at full speed); once it returns the alerts go first (with their evidence), then the backlog drains oldest
// first, everything exactly once, and carehubd's memory stays bounded while it drains (VmHWM, reported).
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <set>
#include <iostream>
#include <thread>

#include "tests/reliability/harness.hpp"
#include "tests/support/fhir_peer.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::reliability {
namespace {

int outage_readings() {
  const char* v = std::getenv("CAREHUB_RELIABILITY_OUTAGE_READINGS");
  const int n = v ? std::atoi(v) : 0;
  return n > 0 ? n : 20000;
}

TEST(Outage, AWeekOfReadingsDrainsOldestFirstOnceTheServerReturnsWithBoundedMemory) {
  const int n = outage_readings();
  test::TempDir dir;
  int port = 0;
  {
    test::FhirPeer probe(dir.file("fhir-probe.log"));  // a free port the server comes back on later
    port = probe.port();
  }
  test::DaemonProcess d(dir, "http://127.0.0.1:" + std::to_string(port) + "/fhir/R4");
  d.config()["fhir"]["retry_cap_ms"] = 1000;
  // One fever in the middle of the week raises an alert the clinician must get before the backlog.
  test::write_file(dir.file("rules.json"), R"({"categories": {"VITAL": {"notify": true}},
    "rules": [{"id": "fever", "type": "bands", "category": "VITAL", "kind": "body-temperature",
               "bands": {"value": {"extreme_high": 39}}}]})");
  d.config()["rules"] = {{"file", "rules.json"}};
  ASSERT_TRUE(d.start()) << d.log();

  // A week: a reading every 7 days / n, heart rate, room temperature and blood pressure in turn.
  const std::int64_t week_ms = 7LL * 86400000;
  const std::int64_t start = now_epoch_ms() - week_ms;
  std::size_t acked = 0;
  const auto ingest_started = std::chrono::steady_clock::now();
  for (int i = 0; i < n;) {
    std::vector<nlohmann::json> batch;
    for (int k = 0; k < 2000 && i < n; ++k, ++i) {
      const auto t = start + week_ms * i / n;
      if (i == n / 2) {
        batch.push_back(reading_line("body-temperature", t, {{"value", 40.0}}));
        continue;
      }
      switch (i % 3) {
        case 0: batch.push_back(reading_line("heart-rate", t, {{"value", 60 + i % 40}}, "watch-1")); break;
        case 1: batch.push_back(reading_line("room-temperature", t, {{"value", 20 + (i % 50) / 10.0}}, "living-room")); break;
        default: batch.push_back(reading_line("blood-pressure", t, {{"systolic", 110 + i % 30}, {"diastolic", 75}})); break;
      }
    }
    acked += add_readings(d, batch).size();
  }
  const double ingest_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - ingest_started).count();
  ASSERT_EQ(acked, static_cast<std::size_t>(n));
  auto during = status(d);
  EXPECT_EQ(during["buffer"]["pending"], n) << during.dump();
  EXPECT_EQ(during["sync"]["state"], "backing off") << during.dump();
  const auto before = memory_of(d.pid());

  test::FhirPeer peer(dir.file("fhir.log"), port);
  peer.put("Patient/test-patient", {{"resourceType", "Patient"}, {"id", "test-patient"}});
  const auto drain_started = std::chrono::steady_clock::now();
  ASSERT_EQ(d.ctl({"sync", "now"}).exit_code, 0);
  std::int64_t peak_rss = 0;
  ASSERT_TRUE(eventually([&] {
    peak_rss = std::max(peak_rss, memory_of(d.pid()).rss_kib);
    auto s = status(d);
    return s["buffer"]["pending"] == 0;
  }, 600s)) << status(d).dump() << d.log();
  const double drain_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - drain_started).count();
  const auto after = memory_of(d.pid());
  d.signal(SIGTERM);
  ASSERT_EQ(d.wait_exit(), 0) << d.log();

  const auto db = dir.file("buffer.db");
  EXPECT_EQ(integrity_check(db), "ok");
  const auto rows = stored_rows(db);
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(n));
  const auto alerts = stored_alerts(db);
  ASSERT_EQ(alerts.size(), 1u);
  const std::set<std::string> evidence(alerts[0].readings.begin(), alerts[0].readings.end());
  std::size_t out_of_order = 0, undelivered = 0, evidence_late = 0;
  std::int64_t first_backlog_ms = INT64_MAX, last_evidence_ms = 0;
  const StoredRow* previous = nullptr;
  for (const auto& r : rows) {
    if (r.state != 1) ++undelivered;
    if (evidence.count(r.uid)) {
      last_evidence_ms = std::max(last_evidence_ms, r.synced_ms);
      continue;
    }
    first_backlog_ms = std::min(first_backlog_ms, r.synced_ms);
    // Oldest first: a reading is never recorded as delivered before one that arrived earlier.
    if (previous && r.synced_ms < previous->synced_ms) ++out_of_order;
    previous = &r;
  }
  if (last_evidence_ms > first_backlog_ms) ++evidence_late;
  EXPECT_EQ(undelivered, 0u);
  EXPECT_EQ(out_of_order, 0u) << "the backlog drained out of arrival order";
  EXPECT_EQ(evidence_late, 0u) << "the alert's evidence went after the backlog started";
  const auto issues = peer.count("DetectedIssue");
  EXPECT_EQ(issues, 1u) << "the alert reached the server";
  const auto on_server = peer.count("Observation");
  EXPECT_EQ(on_server, static_cast<std::size_t>(n));
  // Bounded: the drain pages through the backlog (bundle by bundle), it never loads it whole.
  EXPECT_LT(after.hwm_kib, 64 * 1024) << "carehubd's peak RSS while draining " << n << " readings";
  std::cout << "[reliability] outage: " << n << " readings over 7 simulated days ingested in " << ingest_s
            << " s while the server was down; drained in " << drain_s << " s (" << static_cast<int>(n / drain_s)
            << " Observations/s); on the server " << on_server << "; out of order " << out_of_order
            << "; alert first: " << (evidence_late == 0 ? "yes" : "NO") << " (" << issues << " DetectedIssue)"
            << "; carehubd RSS before drain " << before.rss_kib << " KiB, peak sampled " << peak_rss
            << " KiB, VmHWM " << after.hwm_kib << " KiB" << std::endl;
  RecordProperty("vmhwm_kib", static_cast<int>(after.hwm_kib));
  RecordProperty("drain_per_s", static_cast<int>(n / drain_s));
}

}  // namespace
}  // namespace carehub::reliability
