// Proves store/store_unassigned.cpp and the unassigned state in the rest of the store: bindings persist,
// unassigned readings are kept out of every patient's path (uploader queue, trends, pruning, shedding)
// and are resolved by assign (new identity, alias, no duplicate) or discard (who, when, why).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const TimePoint kTime = from_epoch_ms(1795255200000);  // 2026-11-21T10:00:00Z

// A reading from the second user slot of a shared cuff, not bound to anyone yet.
Reading spouse_bp(int minute, double systolic = 210, int user = 2) {
  Reading r = test::blood_pressure(systolic, 120, kTime + std::chrono::minutes(minute),
                                   {.device = "ble-cuff", .source = "ble"});
  r.user = user;
  return r;
}

class StoreUnassignedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options.path = dir.file("buffer.db");
    writer = StoreWriter::open(options).value();
    reader = StoreReader::open(options).value();
  }
  // Stores `r` unassigned; returns its uid.
  std::string store_unassigned(const Reading& r) {
    const auto uid = reading_uid(r);
    auto inserted = writer->insert_reading(r, uid, {}, "user slot 2 of the device is not bound to a patient");
    EXPECT_TRUE(inserted.has_value() && *inserted);
    return uid;
  }
  std::vector<StoredReading> in(SyncState s) {
    ReadingQuery q;
    q.state = s;
    q.limit = 100000;
    return reader->readings(q).value();
  }
  void expect_counts_match_rows() {
    auto raw = sqlite::Database::open(options.path, false).value();
    const auto c = reader->counts().value();
    EXPECT_EQ(c.pending, raw.query_int("SELECT COUNT(*) FROM readings WHERE sync_state = 0").value());
    EXPECT_EQ(c.unassigned, raw.query_int("SELECT COUNT(*) FROM readings WHERE sync_state = 4").value());
    EXPECT_EQ(c.discarded, raw.query_int("SELECT COUNT(*) FROM readings WHERE sync_state = 5").value());
    EXPECT_EQ(c.quarantined, raw.query_int("SELECT COUNT(*) FROM readings WHERE sync_state = 3").value());
  }

  test::TempDir dir;
  StoreOptions options;
  std::unique_ptr<StoreWriter> writer;
  std::unique_ptr<StoreReader> reader;
};

TEST_F(StoreUnassignedTest, BindingsPersistAreReplacedAndRemoved) {
  ASSERT_TRUE(writer->put_binding({"ble-cuff", 1, "Patient/p", kTime, "tech"}));
  ASSERT_TRUE(writer->put_binding({"ble-cuff", 2, "Patient/spouse", kTime, "tech"}));
  ASSERT_TRUE(writer->put_binding({"ble-cuff", 2, "Patient/lodger", kTime + 1h, "nurse"}));
  EXPECT_THAT(reader->bindings().value(), ElementsAre(UserBinding{"ble-cuff", 1, "Patient/p", kTime, "tech"},
                                                      UserBinding{"ble-cuff", 2, "Patient/lodger", kTime + 1h, "nurse"}));
  EXPECT_TRUE(writer->remove_binding("ble-cuff", 1).value());
  EXPECT_FALSE(writer->remove_binding("ble-cuff", 1).value());
  EXPECT_EQ(writer->bindings().value().size(), 1u);
  const auto bad = writer->put_binding({"ble-cuff", 3, "", kTime, ""});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Errc::invalid_argument);
  const auto unknown = writer->put_binding({"ble-cuff", kUnknownUser, "Patient/p", kTime, ""});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_THAT(unknown.error().message, HasSubstr("unknown user"));
}

TEST_F(StoreUnassignedTest, ForgettingADeviceRemovesItsSlotBindings) {
  Device d;
  d.id = "ble-cuff";
  ASSERT_TRUE(writer->upsert_device(d));
  ASSERT_TRUE(writer->put_binding({"ble-cuff", 1, "Patient/p", kTime, ""}));
  ASSERT_TRUE(writer->put_binding({"ble-other", 1, "Patient/p", kTime, ""}));
  EXPECT_TRUE(writer->remove_device("ble-cuff").value());
  EXPECT_THAT(reader->bindings().value(), ElementsAre(UserBinding{"ble-other", 1, "Patient/p", kTime, ""}));
}

TEST_F(StoreUnassignedTest, AnUnassignedReadingIsKeptWithItsSlotAndReasonOutOfEveryPatientsPath) {
  const auto uid = store_unassigned(spouse_bp(0));
  const auto rows = in(SyncState::unassigned);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].uid, uid);
  EXPECT_TRUE(rows[0].reading.patient.empty());
  EXPECT_EQ(rows[0].reading.user, 2);
  EXPECT_THAT(rows[0].unassigned_reason, HasSubstr("not bound"));
  EXPECT_THAT(in(SyncState::pending), IsEmpty()) << "the uploader's queue never holds it";
  const auto c = reader->counts().value();
  EXPECT_EQ(c.unassigned, 1);
  EXPECT_EQ(c.pending, 0);
  // Not a trend baseline for anyone, not even a patient named "".
  EXPECT_THAT(writer->readings_between("", Kind::blood_pressure, kTime - 1h, kTime + 1h).value(), IsEmpty());
  // A patient is never stored with the unassigned state.
  auto named = spouse_bp(1);
  named.patient = "Patient/p";
  EXPECT_FALSE(writer->insert_reading(named, reading_uid(named), {}, "why").has_value());
}

TEST_F(StoreUnassignedTest, TwoUsersMeasuringAlikeInTheSameSecondAreTwoUnassignedReadings) {
  const auto a = store_unassigned(spouse_bp(0, 150, 1));
  const auto b = store_unassigned(spouse_bp(0, 150, 2));
  EXPECT_NE(a, b);
  // Attributed, the user slot is not part of the identity (uids of attributed readings never changed).
  auto p1 = spouse_bp(0, 150, 1), p2 = spouse_bp(0, 150, 2);
  p1.patient = p2.patient = "Patient/p";
  EXPECT_EQ(reading_uid(p1), reading_uid(p2));
}

TEST_F(StoreUnassignedTest, NeitherRetentionNorTheSizeCapEverRemovesAnUnassignedReading) {
  {
    auto fill = writer->begin();
    for (int i = 0; i < 200; ++i) store_unassigned(spouse_bp(i, 150 + i % 50));
    ASSERT_TRUE(fill->commit());
  }
  auto tx = writer->begin();
  const auto pruned = writer->prune_synced(kTime + 24h * 365, 0, 100000).value();
  const auto shed = writer->enforce_cap(4096).value();
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ(pruned.deleted, 0);
  EXPECT_EQ(shed.shed(), 0);
  EXPECT_TRUE(shed.full) << "nothing that may be shed: the buffer says so rather than dropping them";
  EXPECT_EQ(in(SyncState::unassigned).size(), 200u);
}

TEST_F(StoreUnassignedTest, AssigningGivesThePatientItsIdentityMakesItPendingAndRecordsWhoAndWhen) {
  const auto r = spouse_bp(0);
  const auto old_uid = store_unassigned(r);
  std::vector<StoredReading> judged;
  auto tx = writer->begin();
  const auto out = writer->assign_readings({old_uid}, "Patient/spouse", "tech", kTime + 2h, &judged).value();
  ASSERT_TRUE(tx->commit());
  auto expected = r;
  expected.patient = "Patient/spouse";
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].old_uid, old_uid);
  EXPECT_EQ(out[0].uid, reading_uid(expected));
  EXPECT_FALSE(out[0].already_stored);
  const auto pending = in(SyncState::pending);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].uid, out[0].uid);
  EXPECT_EQ(pending[0].reading.patient, "Patient/spouse");
  EXPECT_EQ(pending[0].resolved_by, "tech");
  EXPECT_EQ(pending[0].resolved, kTime + 2h);
  EXPECT_THAT(pending[0].unassigned_reason, HasSubstr("not bound")) << "why it waited stays visible";
  ASSERT_EQ(judged.size(), 1u);
  EXPECT_EQ(judged[0].uid, out[0].uid);
  EXPECT_EQ(judged[0].seq, pending[0].seq);
  expect_counts_match_rows();

  // The device resends the same record, still unassigned by its slot: a duplicate, not a second copy.
  EXPECT_FALSE(writer->insert_reading(r, old_uid, {}, "not bound").value());
  EXPECT_THAT(in(SyncState::unassigned), IsEmpty());
}

TEST_F(StoreUnassignedTest, AssigningARecordThePatientAlreadyHoldsLeavesOneCopy) {
  auto held = spouse_bp(0);
  held.patient = "Patient/spouse";
  ASSERT_TRUE(writer->insert_reading(held, reading_uid(held)).value());
  const auto copy = store_unassigned(spouse_bp(0));
  std::vector<StoredReading> judged;
  const auto out = writer->assign_readings({copy}, "Patient/spouse", "tech", kTime + 1h, &judged).value();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].already_stored);
  EXPECT_EQ(out[0].uid, reading_uid(held));
  EXPECT_THAT(judged, IsEmpty()) << "the rules saw it once already";
  EXPECT_EQ(reader->readings({}).value().size(), 1u);
  EXPECT_FALSE(writer->insert_reading(spouse_bp(0), copy, {}, "again").value()) << "its old uid is an alias now";
  expect_counts_match_rows();
}

TEST_F(StoreUnassignedTest, AssigningIsAllOrNothingAndNamesWhatItRefused) {
  const auto ok = store_unassigned(spouse_bp(0));
  auto attributed = spouse_bp(5);
  attributed.patient = "Patient/p";
  ASSERT_TRUE(writer->insert_reading(attributed, reading_uid(attributed)).value());
  auto unknown = writer->assign_readings({ok, "no-such-uid"}, "Patient/spouse", "tech", kTime, nullptr);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, Errc::not_found);
  EXPECT_THAT(unknown.error().message, HasSubstr("no-such-uid"));
  auto wrong = writer->assign_readings({ok, reading_uid(attributed)}, "Patient/spouse", "tech", kTime, nullptr);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_THAT(wrong.error().message, HasSubstr("(pending)"));
  EXPECT_EQ(in(SyncState::unassigned).size(), 1u) << "nothing changed";
  EXPECT_FALSE(writer->assign_readings({ok}, "", "tech", kTime, nullptr).has_value());
}

TEST_F(StoreUnassignedTest, AQuarantinedUnassignedReadingStaysQuarantinedOnceAssigned) {
  const auto r = spouse_bp(0);
  ASSERT_TRUE(writer->insert_reading(r, reading_uid(r), "time is 3 h after it was received", "not bound").value());
  std::vector<StoredReading> judged;
  ASSERT_TRUE(writer->assign_readings({reading_uid(r)}, "Patient/spouse", "tech", kTime, &judged));
  EXPECT_THAT(judged, IsEmpty()) << "a time the hub does not believe never steers the rules";
  ASSERT_EQ(in(SyncState::quarantined).size(), 1u);
  EXPECT_EQ(in(SyncState::quarantined)[0].reading.patient, "Patient/spouse");
  expect_counts_match_rows();
}

TEST_F(StoreUnassignedTest, DiscardingKeepsTheReadingWithWhoWhenAndWhyAndItCanStillBeAssigned) {
  const auto uid = store_unassigned(spouse_bp(0));
  EXPECT_EQ(writer->discard_readings({uid}, "tech", "a visitor tried the cuff", kTime + 1h).value(), 1);
  EXPECT_EQ(writer->discard_readings({uid}, "nurse", "again", kTime + 2h).value(), 0) << "the first decision stays";
  const auto rows = in(SyncState::discarded);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].resolved_by, "tech");
  EXPECT_EQ(rows[0].resolved, kTime + 1h);
  EXPECT_EQ(rows[0].discard_reason, "a visitor tried the cuff");
  EXPECT_EQ(reader->counts().value().discarded, 1);
  EXPECT_THAT(in(SyncState::pending), IsEmpty());
  EXPECT_FALSE(writer->insert_reading(spouse_bp(0), uid, {}, "resent").value()) << "a resend stays one reading";
  // A mistake can be undone: a discarded reading may still be assigned.
  ASSERT_TRUE(writer->assign_readings({uid}, "Patient/spouse", "nurse", kTime + 3h, nullptr));
  EXPECT_EQ(in(SyncState::pending).size(), 1u);
  expect_counts_match_rows();
}

// A dead letter the technician decides not to send (issue 18: retry or discard a dead letter): discarded
// like an unassigned reading, out of the dead count, never requeued; a pending one is refused by name.
TEST_F(StoreUnassignedTest, ADeadLetterCanBeDiscardedAndIsThenNeverRequeued) {
  const auto patient_bp = [](int minute) {
    return test::blood_pressure(128, 82, kTime + std::chrono::minutes(minute),
                                {.device = "ble-cuff", .patient = "Patient/anna", .source = "ble"});
  };
  const auto dead = patient_bp(0);
  const auto pending = patient_bp(1);
  ASSERT_TRUE(writer->insert_reading(dead, reading_uid(dead)).value());
  ASSERT_TRUE(writer->insert_reading(pending, reading_uid(pending)).value());
  const auto seq = in(SyncState::pending).at(0).seq;
  ASSERT_TRUE(writer->mark_dead(seq, "HAPI-0450: refused"));
  const auto dead_uid = in(SyncState::dead).at(0).uid;
  auto refused = writer->discard_readings({dead_uid, reading_uid(pending)}, "tech", "wrong cuff", kTime);
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message, HasSubstr("not unassigned or dead-lettered: " + reading_uid(pending) + " (pending)"));
  EXPECT_EQ(in(SyncState::dead).size(), 1u) << "all or nothing";
  EXPECT_EQ(writer->discard_readings({dead_uid}, "tech", "wrong cuff", kTime).value(), 1);
  EXPECT_THAT(in(SyncState::dead), IsEmpty());
  ASSERT_EQ(in(SyncState::discarded).size(), 1u);
  EXPECT_EQ(in(SyncState::discarded)[0].discard_reason, "wrong cuff");
  EXPECT_EQ(writer->requeue_dead().value(), 0) << "a discarded dead letter is not sent again";
  EXPECT_EQ(in(SyncState::pending).size(), 1u);
  expect_counts_match_rows();
}

TEST_F(StoreUnassignedTest, CountsSurviveReopeningAndRollbacks) {
  store_unassigned(spouse_bp(0));
  const auto second = store_unassigned(spouse_bp(1));
  {
    auto tx = writer->begin();
    ASSERT_TRUE(writer->discard_readings({second}, "tech", "x", kTime));
    // not committed: rolled back
  }
  writer = StoreWriter::open(options).value();
  const auto c = reader->counts().value();
  EXPECT_EQ(c.unassigned, 2);
  EXPECT_EQ(c.discarded, 0);
  expect_counts_match_rows();
}

}  // namespace
}  // namespace carehub
