#include "core/schema.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/store.hpp"
#include "tests/unit/core/temp_dir.hpp"

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
