// Proves store/store_consent.cpp and the withheld state in the rest of the store: with no record every kind
// goes as before; a kind without consent is stored withheld (out of the uploader's queue and the pending
// count, still in the trend rules' look-back); withdrawing withholds what has not left yet; granting again
// releases nothing measured meanwhile unless asked; the default ("*") applies to patients without a record
// of their own; the record is append-only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/schema.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const TimePoint kTime = from_epoch_ms(1795255200000);  // 2026-11-21T10:00:00Z
constexpr const char* kAnna = "Patient/anna";
constexpr const char* kBen = "Patient/ben";

Reading bp(const std::string& patient, TimePoint t, double systolic = 150) {
  return test::blood_pressure(systolic, 90, t, {.device = "ble-cuff", .patient = patient, .source = "ble"});
}
Reading pulse(const std::string& patient, TimePoint t) {
  return test::heart_rate(70, t, {.device = "band", .patient = patient, .source = "ble"});
}

class StoreConsentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options.path = dir.file("buffer.db");
    writer = StoreWriter::open(options).value();
    reader = StoreReader::open(options).value();
  }
  std::string store(const Reading& r) {
    const auto uid = reading_uid(r);
    auto inserted = writer->insert_reading(r, uid);
    EXPECT_TRUE(inserted.has_value() && *inserted) << (inserted ? "" : inserted.error().message);
    return uid;
  }
  SyncState state_of(const std::string& uid) {
    ReadingQuery q;
    q.uids = {uid};
    auto rows = reader->readings(q).value();
    EXPECT_EQ(rows.size(), 1u);
    return rows.empty() ? SyncState::discarded : rows.front().state;
  }
  std::vector<StoredReading> pending() {
    ReadingQuery q;
    q.state = SyncState::pending;
    q.limit = 1000;
    return reader->readings(q).value();
  }
  ConsentApplied set(const std::string& patient, Kind kind, bool allowed, TimePoint since, bool release = false) {
    auto tx = writer->begin().value();
    auto applied = writer->set_consent({patient, kind, allowed, since, "uid 1000 (tech)", "test"}, release);
    EXPECT_TRUE(applied) << applied.error().message;
    EXPECT_TRUE(tx.commit());
    return applied ? *applied : ConsentApplied{};
  }
  void expect_counts_match_rows() {
    auto raw = sqlite::Database::open(options.path, false).value();
    const auto c = reader->counts().value();
    EXPECT_EQ(c.pending, raw.query_int("SELECT COUNT(*) FROM readings WHERE sync_state = 0").value());
    EXPECT_EQ(c.dead, raw.query_int("SELECT COUNT(*) FROM readings WHERE sync_state = 2").value());
    EXPECT_EQ(c.withheld, raw.query_int("SELECT COUNT(*) FROM readings WHERE sync_state = 6").value());
  }

  test::TempDir dir;
  StoreOptions options;
  std::unique_ptr<StoreWriter> writer;
  std::unique_ptr<StoreReader> reader;
};

TEST_F(StoreConsentTest, WithNoRecordEveryKindIsPendingAsBefore) {
  const auto a = store(bp(kAnna, kTime));
  const auto b = store(pulse(kAnna, kTime));
  EXPECT_EQ(state_of(a), SyncState::pending);
  EXPECT_EQ(state_of(b), SyncState::pending);
  EXPECT_EQ(reader->counts().value().withheld, 0);
  EXPECT_TRUE(reader->consent().value().empty());
}

TEST_F(StoreConsentTest, AKindWithoutConsentIsStoredWithheldOutOfTheQueueButInTheTrendLookBack) {
  set(kAnna, Kind::blood_pressure, false, kTime - 1h);
  const auto denied = store(bp(kAnna, kTime));
  const auto other_kind = store(pulse(kAnna, kTime));
  const auto other_patient = store(bp(kBen, kTime));
  EXPECT_EQ(state_of(denied), SyncState::withheld);
  EXPECT_EQ(state_of(other_kind), SyncState::pending);
  EXPECT_EQ(state_of(other_patient), SyncState::pending);
  ASSERT_EQ(pending().size(), 2u);
  for (const auto& p : pending()) EXPECT_NE(p.uid, denied);
  const auto c = reader->counts().value();
  EXPECT_EQ(c.withheld, 1);
  EXPECT_EQ(c.pending, 2);
  // The hub's own rules still see it: consent governs what leaves, not what is judged.
  auto trend = writer->readings_between(kAnna, Kind::blood_pressure, kTime - 1h, kTime + 1h).value();
  ASSERT_EQ(trend.size(), 1u);
  EXPECT_EQ(trend.front().uid, denied);
  expect_counts_match_rows();
}

TEST_F(StoreConsentTest, WithdrawingWithholdsWhatHasNotLeftYetAndLeavesTheSyncedAlone) {
  const auto sent = store(bp(kAnna, kTime));
  ASSERT_TRUE(writer->mark_synced(reader->readings({SyncState::pending, 0, 1, false}).value().front().seq, "Observation/1", kTime));
  const auto waiting = store(bp(kAnna, kTime + 1min));
  const auto refused = store(bp(kAnna, kTime + 2min));
  for (const auto& p : pending()) {
    if (p.uid == refused) {
      ASSERT_TRUE(writer->mark_dead(p.seq, "HTTP 422"));
    }
  }
  const auto pulse_uid = store(pulse(kAnna, kTime));
  const auto applied = set(kAnna, Kind::blood_pressure, false, kTime + 1h);
  EXPECT_EQ(applied.withheld, 2);
  EXPECT_EQ(state_of(sent), SyncState::synced);  // it has left: the server keeps it (see fhir-mapping.md)
  EXPECT_EQ(state_of(waiting), SyncState::withheld);
  EXPECT_EQ(state_of(refused), SyncState::withheld);
  EXPECT_EQ(state_of(pulse_uid), SyncState::pending);
  // A requeue of dead letters cannot send a withheld one.
  ASSERT_TRUE(writer->requeue_dead());
  EXPECT_EQ(state_of(refused), SyncState::withheld);
  expect_counts_match_rows();
}

TEST_F(StoreConsentTest, GrantingAgainReleasesNothingMeasuredMeanwhileUnlessAsked) {
  set(kAnna, Kind::blood_pressure, false, kTime);
  const auto meanwhile = store(bp(kAnna, kTime + 1h));
  set(kAnna, Kind::blood_pressure, true, kTime + 2h);
  const auto after = store(bp(kAnna, kTime + 3h));
  // A device's memory delivered after the grant, measured while consent was withdrawn: still withheld.
  const auto remembered = store(bp(kAnna, kTime + 90min, 151));
  EXPECT_EQ(state_of(meanwhile), SyncState::withheld);
  EXPECT_EQ(state_of(after), SyncState::pending);
  EXPECT_EQ(state_of(remembered), SyncState::withheld);
  const auto released = set(kAnna, Kind::blood_pressure, true, kTime + 4h, /*release=*/true);
  EXPECT_EQ(released.released, 2);
  EXPECT_EQ(state_of(meanwhile), SyncState::pending);
  EXPECT_EQ(state_of(remembered), SyncState::pending);
  expect_counts_match_rows();
}

TEST_F(StoreConsentTest, TheDefaultAppliesToPatientsWithoutARecordOfTheirOwn) {
  set(kAnna, Kind::heart_rate, true, kTime - 2h);
  const auto ben_before = store(pulse(kBen, kTime - 1h));
  const auto applied = set(std::string(kConsentDefault), Kind::heart_rate, false, kTime);
  EXPECT_EQ(applied.withheld, 1);
  EXPECT_EQ(state_of(ben_before), SyncState::withheld);
  EXPECT_EQ(state_of(store(pulse(kAnna, kTime + 1min))), SyncState::pending);  // her own record allows it
  EXPECT_EQ(state_of(store(pulse(kBen, kTime + 1min))), SyncState::withheld);
  EXPECT_EQ(state_of(store(bp(kBen, kTime + 1min))), SyncState::pending);  // another kind
  const auto current = reader->consent().value();
  ASSERT_EQ(current.size(), 2u);
  EXPECT_EQ(current[0].patient, kConsentDefault);  // the default first
  EXPECT_FALSE(current[0].allowed);
  EXPECT_EQ(current[1].patient, kAnna);
  EXPECT_EQ(current[1].by, "uid 1000 (tech)");
  const auto counts = reader->withheld_counts().value();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].patient, kBen);
  EXPECT_EQ(counts[0].count, 2);
  expect_counts_match_rows();
}

TEST_F(StoreConsentTest, AnUnassignedReadingAssignedToAPatientFollowsTheirConsent) {
  set(kAnna, Kind::blood_pressure, false, kTime - 1h);
  Reading r = bp("", kTime);
  r.user = 2;
  const auto uid = reading_uid(r);
  ASSERT_TRUE(writer->insert_reading(r, uid, {}, "user slot 2 is not bound"));
  std::vector<StoredReading> judged;
  auto assigned = writer->assign_readings({uid}, kAnna, "tech", kTime + 1h, &judged);
  ASSERT_TRUE(assigned) << assigned.error().message;
  EXPECT_EQ(state_of(assigned->front().uid), SyncState::withheld);
  EXPECT_EQ(judged.size(), 1u) << "the rules still judge it";
  expect_counts_match_rows();
}

TEST_F(StoreConsentTest, TheRecordIsAppendOnlyAndKeepsEveryChange) {
  set(kAnna, Kind::glucose, false, kTime);
  set(kAnna, Kind::glucose, true, kTime + 1h);
  const auto history = reader->consent_history(std::string(kAnna)).value();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_FALSE(history[0].allowed);
  EXPECT_TRUE(history[1].allowed);
  ASSERT_EQ(reader->consent(std::string(kAnna)).value().size(), 1u);
  EXPECT_TRUE(reader->consent(std::string(kAnna)).value().front().allowed);
  auto raw = sqlite::Database::open(options.path, false).value();
  auto update = raw.exec("UPDATE consent SET allowed = 1");
  ASSERT_FALSE(update);
  EXPECT_THAT(update.error().message, HasSubstr("append-only"));
  EXPECT_FALSE(raw.exec("DELETE FROM consent"));
}

TEST_F(StoreConsentTest, AWithdrawalRolledBackWithItsTransactionChangesNothing) {
  const auto waiting = store(bp(kAnna, kTime));
  {
    auto tx = writer->begin().value();
    ASSERT_TRUE(writer->set_consent({kAnna, Kind::blood_pressure, false, kTime + 1h, "tech", ""}));
  }  // not committed: rolled back
  EXPECT_EQ(state_of(waiting), SyncState::pending);
  EXPECT_TRUE(reader->consent().value().empty());
  EXPECT_EQ(state_of(store(bp(kAnna, kTime + 2h))), SyncState::pending);
  expect_counts_match_rows();
}

TEST_F(StoreConsentTest, TheSizeCapShedsWithheldStreamSamplesBeforePendingOnesAndNeverAWithheldSpotMeasurement) {
  set(kAnna, Kind::heart_rate, false, kTime - 1h);
  set(kAnna, Kind::blood_pressure, false, kTime - 1h);
  {
    auto tx = writer->begin().value();
    for (int i = 0; i < 1500; ++i) {
      const auto t = kTime + std::chrono::seconds(i);
      ASSERT_TRUE(writer->insert_reading(pulse(kAnna, t), reading_uid(pulse(kAnna, t))));
      ASSERT_TRUE(writer->insert_reading(pulse(kBen, t), reading_uid(pulse(kBen, t))));
      if (i < 300) {
        ASSERT_TRUE(writer->insert_reading(bp(kAnna, t), reading_uid(bp(kAnna, t))));
      }
    }
    ASSERT_TRUE(tx.commit());
  }
  const auto used = writer->used_bytes().value();
  auto tx = writer->begin().value();
  const auto report = writer->enforce_cap(used / 2).value();
  ASSERT_TRUE(tx.commit());
  auto raw = sqlite::Database::open(options.path, false).value();
  const auto withheld_hr = raw.query_int("SELECT COUNT(*) FROM readings WHERE sync_state = 6 AND kind = 'heart-rate'").value();
  const auto pending_hr = raw.query_int("SELECT COUNT(*) FROM readings WHERE sync_state = 0 AND kind = 'heart-rate'").value();
  EXPECT_EQ(withheld_hr, 0) << "they will never be sent: they go first";
  EXPECT_LT(pending_hr, 1500) << "then pending samples, to reach the low-water mark";
  EXPECT_EQ(report.shed_stream, 1500 + (1500 - pending_hr));
  EXPECT_EQ(raw.query_int("SELECT COUNT(*) FROM readings WHERE sync_state = 6 AND kind = 'blood-pressure'").value(), 300)
      << "a withheld spot measurement is, like a pending one, never shed";
  expect_counts_match_rows();
}

TEST_F(StoreConsentTest, AnEmptyPatientIsRefused) {
  auto r = writer->set_consent({"", Kind::glucose, false, kTime, "tech", ""});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
}

// Version 9 on a buffer an older carehub filled: nothing is withheld, the kept counts gain "withheld".
TEST(ConsentSchema, UpgradesAVersion8BufferWithoutWithholdingAnything) {
  test::TempDir dir;
  StoreOptions options;
  options.path = dir.file("v8.db");
  {
    auto db = sqlite::Database::open(options.path, true).value();
    ASSERT_TRUE(schema::migrate(db, 8));
    ASSERT_TRUE(db.exec("INSERT INTO readings (uid, kind, device, patient, time_ms, received_ms, source, values_json) "
                        "VALUES ('r1', 'blood-pressure', 'd1', 'Patient/anna', 1, 2, 'sim', '{}')"));
    ASSERT_TRUE(db.exec("INSERT INTO meta (key, value) VALUES ('reading_counts', "
                        "'{\"pending\":1,\"synced\":0,\"dead\":0,\"quarantined\":0,\"unassigned\":0,\"discarded\":0}')"));
  }
  auto writer = StoreWriter::open(options);
  ASSERT_TRUE(writer) << writer.error().message;
  auto reader = StoreReader::open(options).value();
  const auto c = reader->counts().value();
  EXPECT_EQ(c.pending, 1);
  EXPECT_EQ(c.withheld, 0);
  EXPECT_EQ(reader->readings({SyncState::pending, 0, 10, false}).value().size(), 1u);
}

}  // namespace
}  // namespace carehub
