// Proves store/store_writer.cpp and store/store_reader.cpp against a real SQLite file.
#include "store/store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/schema.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const TimePoint kTime = from_epoch_ms(1763719200000);  // 2025-11-21T10:00:00Z

Reading heart_rate(double bpm, int minute = 0) {
  return test::heart_rate(bpm, kTime + std::chrono::minutes(minute),
                          {.device = "ble-aa-bb-cc-dd-ee-ff", .patient = "Patient/p1", .source = "ble",
                           .received_after = std::chrono::seconds(2)});
}

std::vector<std::int64_t> seqs(const std::vector<StoredReading>& rs) {
  std::vector<std::int64_t> out;
  for (const auto& r : rs) out.push_back(r.seq);
  return out;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options.path = dir.file("buffer.db");
    open_writer();
  }
  void open_writer() {
    auto w = StoreWriter::open(options);
    ASSERT_TRUE(w.has_value()) << w.error().message;
    writer = std::move(*w);
  }
  StoreReader& reader() {
    if (!reader_) {
      auto r = StoreReader::open(options);
      EXPECT_TRUE(r.has_value()) << r.error().message;
      reader_ = std::move(*r);
    }
    return *reader_;
  }
  std::vector<StoredReading> all() {
    auto rs = reader().readings({std::nullopt, 0, 1000, false});
    EXPECT_TRUE(rs.has_value()) << rs.error().message;
    return rs.has_value() ? *rs : std::vector<StoredReading>{};
  }
  // Inserts and returns the new row's seq.
  std::int64_t insert(const Reading& r) {
    const auto uid = reading_uid(r);
    auto inserted = writer->insert_reading(r, uid);
    EXPECT_TRUE(inserted.has_value() && *inserted);
    for (const auto& s : all()) {
      if (s.uid == uid) return s.seq;
    }
    ADD_FAILURE() << "inserted reading not found";
    return 0;
  }
  StoreCounts counts() { return reader().counts().value(); }

  test::TempDir dir;
  StoreOptions options;
  std::unique_ptr<StoreWriter> writer;
  std::unique_ptr<StoreReader> reader_;
};

TEST_F(StoreTest, OpensTheDatabaseInWalMode) {
  auto db = sqlite::Database::open(options.path, /*create=*/false);
  ASSERT_TRUE(db.has_value());
  EXPECT_EQ(db->query_text("PRAGMA journal_mode").value(), "wal");
}

TEST_F(StoreTest, CreatesTheCurrentSchema) {
  auto db = sqlite::Database::open(options.path, /*create=*/false);
  ASSERT_TRUE(db.has_value());
  EXPECT_EQ(db->query_int("PRAGMA user_version").value(), schema::kCurrentVersion);
}

TEST_F(StoreTest, StartsEmpty) {
  EXPECT_THAT(all(), IsEmpty());
  const auto c = counts();
  EXPECT_EQ(c.pending, 0);
  EXPECT_EQ(c.synced, 0);
  EXPECT_EQ(c.dead, 0);
  EXPECT_GT(c.bytes, 0);
}

TEST_F(StoreTest, InsertsAReadingAndReadsEveryFieldBack) {
  Reading r;
  r.kind = Kind::blood_pressure;
  r.device = "ble-aa";
  r.patient = "Patient/p1";
  r.time = kTime;
  r.device_time = kTime - std::chrono::seconds(90);
  r.received = kTime + std::chrono::milliseconds(1234);
  r.source = "ble";
  r.values = {{"systolic", 120.009852135}, {"diastolic", 80}, {"pulse", 61}};
  const auto uid = reading_uid(r);
  auto inserted = writer->insert_reading(r, uid);
  ASSERT_TRUE(inserted.has_value()) << inserted.error().message;
  EXPECT_TRUE(*inserted);
  const auto rows = all();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_GT(rows[0].seq, 0);
  EXPECT_EQ(rows[0].uid, uid);
  EXPECT_EQ(rows[0].reading, r);
  EXPECT_EQ(rows[0].state, SyncState::pending);
  EXPECT_EQ(rows[0].attempts, 0);
  EXPECT_EQ(rows[0].server_id, "");
  EXPECT_EQ(rows[0].dead_reason, "");
}

TEST_F(StoreTest, KeepsAMissingDeviceTimeMissing) {
  auto r = heart_rate(60);
  r.device_time.reset();
  insert(r);
  EXPECT_EQ(all().at(0).reading.device_time, std::nullopt);
}

TEST_F(StoreTest, IgnoresASecondReadingWithTheSameUid) {
  const auto r = heart_rate(60);
  const auto uid = reading_uid(r);
  ASSERT_EQ(writer->insert_reading(r, uid).value(), true);
  auto again = writer->insert_reading(r, uid);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_FALSE(*again);
  EXPECT_EQ(all().size(), 1u);
}

TEST_F(StoreTest, KeepsTheFirstReadingWhenAnotherArrivesUnderTheSameUid) {
  const auto first = heart_rate(60);
  ASSERT_EQ(writer->insert_reading(first, "same-uid").value(), true);
  ASSERT_EQ(writer->insert_reading(heart_rate(99), "same-uid").value(), false);
  const auto rows = all();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].reading.values.at("value"), 60);
}

TEST_F(StoreTest, NumbersReadingsInArrivalOrder) {
  const auto a = insert(heart_rate(60, 5));
  const auto b = insert(heart_rate(61, 1));  // an older measurement that arrived later
  const auto c = insert(heart_rate(62, 3));
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_THAT(seqs(all()), ElementsAre(a, b, c));
}

TEST_F(StoreTest, MarksAReadingSyncedWithTheServerId) {
  const auto seq = insert(heart_rate(60));
  const auto other = insert(heart_rate(61, 1));
  ASSERT_TRUE(writer->mark_synced(seq, "Observation/123", kTime + std::chrono::minutes(1)));
  const auto rows = all();
  EXPECT_EQ(rows[0].state, SyncState::synced);
  EXPECT_EQ(rows[0].server_id, "Observation/123");
  EXPECT_EQ(rows[0].attempts, 1);
  EXPECT_EQ(rows[1].seq, other);
  EXPECT_EQ(rows[1].state, SyncState::pending) << "only the named reading changes";
  const auto c = counts();
  EXPECT_EQ(c.synced, 1);
  EXPECT_EQ(c.pending, 1);
}

TEST_F(StoreTest, DeadLettersAReadingKeepingTheReason) {
  const auto seq = insert(heart_rate(60));
  const std::string outcome = R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]})";
  ASSERT_TRUE(writer->mark_dead(seq, outcome));
  const auto rows = all();
  EXPECT_EQ(rows[0].state, SyncState::dead);
  EXPECT_EQ(rows[0].dead_reason, outcome);
  EXPECT_EQ(rows[0].attempts, 1);
  EXPECT_EQ(counts().dead, 1);
  EXPECT_EQ(counts().pending, 0);
}

TEST_F(StoreTest, CountsAnAttemptWithoutChangingTheState) {
  const auto seq = insert(heart_rate(60));
  ASSERT_TRUE(writer->mark_attempt(seq));
  ASSERT_TRUE(writer->mark_attempt(seq));
  const auto rows = all();
  EXPECT_EQ(rows[0].attempts, 2);
  EXPECT_EQ(rows[0].state, SyncState::pending);
}

TEST_F(StoreTest, RequeuesOnlyDeadLetteredReadings) {
  const auto dead1 = insert(heart_rate(60, 0));
  const auto dead2 = insert(heart_rate(61, 1));
  const auto synced = insert(heart_rate(62, 2));
  insert(heart_rate(63, 3));
  ASSERT_TRUE(writer->mark_dead(dead1, "bad"));
  ASSERT_TRUE(writer->mark_dead(dead2, "bad"));
  ASSERT_TRUE(writer->mark_synced(synced, "Observation/9", kTime));
  auto n = writer->requeue_dead();
  ASSERT_TRUE(n.has_value()) << n.error().message;
  EXPECT_EQ(*n, 2);
  const auto c = counts();
  EXPECT_EQ(c.pending, 3);
  EXPECT_EQ(c.synced, 1);
  EXPECT_EQ(c.dead, 0);
  EXPECT_EQ(writer->requeue_dead().value(), 0) << "nothing left to requeue";
}

TEST_F(StoreTest, ClearsTheDeadReasonOnceARequeuedReadingSyncs) {
  const auto seq = insert(heart_rate(60));
  ASSERT_TRUE(writer->mark_dead(seq, "bad"));
  ASSERT_EQ(writer->requeue_dead().value(), 1);
  ASSERT_TRUE(writer->mark_synced(seq, "Observation/1", kTime));
  const auto rows = all();
  EXPECT_EQ(rows[0].dead_reason, "");
  EXPECT_EQ(rows[0].attempts, 2);
}

TEST_F(StoreTest, FiltersReadingsByState) {
  const auto a = insert(heart_rate(60, 0));
  const auto b = insert(heart_rate(61, 1));
  const auto c = insert(heart_rate(62, 2));
  ASSERT_TRUE(writer->mark_synced(a, "Observation/1", kTime));
  ASSERT_TRUE(writer->mark_dead(c, "bad"));
  EXPECT_THAT(seqs(reader().readings({SyncState::pending, 0, 100, false}).value()), ElementsAre(b));
  EXPECT_THAT(seqs(reader().readings({SyncState::synced, 0, 100, false}).value()), ElementsAre(a));
  EXPECT_THAT(seqs(reader().readings({SyncState::dead, 0, 100, false}).value()), ElementsAre(c));
  EXPECT_THAT(seqs(reader().readings({std::nullopt, 0, 100, false}).value()), ElementsAre(a, b, c));
}

TEST_F(StoreTest, OrdersOldestFirstOrNewestFirstAndLimits) {
  std::vector<std::int64_t> s;
  for (int i = 0; i < 5; ++i) s.push_back(insert(heart_rate(60 + i, i)));
  EXPECT_THAT(seqs(reader().readings({std::nullopt, 0, 2, false}).value()), ElementsAre(s[0], s[1]));
  EXPECT_THAT(seqs(reader().readings({std::nullopt, 0, 2, true}).value()), ElementsAre(s[4], s[3]));
  EXPECT_THAT(reader().readings({std::nullopt, 0, 0, false}).value(), IsEmpty());
}

TEST_F(StoreTest, PagesForwardFromAfterSeq) {
  std::vector<std::int64_t> s;
  for (int i = 0; i < 5; ++i) s.push_back(insert(heart_rate(60 + i, i)));
  const auto page1 = reader().readings({std::nullopt, 0, 2, false}).value();
  const auto page2 = reader().readings({std::nullopt, page1.back().seq, 2, false}).value();
  const auto page3 = reader().readings({std::nullopt, page2.back().seq, 2, false}).value();
  const auto page4 = reader().readings({std::nullopt, page3.back().seq, 2, false}).value();
  EXPECT_THAT(seqs(page2), ElementsAre(s[2], s[3]));
  EXPECT_THAT(seqs(page3), ElementsAre(s[4]));
  EXPECT_THAT(page4, IsEmpty());
}

TEST_F(StoreTest, CombinesStateFilterWithPaging) {
  std::vector<std::int64_t> s;
  for (int i = 0; i < 6; ++i) s.push_back(insert(heart_rate(60 + i, i)));
  ASSERT_TRUE(writer->mark_synced(s[1], "Observation/1", kTime));
  ASSERT_TRUE(writer->mark_synced(s[3], "Observation/3", kTime));
  EXPECT_THAT(seqs(reader().readings({SyncState::pending, s[0], 2, false}).value()), ElementsAre(s[2], s[4]));
}

TEST_F(StoreTest, UpsertsAndReadsDevices) {
  Device d{"ble-aa", "AA:BB:CC:DD:EE:FF", "BP5", "A&D UA-651", "SN1", "blood-pressure", "Patient/p1", kTime};
  ASSERT_TRUE(writer->upsert_device(d));
  auto devices = reader().devices();
  ASSERT_TRUE(devices.has_value()) << devices.error().message;
  EXPECT_THAT(*devices, ElementsAre(d));
}

TEST_F(StoreTest, UpdatesADeviceInPlace) {
  Device d{"ble-aa", "AA:BB:CC:DD:EE:FF", "BP5", "", "", "blood-pressure", "Patient/p1", kTime};
  ASSERT_TRUE(writer->upsert_device(d));
  d.patient = "Patient/p2";
  d.name = "Kitchen cuff";
  d.last_seen = kTime + std::chrono::hours(1);
  ASSERT_TRUE(writer->upsert_device(d));
  EXPECT_THAT(reader().devices().value(), ElementsAre(d));
}

TEST_F(StoreTest, KeepsTheLastSeenTimeWhenAnUpdateDoesNotKnowIt) {
  Device d{"ble-aa", "AA:BB:CC:DD:EE:FF", "BP5", "", "", "", "", kTime};
  ASSERT_TRUE(writer->upsert_device(d));
  Device renamed = d;
  renamed.name = "renamed";
  renamed.last_seen.reset();
  ASSERT_TRUE(writer->upsert_device(renamed));
  const auto devices = reader().devices().value();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].name, "renamed");
  EXPECT_EQ(devices[0].last_seen, kTime);
}

TEST_F(StoreTest, KeepsTheNewestRecordMarksOfADeviceAcrossUpdates) {
  Device d{"ble-aa", "AA:BB:CC:DD:EE:FF", "BP5", "", "", "blood-pressure", "Patient/p1", kTime};
  d.newest_record = kTime - std::chrono::hours(2);
  d.newest_sequence = 41;
  ASSERT_TRUE(writer->upsert_device(d));
  EXPECT_THAT(reader().devices().value(), ElementsAre(d));
  Device unaware = d;  // e.g. written by a component that does not track the marks
  unaware.newest_record.reset();
  unaware.newest_sequence.reset();
  ASSERT_TRUE(writer->upsert_device(unaware));
  const auto devices = reader().devices().value();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].newest_record, d.newest_record);
  EXPECT_EQ(devices[0].newest_sequence, 41);
}

TEST_F(StoreTest, ListsDevicesById) {
  for (const char* id : {"ble-cc", "ble-aa", "openhab-Kitchen_Temp"}) {
    ASSERT_TRUE(writer->upsert_device(Device{id, "", "", "", "", "", "", std::nullopt}));
  }
  const auto devices = reader().devices().value();
  std::vector<std::string> ids;
  for (const auto& d : devices) ids.push_back(d.id);
  EXPECT_THAT(ids, ElementsAre("ble-aa", "ble-cc", "openhab-Kitchen_Temp"));
}

TEST_F(StoreTest, RemovesADeviceAndSaysWhetherItExisted) {
  ASSERT_TRUE(writer->upsert_device(Device{"ble-aa", "", "", "", "", "", "", std::nullopt}));
  EXPECT_EQ(writer->remove_device("ble-aa").value(), true);
  EXPECT_EQ(writer->remove_device("ble-aa").value(), false);
  EXPECT_EQ(writer->remove_device("never-paired").value(), false);
  EXPECT_THAT(reader().devices().value(), IsEmpty());
}

TEST_F(StoreTest, StoresAndOverwritesMeta) {
  EXPECT_EQ(reader().meta("hub_id").value(), std::nullopt);
  ASSERT_TRUE(writer->put_meta("hub_id", "hub-0001"));
  EXPECT_EQ(reader().meta("hub_id").value(), "hub-0001");
  ASSERT_TRUE(writer->put_meta("hub_id", "hub-0002"));
  EXPECT_EQ(reader().meta("hub_id").value(), "hub-0002");
  EXPECT_EQ(reader().meta("other").value(), std::nullopt);
}

TEST_F(StoreTest, DiscardsWritesOfATransactionThatIsNotCommitted) {
  {
    auto tx = writer->begin();
    ASSERT_TRUE(tx.has_value()) << tx.error().message;
    ASSERT_TRUE(writer->insert_reading(heart_rate(60), "uncommitted").value());
    ASSERT_TRUE(writer->put_meta("k", "v"));
  }
  EXPECT_THAT(all(), IsEmpty());
  EXPECT_EQ(reader().meta("k").value(), std::nullopt);
}

TEST_F(StoreTest, RollsBackToTheSavepointOnlyTheWritesAfterIt) {
  auto tx = writer->begin();
  ASSERT_TRUE(tx.has_value());
  ASSERT_TRUE(writer->insert_reading(heart_rate(60, 0), "kept").value());
  ASSERT_TRUE(writer->savepoint());
  ASSERT_TRUE(writer->insert_reading(heart_rate(61, 1), "undone").value());
  ASSERT_TRUE(writer->rollback_to_savepoint());
  ASSERT_TRUE(writer->savepoint());
  ASSERT_TRUE(writer->put_meta("released", "yes"));
  ASSERT_TRUE(writer->release());
  ASSERT_TRUE(tx->commit());
  const auto rows = all();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].uid, "kept");
  EXPECT_EQ(reader().meta("released").value(), "yes");
}

TEST_F(StoreTest, LetsAReaderSeeOnlyCommittedWritesWhileTheWriterIsInATransaction) {
  insert(heart_rate(60, 0));
  auto tx = writer->begin();
  ASSERT_TRUE(tx.has_value());
  ASSERT_TRUE(writer->insert_reading(heart_rate(61, 1), "in-flight").value());
  // WAL: the reader is not blocked by the open write transaction, and does not see it.
  EXPECT_EQ(all().size(), 1u);
  EXPECT_EQ(counts().pending, 1);
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ(all().size(), 2u);
}

TEST_F(StoreTest, KeepsEverythingAcrossClosingAndReopening) {
  const auto seq = insert(heart_rate(60, 0));
  insert(heart_rate(61, 1));
  ASSERT_TRUE(writer->mark_dead(seq, "bad"));
  Device d{"ble-aa", "AA:BB:CC:DD:EE:FF", "cuff", "", "", "", "Patient/p1", kTime};
  ASSERT_TRUE(writer->upsert_device(d));
  ASSERT_TRUE(writer->put_meta("hub_id", "hub-0001"));
  const auto before = all();
  reader_.reset();
  writer.reset();

  open_writer();  // migrations must not touch existing data
  EXPECT_EQ(all().size(), before.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(all()[i].uid, before[i].uid);
    EXPECT_EQ(all()[i].reading, before[i].reading);
    EXPECT_EQ(all()[i].state, before[i].state);
    EXPECT_EQ(all()[i].dead_reason, before[i].dead_reason);
  }
  EXPECT_THAT(reader().devices().value(), ElementsAre(d));
  EXPECT_EQ(reader().meta("hub_id").value(), "hub-0001");
  // The duplicate check survives the restart too.
  EXPECT_EQ(writer->insert_reading(heart_rate(61, 1), reading_uid(heart_rate(61, 1))).value(), false);
}

TEST_F(StoreTest, ReaderRefusesADatabaseThatDoesNotExist) {
  auto r = StoreReader::open({dir.file("absent.db")});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::io);
}

TEST(SyncStateNames, AreStable) {
  EXPECT_EQ(to_string(SyncState::pending), "pending");
  EXPECT_EQ(to_string(SyncState::synced), "synced");
  EXPECT_EQ(to_string(SyncState::dead), "dead");
  EXPECT_EQ(to_string(SyncState::quarantined), "quarantined");
}

TEST_F(StoreTest, KeepsAQuarantinedReadingWithItsReasonOutOfTheUploadQueueAndCountsIt) {
  auto future = heart_rate(60);
  future.time = from_epoch_ms(2917072800000);  // 2062
  const auto uid = reading_uid(future);
  ASSERT_TRUE(writer->insert_reading(future, uid, "time 2062-06-09T10:00:00Z is ahead").value());
  insert(heart_rate(61, 1));
  const auto rows = all();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].state, SyncState::quarantined);
  EXPECT_EQ(rows[0].quarantine_reason, "time 2062-06-09T10:00:00Z is ahead");
  EXPECT_EQ(rows[0].reading, future) << "kept exactly as it came";
  EXPECT_EQ(rows[1].quarantine_reason, "");
  EXPECT_THAT(seqs(reader().readings({SyncState::pending, 0, 100, false}).value()), ElementsAre(rows[1].seq));
  EXPECT_THAT(seqs(reader().readings({SyncState::quarantined, 0, 100, false}).value()), ElementsAre(rows[0].seq));
  auto c = counts();
  EXPECT_EQ(c.pending, 1);
  EXPECT_EQ(c.quarantined, 1);
  EXPECT_FALSE(writer->insert_reading(future, uid, "again").value()) << "a resend is a duplicate";
  writer.reset();
  reader_.reset();
  open_writer();
  c = counts();
  EXPECT_EQ(c.pending, 1);
  EXPECT_EQ(c.quarantined, 1) << "the kept counts survive a restart";
}

TEST_F(StoreTest, NeverGivesTheRulesAQuarantinedReading) {
  auto near_future = heart_rate(70, 10);
  ASSERT_TRUE(writer->insert_reading(near_future, reading_uid(near_future), "ahead").value());
  insert(heart_rate(71, 5));
  auto window = writer->readings_between("Patient/p1", Kind::heart_rate, kTime, kTime + std::chrono::hours(1));
  ASSERT_TRUE(window.has_value()) << window.error().message;
  ASSERT_EQ(window->size(), 1u);
  EXPECT_EQ(window->front().reading.values.at("value"), 71);
}

TEST_F(StoreTest, NarrowsReadingsToOneDeviceKindAndTimeRange) {
  insert(heart_rate(60, 0));
  const auto in_range = insert(heart_rate(61, 1));
  insert(heart_rate(62, 2));
  auto other = heart_rate(63, 1);
  other.device = "ble-other";
  insert(other);
  ReadingQuery q{std::nullopt, 0, 100, false};
  q.device = "ble-aa-bb-cc-dd-ee-ff";
  q.kind = Kind::heart_rate;
  q.from = kTime + std::chrono::minutes(1);
  q.to = kTime + std::chrono::minutes(2);  // exclusive
  EXPECT_THAT(seqs(reader().readings(q).value()), ElementsAre(in_range));
  q.kind = Kind::spo2;
  EXPECT_THAT(reader().readings(q).value(), IsEmpty());
}

TEST_F(StoreTest, FindsReadingsByUid) {
  const auto a = heart_rate(60, 0), b = heart_rate(61, 1), c = heart_rate(62, 2);
  insert(a);
  const auto sb = insert(b);
  const auto sc = insert(c);
  ReadingQuery q{std::nullopt, 0, 100, false};
  q.uids = {reading_uid(c), reading_uid(b), "not-stored"};
  EXPECT_THAT(seqs(reader().readings(q).value()), ElementsAre(sb, sc));
}

}  // namespace
}  // namespace carehub
