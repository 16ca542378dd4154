// The buffer's size cap, shedding priority, retention, disk full and the kept per-state counts
// (store/store_space.cpp, store/store_writer.cpp, store/pipeline_space.cpp): design.md invariant 3.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>

#include "store/pipeline.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const TimePoint kTime = from_epoch_ms(1763719200000);  // 2025-11-21T10:00:00Z
constexpr auto kPatience = 10s;                         // only ever reached when a test is failing

Reading make(Kind kind, int i) {
  Reading r;
  r.kind = kind;
  r.time = kTime + std::chrono::seconds(i);
  r.received = r.time;
  r.patient = "Patient/kit";
  switch (kind) {
    case Kind::blood_pressure:
      r.device = "ble-bp";
      r.values = {{"systolic", 120.0 + i % 50}, {"diastolic", 80.0 + i % 20}};
      break;
    case Kind::room_temperature:
      r.device = "openhab-living";
      r.values = {{"value", 20.0 + (i % 100) / 10.0}};
      break;
    default:
      r.device = "ble-watch";
      r.values = {{"value", 60.0 + i % 60}};
      break;
  }
  r.source = "test";
  return r;
}

// What is really in the file, by a connection of its own.
struct Raw {
  explicit Raw(const std::string& path) : db(sqlite::Database::open(path, false).value()) {}
  std::int64_t count(const std::string& where) {
    return db.query_int("SELECT COUNT(*) FROM readings WHERE " + where).value();
  }
  std::string integrity() { return db.query_text("PRAGMA integrity_check").value(); }
  sqlite::Database db;
};

class StoreSpaceTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open() {
    writer.reset();
    auto w = StoreWriter::open(options);
    ASSERT_TRUE(w.has_value()) << w.error().message;
    writer = std::move(*w);
  }
  // Inserts n readings of `kind` in one transaction; returns their seqs.
  std::vector<std::int64_t> fill(Kind kind, int n, int first = 0) {
    auto tx = writer->begin();
    EXPECT_TRUE(tx.has_value());
    for (int i = first; i < first + n; ++i) {
      const auto r = make(kind, i);
      EXPECT_TRUE(writer->insert_reading(r, reading_uid(r)).value());
    }
    EXPECT_TRUE(tx->commit());
    std::vector<std::int64_t> seqs;
    ReadingQuery q;
    q.limit = 1000000;
    auto rows = reader()->readings(q);
    for (const auto& s : rows.value()) {
      if (s.reading.kind == kind && s.state == SyncState::pending) seqs.push_back(s.seq);
    }
    return seqs;
  }
  void sync_all(const std::vector<std::int64_t>& seqs) {
    auto tx = writer->begin();
    for (auto s : seqs) ASSERT_TRUE(writer->mark_synced(s, "Observation/" + std::to_string(s), kTime));
    ASSERT_TRUE(tx->commit());
  }
  std::unique_ptr<StoreReader> reader() { return StoreReader::open(options).value(); }
  void expect_counts_match_rows() {
    Raw raw(options.path);
    const auto c = reader()->counts().value();
    EXPECT_EQ(c.pending, raw.count("sync_state = 0"));
    EXPECT_EQ(c.synced, raw.count("sync_state = 1"));
    EXPECT_EQ(c.dead, raw.count("sync_state = 2"));
    EXPECT_EQ(c.quarantined, raw.count("sync_state = 3"));
  }

  test::TempDir dir;
  StoreOptions options{.path = dir.file("buffer.db")};
  std::unique_ptr<StoreWriter> writer;
};

TEST_F(StoreSpaceTest, KeepsTheCountsOfEveryStateWithoutCountingRows) {
  const auto seqs = fill(Kind::heart_rate, 6);
  sync_all({seqs[0], seqs[1]});
  ASSERT_TRUE(writer->mark_dead(seqs[2], "refused"));  // outside a transaction: commits alone
  ASSERT_TRUE(writer->mark_synced(seqs[1], "Observation/again", kTime));  // already synced: no double count
  auto c = reader()->counts().value();
  EXPECT_EQ(c.pending, 3);
  EXPECT_EQ(c.synced, 2);
  EXPECT_EQ(c.dead, 1);
  expect_counts_match_rows();
  ASSERT_EQ(writer->requeue_dead().value(), 1);
  expect_counts_match_rows();
  EXPECT_EQ(reader()->counts()->pending, 4);
}

TEST_F(StoreSpaceTest, ARolledBackTransactionOrSavepointLeavesTheCountsAsTheDatabaseKeptThem) {
  {
    auto tx = writer->begin();
    const auto r = make(Kind::heart_rate, 1);
    ASSERT_TRUE(writer->insert_reading(r, reading_uid(r)).value());
  }  // not committed
  EXPECT_EQ(reader()->counts()->pending, 0);
  auto tx = writer->begin();
  const auto a = make(Kind::heart_rate, 2), b = make(Kind::heart_rate, 3);
  ASSERT_TRUE(writer->insert_reading(a, reading_uid(a)).value());
  ASSERT_TRUE(writer->savepoint());
  ASSERT_TRUE(writer->insert_reading(b, reading_uid(b)).value());
  ASSERT_TRUE(writer->rollback_to_savepoint());
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ(reader()->counts()->pending, 1);
  expect_counts_match_rows();
}

TEST_F(StoreSpaceTest, CountsOnceADatabaseWrittenBeforeCountsWereKeptAndKeepsThemFromThen) {
  fill(Kind::heart_rate, 5);
  {
    Raw raw(options.path);
    ASSERT_TRUE(raw.db.exec("DELETE FROM meta WHERE key = 'reading_counts'"));
  }
  EXPECT_EQ(reader()->counts()->pending, 5) << "a reader counts when nobody kept the counts";
  open();
  fill(Kind::heart_rate, 2, 100);
  EXPECT_EQ(reader()->counts()->pending, 7);
  expect_counts_match_rows();
}

TEST_F(StoreSpaceTest, MeasuresTheCapOnPagesInUseNotOnTheFileSize) {
  sync_all(fill(Kind::heart_rate, 3000));
  const auto before = reader()->counts().value();
  EXPECT_EQ(before.used_bytes, writer->used_bytes().value());
  auto tx = writer->begin();
  ASSERT_TRUE(writer->enforce_cap(before.used_bytes / 2).has_value());
  ASSERT_TRUE(tx->commit());
  const auto after = reader()->counts().value();
  EXPECT_LT(after.used_bytes, before.used_bytes / 2) << "freed pages are not in use";
  EXPECT_EQ(after.bytes, before.bytes) << "SQLite keeps the freed pages in the file for the next readings";
}

TEST_F(StoreSpaceTest, ShedsSyncedReadingsFirstOldestFirst) {
  const auto synced = fill(Kind::heart_rate, 3000);
  sync_all(synced);
  fill(Kind::blood_pressure, 500);
  fill(Kind::room_temperature, 500);
  const auto used = writer->used_bytes().value();
  auto tx = writer->begin();
  const auto report = writer->enforce_cap(used - 1).value();
  ASSERT_TRUE(tx->commit());
  EXPECT_GT(report.shed_synced, 0);
  EXPECT_EQ(report.shed_environment, 0) << "synced readings were left to shed first";
  EXPECT_EQ(report.shed_stream, 0);
  EXPECT_FALSE(report.full);
  EXPECT_LT(report.used_bytes, used / 100 * 90 + 4096) << "sheds to the low-water mark, not just under the cap";
  Raw raw(options.path);
  EXPECT_EQ(raw.count("sync_state = 1"), 3000 - report.shed_synced);
  EXPECT_EQ(raw.count("sync_state = 1 AND seq < " + std::to_string(synced[static_cast<std::size_t>(report.shed_synced)])), 0)
      << "the oldest went first";
  EXPECT_EQ(raw.count("kind = 'blood-pressure'"), 500);
  EXPECT_EQ(raw.count("kind = 'room-temperature'"), 500);
  expect_counts_match_rows();
}

TEST_F(StoreSpaceTest, ThenEnvironmentalStreamsThenWearableSamplesNeverSpotMeasurementsAlertsOrDeadLetters) {
  fill(Kind::blood_pressure, 1500);
  fill(Kind::heart_rate, 1500);
  fill(Kind::room_temperature, 1500);
  const auto dead = fill(Kind::body_weight, 10);
  for (auto s : dead) ASSERT_TRUE(writer->mark_dead(s, "refused"));
  Alert alert;
  alert.id = "alert-1";
  alert.rule = "HF5";
  alert.patient = "Patient/kit";
  alert.raised = kTime;
  ASSERT_TRUE(writer->put_alert(alert));
  const auto used = writer->used_bytes().value();
  auto tx = writer->begin();
  const auto report = writer->enforce_cap(used / 2).value();
  ASSERT_TRUE(tx->commit());
  Raw raw(options.path);
  EXPECT_EQ(report.shed_environment, 1500);
  EXPECT_EQ(raw.count("kind = 'room-temperature'"), 0);
  EXPECT_GT(report.shed_stream, 0) << "heart-rate samples go once the environment is gone";
  EXPECT_EQ(raw.count("kind = 'blood-pressure'"), 1500) << "spot measurements are never shed";
  EXPECT_EQ(raw.count("sync_state = 2"), 10) << "dead letters are unsynced: never shed";
  EXPECT_TRUE(reader()->find_alert("alert-1").value().has_value()) << "alerts are never shed";
  EXPECT_EQ(raw.integrity(), "ok");
  expect_counts_match_rows();
}

TEST_F(StoreSpaceTest, NeverShedsNorPrunesAQuarantinedReadingItIsKeptForATechnician) {
  {
    auto tx = writer->begin();
    for (int i = 0; i < 200; ++i) {
      auto r = make(Kind::room_temperature, i);  // environmental: shed first when it is pending
      r.received = r.time - std::chrono::hours(24 * 365);
      ASSERT_TRUE(writer->insert_reading(r, reading_uid(r), "a year ahead").value());
    }
    ASSERT_TRUE(tx->commit());
  }
  fill(Kind::room_temperature, 1500, 1000);
  const auto used = writer->used_bytes().value();
  {
    auto tx = writer->begin();
    const auto report = writer->enforce_cap(used / 2).value();
    ASSERT_TRUE(tx->commit());
    EXPECT_GT(report.shed_environment, 0);
  }
  {
    auto tx = writer->begin();
    ASSERT_EQ(writer->prune_synced(kTime + std::chrono::hours(24 * 10000), 0, 100000).value().deleted, 0);
    ASSERT_TRUE(tx->commit());
  }
  Raw raw(options.path);
  EXPECT_EQ(raw.count("sync_state = 3"), 200);
  expect_counts_match_rows();
}

TEST_F(StoreSpaceTest, SaysFullWhenOnlyWhatMayNotBeShedIsLeft) {
  fill(Kind::blood_pressure, 2000);
  const auto used = writer->used_bytes().value();
  auto tx = writer->begin();
  const auto report = writer->enforce_cap(used / 2).value();
  ASSERT_TRUE(tx->commit());
  EXPECT_TRUE(report.full);
  EXPECT_EQ(report.shed(), 0);
  EXPECT_EQ(Raw(options.path).count("1"), 2000);
}

TEST_F(StoreSpaceTest, RetentionPrunesOnlySyncedReadingsPastTheirAgeAWindowAtATime) {
  const auto old_synced = fill(Kind::heart_rate, 10);        // times kTime + 0..9 s
  sync_all(old_synced);
  fill(Kind::blood_pressure, 10);                            // old but unsynced: kept
  const auto recent = fill(Kind::room_temperature, 10, 1000);  // synced but newer than the limit: kept
  sync_all(recent);
  const TimePoint before = kTime + 500s;
  std::int64_t cursor = 0, deleted = 0;
  int windows = 0;
  do {
    auto tx = writer->begin();
    auto r = writer->prune_synced(before, cursor, 7).value();
    ASSERT_TRUE(tx->commit());
    deleted += r.deleted;
    cursor = r.next_seq;
    ++windows;
  } while (cursor != 0 && windows < 100);
  EXPECT_EQ(deleted, 10);
  EXPECT_EQ(windows, 5) << "30 rows in windows of 7";
  Raw raw(options.path);
  EXPECT_EQ(raw.count("kind = 'heart-rate'"), 0);
  EXPECT_EQ(raw.count("kind = 'blood-pressure'"), 10);
  EXPECT_EQ(raw.count("kind = 'room-temperature'"), 10);
  expect_counts_match_rows();
}

// --- through the pipeline ---

class BufferPipelineTest : public ::testing::Test {
 protected:
  void start(std::int64_t max_bytes, std::int64_t max_pages = 0) {
    options.path = dir.file("buffer.db");
    options.max_bytes = max_bytes;
    options.max_pages = max_pages;
    writer = StoreWriter::open(options).value();
    PipelineOptions p;
    p.default_patient = "Patient/kit";
    p.heartbeat = 20ms;  // the disk-full probe runs from the heartbeat
    pipeline = std::make_unique<Pipeline>(*writer, clock, log, counters, p);
    pipeline->start();
  }
  void TearDown() override {
    if (pipeline) pipeline->stop();
  }
  Result<IngestResult> ingest(Kind kind, int n, int first) {
    std::vector<Reading> rs;
    for (int i = first; i < first + n; ++i) rs.push_back(make(kind, i));
    auto f = pipeline->ingest(std::move(rs));
    if (f.wait_for(kPatience) != std::future_status::ready) return make_error(Errc::timeout, "ingest never resolved");
    return f.get();
  }
  std::uint64_t counter(const std::string& name) { return counters.snapshot()[name]; }
  bool logged(const std::string& needle) {
    std::lock_guard lock(log_mu);
    return log_text.find(needle) != std::string::npos;
  }
  template <class Pred>
  bool eventually(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(5ms);  // polling a condition, not waiting for it to happen
    }
    return pred();
  }

  test::TempDir dir;
  StoreOptions options;
  std::unique_ptr<StoreWriter> writer;
  std::mutex log_mu;
  std::string log_text;
  Logger log{LogLevel::debug, [this](LogLevel, std::string_view c, std::string_view m) {
               std::lock_guard lock(log_mu);
               log_text += std::string(c) + ": " + std::string(m) + "\n";
             }};
  Counters counters;
  SystemClock clock;  // the disk-full probe and retention run on real time here
  std::unique_ptr<Pipeline> pipeline;
};

TEST_F(BufferPipelineTest, AtTheCapShedsEnvironmentalReadingsSaysSoAndKeepsEverySpotMeasurement) {
  start(400 * 1024);
  ASSERT_TRUE(ingest(Kind::blood_pressure, 300, 0).has_value());
  int sent = 0;
  while (counter("store_shed_environment") == 0 && sent < 20000) {
    auto r = ingest(Kind::room_temperature, 250, sent);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    sent += 250;
  }
  ASSERT_GT(counter("store_shed_environment"), 0u) << "never reached the cap";
  const auto h = pipeline->buffer_health();
  EXPECT_EQ(h.state, BufferState::shedding);
  EXPECT_THAT(h.detail, HasSubstr("size cap"));
  EXPECT_GT(h.shed_environment, 0);
  EXPECT_LE(h.used_bytes, h.max_bytes);
  EXPECT_TRUE(logged("store: event=buffer-shed max_bytes="));
  pipeline->stop();
  Raw raw(options.path);
  EXPECT_EQ(raw.count("kind = 'blood-pressure'"), 300);
  EXPECT_EQ(raw.integrity(), "ok");
}

TEST_F(BufferPipelineTest, AFullBufferRefusesNewReadingsUntilSyncedOnesMakeRoom) {
  start(300 * 1024);
  std::optional<Error> refused;
  int sent = 0;
  while (!refused && sent < 20000) {
    auto r = ingest(Kind::blood_pressure, 200, sent);
    if (!r) refused = r.error();
    else sent += 200;
  }
  ASSERT_TRUE(refused.has_value()) << "the cap never refused anything";
  EXPECT_EQ(refused->code, Errc::full);
  EXPECT_THAT(refused->message, HasSubstr("buffer full"));
  EXPECT_EQ(pipeline->buffer_health().state, BufferState::full);
  EXPECT_GT(counter("readings_refused_full"), 0u);
  EXPECT_TRUE(logged("store: event=buffer-full max_bytes="));
  EXPECT_EQ(Raw(options.path).count("1"), sent) << "everything acknowledged is kept, nothing refused is";
  // The uploader delivers: its outcomes still commit while full, and the next batch fits again.
  auto synced = pipeline->apply([](StoreWriter& w) -> Result<void> {
    for (std::int64_t seq = 1; seq <= 600; ++seq) {
      if (auto r = w.mark_synced(seq, "Observation/" + std::to_string(seq), kTime); !r) return r;
    }
    return {};
  });
  ASSERT_EQ(synced.wait_for(kPatience), std::future_status::ready);
  ASSERT_TRUE(synced.get());
  auto again = ingest(Kind::blood_pressure, 50, 100000);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_NE(pipeline->buffer_health().state, BufferState::full);
  EXPECT_GT(counter("store_shed_synced"), 0u);
  pipeline->stop();
  Raw raw(options.path);
  EXPECT_EQ(raw.count("sync_state = 0"), sent - 600 + 50) << "no unsynced spot measurement was shed";
  EXPECT_EQ(raw.integrity(), "ok");
}

TEST_F(BufferPipelineTest, ADiskFullFailsTheIngestSaysSoAndRecoversOnceRoomIsMade) {
  // SQLite's page limit fails a write exactly as a full filesystem does (SQLITE_FULL).
  start(0, 80);
  ASSERT_TRUE(ingest(Kind::room_temperature, 300, 0).has_value());
  std::optional<Error> failed;
  int sent = 0;
  while (!failed && sent < 20000) {
    auto r = ingest(Kind::blood_pressure, 100, sent);
    if (!r) failed = r.error();
    else sent += 100;
  }
  ASSERT_TRUE(failed.has_value()) << "the page limit was never reached";
  EXPECT_EQ(failed->code, Errc::full) << failed->message;
  auto h = pipeline->buffer_health();
  EXPECT_EQ(h.state, BufferState::disk_full);
  EXPECT_THAT(h.detail, HasSubstr("no space left"));
  EXPECT_GT(counter("store_disk_full"), 0u);
  EXPECT_TRUE(logged("store: event=disk-full error="));
  {
    Raw raw(options.path);
    EXPECT_EQ(raw.count("kind = 'blood-pressure'"), sent) << "the failed batch left nothing half-stored";
    EXPECT_EQ(raw.integrity(), "ok");
  }
  // The probe sheds by the same priority to make room inside the file (here the environment's readings)
  // and readings fit again.
  ASSERT_TRUE(eventually([&] { return pipeline->buffer_health().state != BufferState::disk_full; }))
      << pipeline->buffer_health().detail;
  EXPECT_GT(counter("store_shed_environment"), 0u);
  auto again = ingest(Kind::blood_pressure, 20, 100000);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_TRUE(logged("store: event=disk-space-back\n"));
  pipeline->stop();
  Raw raw(options.path);
  EXPECT_EQ(raw.count("kind = 'blood-pressure'"), sent + 20) << "every acknowledged spot measurement is kept";
  EXPECT_EQ(raw.integrity(), "ok");
}

}  // namespace
}  // namespace carehub
