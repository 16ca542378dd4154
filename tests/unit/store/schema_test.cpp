#include "store/schema.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "store/store.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

sqlite::Database open_db(const std::string& path) {
  auto db = sqlite::Database::open(path, /*create=*/true);
  EXPECT_TRUE(db.has_value()) << db.error().message;
  return std::move(db).value();
}

std::int64_t user_version(sqlite::Database& db) { return db.query_int("PRAGMA user_version").value(); }

TEST(SchemaMigrate, BringsAFreshDatabaseToTheCurrentVersion) {
  test::TempDir dir;
  auto db = open_db(dir.file("fresh.db"));
  ASSERT_EQ(user_version(db), 0);
  auto r = schema::migrate(db);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(user_version(db), schema::kCurrentVersion);
  for (const char* table : {"readings", "devices", "meta", "alerts", "rule_state"}) {
    EXPECT_EQ(db.query_int(std::string("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '") + table +
                           "'")
                  .value(),
              1)
        << table;
  }
}

TEST(SchemaMigrate, LeavesACurrentDatabaseAlone) {
  test::TempDir dir;
  auto db = open_db(dir.file("current.db"));
  ASSERT_TRUE(schema::migrate(db).has_value());
  ASSERT_TRUE(db.exec("INSERT INTO meta (key, value) VALUES ('hub', 'kept')"));
  auto again = schema::migrate(db);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(user_version(db), schema::kCurrentVersion);
  EXPECT_EQ(db.query_text("SELECT value FROM meta WHERE key = 'hub'").value(), "kept");
}

// Version 5 (quarantine): a buffer an older carehub filled, with one pending reading dated 2062, is upgraded
// in place: that reading is quarantined with a reason, the others keep their state, and the kept counts
// are recounted with the new state.
TEST(SchemaMigrate, QuarantinesThePendingFutureDatedReadingsOfAVersion4BufferAndRecountsIt) {
  test::TempDir dir;
  const auto path = dir.file("v4.db");
  {
    auto db = open_db(path);
    ASSERT_TRUE(schema::migrate(db, 4).has_value());
    ASSERT_EQ(user_version(db), 4);
    const char* insert =
        "INSERT INTO readings (uid, kind, device, patient, time_ms, received_ms, source, values_json, sync_state)"
        " VALUES ('%s', 'heart-rate', 'dev', 'Patient/p', %lld, %lld, 'ble', '{\"value\":60}', %d)";
    auto row = [&](const char* uid, long long time_ms, long long received_ms, int state) {
      char sql[512];
      std::snprintf(sql, sizeof sql, insert, uid, time_ms, received_ms, state);
      ASSERT_TRUE(db.exec(sql).has_value()) << sql;
    };
    const long long received = 1795255200000;          // 2026-11-21T10:00:00Z
    row("future", 2917072800000, received, 0);          // 2062, pending: quarantined
    row("skewed", received + 300000, received, 0);      // exactly the tolerance ahead: believed
    row("normal", received - 60000, received, 0);
    row("sent", 2917072800001, received, 1);            // already synced: history, left alone
    ASSERT_TRUE(db.exec("INSERT INTO meta (key, value) VALUES ('reading_counts', "
                        "'{\"pending\":3,\"synced\":1,\"dead\":0}')")
                    .has_value());
  }
  auto w = StoreWriter::open({path});
  ASSERT_TRUE(w.has_value()) << w.error().message;
  auto r = StoreReader::open({path});
  ASSERT_TRUE(r.has_value());
  const auto c = (*r)->counts().value();
  EXPECT_EQ(c.pending, 2);
  EXPECT_EQ(c.quarantined, 1);
  EXPECT_EQ(c.synced, 1);
  ReadingQuery q;
  q.state = SyncState::quarantined;
  const auto rows = (*r)->readings(q).value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].uid, "future");
  EXPECT_THAT(rows[0].quarantine_reason,
              AllOf(HasSubstr("2062-06-09T10:00:00Z"), HasSubstr("2026-11-21T10:00:00Z"), HasSubstr("upgraded")));
}

// Schema 6 (attribution): a version 5 buffer with readings, a device and an alert upgrades in place. No
// reading changes state or patient (the kept counts stay right), devices registered before keep attributing
// (bound_since unknown), and the new columns read back empty until written.
TEST(SchemaMigrate, UpgradesAVersion5BufferKeepingItsReadingsDevicesAlertsAndCounts) {
  test::TempDir dir;
  const auto path = dir.file("v5.db");
  {
    auto db = open_db(path);
    ASSERT_TRUE(schema::migrate(db, 5).has_value());
    ASSERT_EQ(user_version(db), 5);
    for (const char* sql : {
             "INSERT INTO readings (uid, kind, device, patient, time_ms, received_ms, source, values_json, sync_state)"
             " VALUES ('p1', 'heart-rate', 'ble-cuff', 'Patient/p', 1795255200000, 1795255200000, 'ble',"
             " '{\"value\":60}', 0)",
             "INSERT INTO readings (uid, kind, device, patient, time_ms, received_ms, source, values_json, sync_state,"
             " server_id) VALUES ('s1', 'heart-rate', 'ble-cuff', 'Patient/p', 1795255100000, 1795255100000, 'ble',"
             " '{\"value\":61}', 1, 'Observation/9')",
             "INSERT INTO readings (uid, kind, device, patient, time_ms, received_ms, source, values_json, sync_state,"
             " quarantine_reason) VALUES ('q1', 'heart-rate', 'ble-cuff', 'Patient/p', 2917072800000,"
             " 1795255200000, 'ble', '{\"value\":62}', 3, 'ahead')",
             "INSERT INTO devices (id, address, name, patient, newest_record_ms) VALUES ('ble-cuff',"
             " 'AA:BB:CC:DD:EE:FF', 'cuff', 'Patient/p', 1795255200000)",
             "INSERT INTO alerts (id, rule, patient, event, severity, state, notify, raised_ms, text, readings_json)"
             " VALUES ('al-1', 'hf5', 'Patient/p', 'alert', 'red', 'open', 1, 1795255200000, 'x', '[\"p1\"]')",
             "INSERT INTO meta (key, value) VALUES ('reading_counts',"
             " '{\"pending\":1,\"synced\":1,\"dead\":0,\"quarantined\":1}')",
         }) {
      ASSERT_TRUE(db.exec(sql).has_value()) << sql;
    }
  }
  auto w = StoreWriter::open({path});
  ASSERT_TRUE(w.has_value()) << w.error().message;
  auto r = StoreReader::open({path});
  ASSERT_TRUE(r.has_value());
  // Kept, not recounted: no reading changed state, so the row only gains the two new states.
  EXPECT_THAT((*r)->meta("reading_counts").value().value_or(""),
              AllOf(HasSubstr(R"("pending":1)"), HasSubstr(R"("unassigned":0)"), HasSubstr(R"("discarded":0)")));
  const auto c = (*r)->counts().value();
  EXPECT_EQ(c.pending, 1);
  EXPECT_EQ(c.synced, 1);
  EXPECT_EQ(c.quarantined, 1);
  EXPECT_EQ(c.unassigned, 0);
  EXPECT_EQ(c.discarded, 0);
  const auto rows = (*r)->readings({}).value();
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& row : rows) {
    EXPECT_EQ(row.reading.patient, "Patient/p") << row.uid;
    EXPECT_FALSE(row.reading.user.has_value()) << row.uid;
    EXPECT_TRUE(row.unassigned_reason.empty()) << row.uid;
    EXPECT_FALSE(row.resolved.has_value()) << row.uid;
  }
  EXPECT_EQ(rows[1].server_id, "Observation/9");
  const auto devices = (*r)->devices().value();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].patient, "Patient/p");
  EXPECT_FALSE(devices[0].bound_since.has_value());  // registered before: nobody knows when
  EXPECT_EQ(devices[0].newest_record, from_epoch_ms(1795255200000));
  EXPECT_TRUE(devices[0].manufacturer.empty());
  EXPECT_FALSE(devices[0].battery_percent.has_value());
  const auto alert = (*r)->find_alert("al-1").value();
  ASSERT_TRUE(alert.has_value());
  EXPECT_FALSE(alert->retrospective);
  EXPECT_TRUE(alert->notify);
  EXPECT_TRUE((*r)->bindings().value().empty());

  // The new columns take writes: the Device Information Service fields and a user slot binding.
  Device d = devices[0];
  d.manufacturer = "Omron";
  d.firmware_revision = "1.2";
  d.hardware_revision = "B";
  d.software_revision = "3.4";
  d.system_id = "0011223344556677";
  d.battery_percent = 80;
  d.bound_since = from_epoch_ms(1795255300000);
  ASSERT_TRUE((*w)->upsert_device(d).has_value());
  ASSERT_TRUE((*w)->put_binding({"ble-cuff", 2, "Patient/spouse", from_epoch_ms(1795255300000), "tech"}).has_value());
  EXPECT_EQ((*r)->devices().value().at(0), d);
  EXPECT_THAT((*r)->bindings().value(),
              ::testing::ElementsAre(UserBinding{"ble-cuff", 2, "Patient/spouse", from_epoch_ms(1795255300000), "tech"}));
}

// `carehubctl readings unassigned` on a buffer of a million readings must not scan them all.
TEST(SchemaMigrate, ListingUnassignedOrDiscardedReadingsUsesTheirOwnIndex) {
  test::TempDir dir;
  auto db = open_db(dir.file("plan.db"));
  ASSERT_TRUE(schema::migrate(db).has_value());
  for (const auto& [state, index] : {std::pair{4, "readings_unassigned"}, std::pair{5, "readings_discarded"}}) {
    auto st = db.prepare("EXPLAIN QUERY PLAN SELECT seq, uid FROM readings WHERE seq > 0 AND sync_state = " +
                         std::to_string(state) + " ORDER BY seq LIMIT 100");
    ASSERT_TRUE(st.has_value());
    std::string plan;
    while (st->step().value()) plan += st->text(3) + "\n";
    EXPECT_THAT(plan, HasSubstr(index)) << plan;
  }
}

TEST(SchemaMigrate, RefusesADatabaseFromANewerCarehubWithAClearMessage) {
  test::TempDir dir;
  auto db = open_db(dir.file("newer.db"));
  ASSERT_TRUE(db.exec("PRAGMA user_version = 99"));
  auto r = schema::migrate(db);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(r.error().message,
            "database schema version 99 is newer than this carehub supports (" +
                std::to_string(schema::kCurrentVersion) + "); refusing to open it");
  EXPECT_EQ(user_version(db), 99) << "a refused database is not touched";
  EXPECT_EQ(db.query_int("SELECT COUNT(*) FROM sqlite_master").value(), 0);
}

TEST(SchemaMigrate, MakesStoreWriterRefuseANewerDatabase) {
  test::TempDir dir;
  const auto path = dir.file("newer.db");
  {
    auto db = open_db(path);
    ASSERT_TRUE(db.exec("PRAGMA user_version = 99"));
  }
  auto w = StoreWriter::open({path});
  ASSERT_FALSE(w.has_value());
  EXPECT_THAT(w.error().message, AllOf(HasSubstr("99"), HasSubstr("newer"), HasSubstr("refusing")));
}

}  // namespace
}  // namespace carehub
