#include "store/sqlite.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace carehub::sqlite {
namespace {

using ::testing::HasSubstr;

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Database::open(dir.file("t.db"), /*create=*/true);
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    db = std::make_unique<Database>(std::move(*opened));
    ASSERT_TRUE(db->exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER, x REAL)"));
  }
  std::int64_t rows() { return db->query_int("SELECT COUNT(*) FROM t").value(); }

  test::TempDir dir;
  std::unique_ptr<Database> db;
};

TEST(SqliteDatabase, RefusesToOpenAMissingFileWithoutCreateNamingThePath) {
  test::TempDir dir;
  const auto path = dir.file("absent.db");
  auto db = Database::open(path, /*create=*/false);
  ASSERT_FALSE(db.has_value());
  EXPECT_EQ(db.error().code, Errc::io);
  EXPECT_THAT(db.error().message, HasSubstr(path));
}

TEST_F(SqliteTest, RunsStatementsAndSingleValueQueries) {
  ASSERT_TRUE(db->exec("INSERT INTO t (name, n) VALUES ('a', 1), ('b', 2)"));
  EXPECT_EQ(db->changes(), 2);
  EXPECT_EQ(db->query_int("SELECT SUM(n) FROM t").value(), 3);
  EXPECT_EQ(db->query_text("SELECT name FROM t WHERE n = 2").value(), "b");
}

TEST_F(SqliteTest, ReportsAQueryWithoutRows) {
  auto r = db->query_int("SELECT n FROM t WHERE name = 'none'");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::internal);
}

TEST_F(SqliteTest, BindsAndReadsBackEveryType) {
  auto ins = db->prepare("INSERT INTO t (name, n, x) VALUES (?1, ?2, ?3)");
  ASSERT_TRUE(ins.has_value());
  ASSERT_TRUE(ins->bind(1, std::string_view("with 'quote'")).bind(2, std::int64_t{1} << 40).bind(3, 2.5).run());
  ASSERT_TRUE(ins->bind(1, std::string_view("nulls")).bind(2, std::optional<std::int64_t>{}).bind(3, std::nullopt).run());
  auto sel = db->prepare("SELECT name, n, x FROM t ORDER BY id");
  ASSERT_TRUE(sel.has_value());
  ASSERT_EQ(sel->step().value(), true);
  EXPECT_EQ(sel->text(0), "with 'quote'");
  EXPECT_EQ(sel->int64(1), std::int64_t{1} << 40);
  EXPECT_EQ(sel->optional_int64(1), std::int64_t{1} << 40);
  EXPECT_EQ(sel->real(2), 2.5);
  ASSERT_EQ(sel->step().value(), true);
  EXPECT_TRUE(sel->is_null(1));
  EXPECT_EQ(sel->optional_int64(1), std::nullopt);
  EXPECT_EQ(sel->text(2), "");
  EXPECT_EQ(sel->step().value(), false);
}

TEST_F(SqliteTest, ReusesAStatementAfterItRanToCompletion) {
  auto ins = db->prepare("INSERT INTO t (name) VALUES (?1)");
  ASSERT_TRUE(ins.has_value());
  for (const char* name : {"a", "b", "c"}) ASSERT_TRUE(ins->bind(1, std::string_view(name)).run());
  EXPECT_EQ(rows(), 3);
}

TEST_F(SqliteTest, ReusesAStatementAfterAnError) {
  auto ins = db->prepare("INSERT INTO t (name) VALUES (?1)");
  ASSERT_TRUE(ins.has_value());
  ASSERT_TRUE(ins->bind(1, std::string_view("a")).run());
  auto dup = ins->bind(1, std::string_view("a")).run();
  ASSERT_FALSE(dup.has_value());
  EXPECT_TRUE(ins->bind(1, std::string_view("b")).run());
  EXPECT_EQ(rows(), 2);
}

TEST_F(SqliteTest, ClassifiesAConstraintViolationAsInvalidArgumentWithTheStatement) {
  ASSERT_TRUE(db->exec("INSERT INTO t (name) VALUES ('a')"));
  auto ins = db->prepare("INSERT INTO t (name) VALUES (?1)");
  ASSERT_TRUE(ins.has_value());
  auto r = ins->bind(1, std::string_view("a")).run();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_THAT(r.error().message, HasSubstr("UNIQUE constraint failed"));
  EXPECT_THAT(r.error().message, HasSubstr("INSERT INTO t"));
}

TEST_F(SqliteTest, ReportsASyntaxErrorWithTheStatement) {
  auto st = db->prepare("SELEKT 1");
  ASSERT_FALSE(st.has_value());
  EXPECT_THAT(st.error().message, HasSubstr("preparing: SELEKT 1"));
  auto ex = db->exec("SELEKT 1");
  ASSERT_FALSE(ex.has_value());
  EXPECT_THAT(ex.error().message, HasSubstr("syntax error"));
}

TEST_F(SqliteTest, KeepsAStatementWorkingAfterItIsMoved) {
  auto st = db->prepare("SELECT 41 + 1");
  ASSERT_TRUE(st.has_value());
  Statement moved = std::move(*st);
  ASSERT_EQ(moved.step().value(), true);
  EXPECT_EQ(moved.int64(0), 42);
}

TEST_F(SqliteTest, TransactionCommitsItsWrites) {
  {
    auto tx = Transaction::begin(*db);
    ASSERT_TRUE(tx.has_value());
    ASSERT_TRUE(db->exec("INSERT INTO t (name) VALUES ('kept')"));
    ASSERT_TRUE(tx->commit());
  }
  EXPECT_EQ(rows(), 1);
}

TEST_F(SqliteTest, TransactionRollsBackWhenNotCommitted) {
  ASSERT_TRUE(db->exec("INSERT INTO t (name) VALUES ('before')"));
  {
    auto tx = Transaction::begin(*db);
    ASSERT_TRUE(tx.has_value());
    ASSERT_TRUE(db->exec("INSERT INTO t (name) VALUES ('lost')"));
    ASSERT_TRUE(db->exec("DELETE FROM t WHERE name = 'before'"));
    EXPECT_EQ(rows(), 1);
  }
  EXPECT_EQ(rows(), 1);
  EXPECT_EQ(db->query_text("SELECT name FROM t").value(), "before");
  // And the connection is out of the transaction: a new one can begin.
  auto again = Transaction::begin(*db);
  EXPECT_TRUE(again.has_value());
}

TEST_F(SqliteTest, TransactionRollsBackOnceWhenMoved) {
  {
    auto tx = Transaction::begin(*db);
    ASSERT_TRUE(tx.has_value());
    ASSERT_TRUE(db->exec("INSERT INTO t (name) VALUES ('lost')"));
    Transaction moved(std::move(*tx));
  }
  EXPECT_EQ(rows(), 0);
}

TEST_F(SqliteTest, TransactionRefusesToNest) {
  auto outer = Transaction::begin(*db);
  ASSERT_TRUE(outer.has_value());
  auto inner = Transaction::begin(*db);
  ASSERT_FALSE(inner.has_value());
  EXPECT_THAT(inner.error().message, HasSubstr("within a transaction"));
}

TEST_F(SqliteTest, WritesOfAnotherConnectionWaitForTheImmediateTransaction) {
  auto tx = Transaction::begin(*db);
  ASSERT_TRUE(tx.has_value());
  auto other = Database::open(dir.file("t.db"), /*create=*/false);
  ASSERT_TRUE(other.has_value());
  // BEGIN IMMEDIATE holds the write lock: another writer is told the database is busy.
  auto r = other->exec("INSERT INTO t (name) VALUES ('other')");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::unavailable);
}

}  // namespace
}  // namespace carehub::sqlite
