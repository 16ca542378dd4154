#include "store/sqlite.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// Statements prepared on the connection (cached ones stay; a Statement of its own is finalized with it).
int statements_on(const Database& db) {
  int n = 0;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db.handle(), nullptr); s != nullptr; s = sqlite3_next_stmt(db.handle(), s)) {
    ++n;
  }
  return n;
}

TEST_F(SqliteTest, APreparedCachedStatementIsPreparedOnceAndLentAgain) {
  ASSERT_TRUE(db->exec("INSERT INTO t (name, n) VALUES ('a', 1), ('b', 2), ('c', 3)"));
  const int before = statements_on(*db);
  for (int i = 0; i < 3; ++i) {
    auto st = db->prepare_cached("SELECT name FROM t WHERE n >= ?1 ORDER BY n");
    ASSERT_TRUE(st.has_value()) << st.error().message;
    st->bind(1, std::int64_t{2});
    ASSERT_TRUE(st->step().value());
    EXPECT_EQ(st->text(0), "b");
  }
  EXPECT_EQ(statements_on(*db), before + 1) << "one statement, kept by the connection";
}

TEST_F(SqliteTest, ALentStatementComesBackResetAndUnbound) {
  ASSERT_TRUE(db->exec("INSERT INTO t (name, n) VALUES ('a', 1), ('b', 2), ('c', 3)"));
  const std::string sql = "SELECT COUNT(*), ?1 IS NULL FROM t WHERE ?1 IS NULL OR n = ?1";
  {
    auto st = db->prepare_cached(sql);
    st->bind(1, std::int64_t{2});
    ASSERT_TRUE(st->step().value());  // one row read, the statement left mid-way
    EXPECT_EQ(st->int64(0), 1);
  }
  auto again = db->prepare_cached(sql);
  ASSERT_TRUE(again->step().value());
  EXPECT_EQ(again->int64(0), 3) << "the binding of the last borrower is gone";
  EXPECT_EQ(again->int64(1), 1);
}

TEST_F(SqliteTest, TheSameSqlWhileLentGetsAStatementOfItsOwn) {
  ASSERT_TRUE(db->exec("INSERT INTO t (name, n) VALUES ('a', 1), ('b', 2)"));
  const std::string sql = "SELECT name FROM t WHERE n >= ?1 ORDER BY n";
  auto outer = db->prepare_cached(sql);
  outer->bind(1, std::int64_t{1});
  std::vector<std::string> pairs;
  while (outer->step().value()) {
    auto inner = db->prepare_cached(sql);  // the same query, nested: must not reset the outer one
    inner->bind(1, std::int64_t{2});
    ASSERT_TRUE(inner->step().value());
    pairs.push_back(outer->text(0) + inner->text(0));
  }
  EXPECT_EQ(pairs, (std::vector<std::string>{"ab", "bb"}));
}

TEST_F(SqliteTest, CachesNoMoreThanItsBoundOfDistinctStatements) {
  const int before = statements_on(*db);
  for (std::size_t i = 0; i < Database::kMaxCached + 10; ++i) {
    auto st = db->prepare_cached("SELECT " + std::to_string(i));
    ASSERT_TRUE(st.has_value());
    ASSERT_TRUE(st->step().value());
    EXPECT_EQ(st->int64(0), static_cast<std::int64_t>(i));
  }
  EXPECT_EQ(statements_on(*db), before + static_cast<int>(Database::kMaxCached));
}

TEST_F(SqliteTest, ALentStatementSurvivesMovingItsDatabase) {
  ASSERT_TRUE(db->exec("INSERT INTO t (name, n) VALUES ('a', 1)"));
  ASSERT_TRUE(db->prepare_cached("SELECT name FROM t").has_value());  // cached, given back
  Database moved(std::move(*db));
  auto st = moved.prepare_cached("SELECT name FROM t");
  ASSERT_TRUE(st->step().value());
  EXPECT_EQ(st->text(0), "a");
}

}  // namespace
}  // namespace carehub::sqlite
