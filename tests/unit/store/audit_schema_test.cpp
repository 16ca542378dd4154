// Schema version 8 (the audit trail, issue 18): a buffer an older carehub left is upgraded in place, and
// the audit rows are append-only and kept until the FHIR server holds them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/schema.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

using ::testing::HasSubstr;

sqlite::Database open_db(const std::string& path) {
  auto db = sqlite::Database::open(path, /*create=*/true);
  EXPECT_TRUE(db.has_value()) << db.error().message;
  return std::move(db).value();
}

constexpr std::string_view kInsertEvent =
    "INSERT INTO audit_events (uid, time_ms, action, actor, actor_kind, outcome) VALUES "
    "('a1', 1000, 'alerts.ack', 'uid 1000 (anna)', 'unix', 'success')";

TEST(AuditSchema, UpgradesAVersion7BufferKeepingItsReadings) {
  test::TempDir dir;
  auto db = open_db(dir.file("v7.db"));
  ASSERT_TRUE(schema::migrate(db, 7).has_value());
  ASSERT_TRUE(db.exec("INSERT INTO readings (uid, kind, device, patient, time_ms, received_ms, source, values_json) "
                      "VALUES ('r1', 'weight', 'd1', 'Patient/p1', 1, 2, 'sim', '{}')"));
  auto r = schema::migrate(db, 8);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(db.query_int("PRAGMA user_version").value(), 8);
  EXPECT_EQ(db.query_int("SELECT COUNT(*) FROM readings").value(), 1);
  ASSERT_TRUE(db.exec(kInsertEvent));
  EXPECT_EQ(db.query_int("SELECT sync_state FROM audit_events WHERE uid = 'a1'").value(), 0);
}

TEST(AuditSchema, RefusesToRewriteWhoDidWhat) {
  test::TempDir dir;
  auto db = open_db(dir.file("audit.db"));
  ASSERT_TRUE(schema::migrate(db).has_value());
  ASSERT_TRUE(db.exec(kInsertEvent));
  auto rewritten = db.exec("UPDATE audit_events SET actor = 'someone else'");
  ASSERT_FALSE(rewritten.has_value());
  EXPECT_THAT(rewritten.error().message, HasSubstr("append-only"));
  // The sync columns may change: that is the uploader's bookkeeping, not the record.
  EXPECT_TRUE(db.exec("UPDATE audit_events SET attempts = 1, sync_state = 1, server_id = 'AuditEvent/9'"));
  EXPECT_EQ(db.query_text("SELECT actor FROM audit_events").value(), "uid 1000 (anna)");
}

TEST(AuditSchema, KeepsAnEventUntilTheServerHoldsIt) {
  test::TempDir dir;
  auto db = open_db(dir.file("audit.db"));
  ASSERT_TRUE(schema::migrate(db).has_value());
  ASSERT_TRUE(db.exec(kInsertEvent));
  auto deleted = db.exec("DELETE FROM audit_events");
  ASSERT_FALSE(deleted.has_value());
  EXPECT_THAT(deleted.error().message, HasSubstr("kept until the FHIR server holds it"));
  ASSERT_TRUE(db.exec("UPDATE audit_events SET sync_state = 1"));
  EXPECT_TRUE(db.exec("DELETE FROM audit_events"));
}

}  // namespace
}  // namespace carehub
