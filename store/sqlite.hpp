#pragma once
// RAII over the SQLite C API. An SQLite return code becomes a carehub::Error right here, with the
// statement and SQLite's own message, and never travels further.
#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.hpp"
#include "store/buffer_key.hpp"

namespace carehub::sqlite {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  // Lent by Database::prepare_cached: on destruction reset, unbound and given back, not finalized.
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* lent) : db_(db), stmt_(stmt), lent_(lent) {}
  Statement(Statement&& o) noexcept
      : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)), lent_(std::exchange(o.lent_, nullptr)) {}
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t v);
  Statement& bind(int index, double v);
  Statement& bind(int index, std::string_view v);
  Statement& bind(int index, std::nullopt_t);
  Statement& bind(int index, const std::optional<std::int64_t>& v);

  // true: a row is ready; false: done. Resets itself when done or on error, so it is reusable.
  Result<bool> step();
  // Runs to completion, for statements that return no rows.
  Result<void> run();
  void reset();

  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string text(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::optional<std::int64_t> optional_int64(int col) const;

 private:
  friend class Database;  // lends its cached statements' handles
  Error error(int rc) const;
  void release();
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  bool* lent_ = nullptr;  // set: the Database's cached statement, whose "lent" flag this clears when done
};

class Database {
 public:
  // Opens (creating if asked) with extended result codes on, keyed with `key` when given (SQLCipher: a new
  // file is created encrypted), and reads the schema once, so a file that is not a database for this key
  // fails here: Errc::invalid_argument saying so (a wrong key, no key for an encrypted buffer, a key for
  // a plaintext one), never an empty database later.
  static Result<Database> open(const std::string& path, bool create, const BufferKey* key = nullptr);
  Database(Database&& o) noexcept : db_(std::move(o.db_)), cached_(std::move(o.cached_)) {}
  Database& operator=(Database&&) noexcept = default;

  Result<void> exec(std::string_view sql);
  // One fixed statement without rows (BEGIN, COMMIT, SAVEPOINT...), through prepare_cached: the writer
  // runs these for every group commit and every operation in it, and sqlite3_exec parses them every time.
  Result<void> run_fixed(const std::string& sql);
  Result<Statement> prepare(std::string_view sql);
  // The same, but prepared once per connection and lent: the uploader's reader prepared every query of
  // every pass again, 14 % of its thread's time at 1,000 readings/s (issue 15's profile). The Statement
  // is lent until it is destroyed (then reset and unbound); the same SQL asked for meanwhile, or SQL past
  // the first kMaxCached, gets a Statement of its own. A lent Statement must not outlive its Database.
  Result<Statement> prepare_cached(std::string_view sql);
  static constexpr std::size_t kMaxCached = 64;
  // Single-value queries for pragmas and counts.
  Result<std::int64_t> query_int(std::string_view sql);
  Result<std::string> query_text(std::string_view sql);

  std::int64_t changes() const { return sqlite3_changes64(db_.get()); }
  sqlite3* handle() const { return db_.get(); }

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  explicit Database(sqlite3* db) : db_(db) {}
  std::unique_ptr<sqlite3, Closer> db_;
  struct Cached {
    Statement statement;
    bool lent = false;
  };
  // Declared after db_: finalized before the connection closes. A moved map keeps its nodes, so the
  // `lent` flags lent Statements point to stay where they are.
  std::unordered_map<std::string, Cached> cached_;
};

// What the owner of a connection must do around each of its transactions: `before_commit` writes last
// (a failure aborts the commit), `after` learns the outcome (true: committed, false: rolled back), so
// state the owner keeps in memory for the open transaction follows what the database kept.
struct TransactionHooks {
  std::function<Result<void>()> before_commit;
  std::function<void(bool committed)> after;
};

// BEGIN IMMEDIATE on construction; rolls back on destruction unless committed.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db, TransactionHooks hooks = {});
  Transaction(Transaction&& o) noexcept : db_(std::exchange(o.db_, nullptr)), hooks_(std::move(o.hooks_)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Result<void> commit();

 private:
  Transaction(Database* db, TransactionHooks hooks) : db_(db), hooks_(std::move(hooks)) {}
  Database* db_;
  TransactionHooks hooks_;
};

}  // namespace carehub::sqlite
