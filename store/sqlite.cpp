#include "store/sqlite.hpp"

namespace carehub::sqlite {
namespace {

Errc classify(int rc) {
  switch (rc & 0xFF) {
    case SQLITE_FULL: return Errc::full;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Errc::unavailable;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE: return Errc::invalid_argument;
    default: return Errc::io;
  }
}

}  // namespace

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    release();
    db_ = o.db_;
    stmt_ = std::exchange(o.stmt_, nullptr);
    lent_ = std::exchange(o.lent_, nullptr);
  }
  return *this;
}

Statement::~Statement() { release(); }

void Statement::release() {
  if (!lent_) {
    sqlite3_finalize(stmt_);
    return;
  }
  // A caller may stop stepping before the last row: the next borrower starts from the beginning, unbound.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *lent_ = false;
  lent_ = nullptr;
}

// Bind errors (index out of range, out of memory) surface as the failure of the next step().
Statement& Statement::bind(int index, std::int64_t v) {
  sqlite3_bind_int64(stmt_, index, v);
  return *this;
}
Statement& Statement::bind(int index, double v) {
  sqlite3_bind_double(stmt_, index, v);
  return *this;
}
Statement& Statement::bind(int index, std::string_view v) {
  sqlite3_bind_text64(stmt_, index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Statement& Statement::bind(int index, std::nullopt_t) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}
Statement& Statement::bind(int index, const std::optional<std::int64_t>& v) {
  return v ? bind(index, *v) : bind(index, std::nullopt);
}

Error Statement::error(int rc) const {
  const char* sql = sqlite3_sql(stmt_);
  std::string statement = sql ? sql : "";
  if (statement.size() > 80) statement = statement.substr(0, 77) + "...";
  return make_error(classify(rc), std::string("sqlite: ") + sqlite3_errmsg(db_) + " (" + sqlite3_errstr(rc) +
                                      ") in: " + statement);
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    reset();
    return false;
  }
  auto err = error(rc);
  reset();
  return err;
}

Result<void> Statement::run() {
  for (;;) {
    auto r = step();
    if (!r) return r.error();
    if (!*r) return {};
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::optional<std::int64_t> Statement::optional_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

Result<Database> Database::open(const std::string& path, bool create, const BufferKey* key) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Database db(raw);  // owns the handle even when open failed
  if (rc != SQLITE_OK) {
    return make_error(classify(rc), "sqlite: cannot open " + path + ": " +
                                        (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  if (key) {
    // SQLCipher's own stderr lines ("hmac check failed") would reach the journal beside ours: ours say more.
    if (auto r = db.exec("PRAGMA cipher_log_level = NONE"); !r) return r.error();
    std::string form = key->sqlcipher_form();
    const int krc = sqlite3_key(raw, form.data(), static_cast<int>(form.size()));
    wipe(form);
    if (krc != SQLITE_OK) return make_error(classify(krc), "sqlite: cannot key " + path + ": " + sqlite3_errmsg(raw));
  }
  // The first read: a key is checked only here (PRAGMA key itself always succeeds).
  char* msg = nullptr;
  const int first = sqlite3_exec(raw, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, &msg);
  std::string detail = msg ? msg : sqlite3_errstr(first);
  sqlite3_free(msg);
  if ((first & 0xFF) == SQLITE_NOTADB) {
    return make_error(Errc::invalid_argument,
                      "sqlite: " + path +
                          (key ? " does not open with the buffer key (a wrong key, or a plaintext buffer not migrated)"
                               : " is not a plaintext SQLite database (an encrypted buffer needs its key)"));
  }
  if (first != SQLITE_OK) return make_error(classify(first), "sqlite: cannot read " + path + ": " + detail);
  return db;
}

Result<void> Database::exec(std::string_view sql) {
  char* msg = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    std::string m = msg ? msg : sqlite3_errstr(rc);
    sqlite3_free(msg);
    return make_error(classify(rc), "sqlite: " + m);
  }
  return {};
}

Result<void> Database::run_fixed(const std::string& sql) {
  auto st = prepare_cached(sql);
  if (!st) return st.error();
  return st->run();
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                    &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return make_error(classify(rc), std::string("sqlite: ") + sqlite3_errmsg(db_.get()) + " preparing: " +
                                        std::string(sql.substr(0, 80)));
  }
  return Statement(db_.get(), stmt);
}

Result<Statement> Database::prepare_cached(std::string_view sql) {
  auto it = cached_.find(std::string(sql));
  if (it == cached_.end()) {
    if (cached_.size() >= kMaxCached) return prepare(sql);
    auto st = prepare(sql);
    if (!st) return st.error();
    it = cached_.emplace(std::string(sql), Cached{std::move(*st)}).first;
  }
  auto& c = it->second;
  if (c.lent) return prepare(sql);  // in use further up this call: one of its own
  c.lent = true;
  return Statement(db_.get(), c.statement.stmt_, &c.lent);
}

Result<std::int64_t> Database::query_int(std::string_view sql) {
  auto st = prepare(sql);
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return make_error(Errc::internal, "sqlite: no row from: " + std::string(sql));
  const auto v = st->int64(0);
  st->reset();
  return v;
}

Result<std::string> Database::query_text(std::string_view sql) {
  auto st = prepare(sql);
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return make_error(Errc::internal, "sqlite: no row from: " + std::string(sql));
  auto v = st->text(0);
  st->reset();
  return v;
}

Result<Transaction> Transaction::begin(Database& db, TransactionHooks hooks) {
  if (auto r = db.run_fixed("BEGIN IMMEDIATE"); !r) return r.error();
  return Transaction(&db, std::move(hooks));
}

Transaction::~Transaction() {
  if (!db_) return;
  // After SQLITE_FULL or an I/O error SQLite may already have rolled back on its own; then this ROLLBACK
  // fails with "no transaction is active", which changes nothing.
  (void)db_->exec("ROLLBACK");
  if (hooks_.after) hooks_.after(false);
}

Result<void> Transaction::commit() {
  if (hooks_.before_commit) {
    if (auto r = hooks_.before_commit(); !r) return r;  // the destructor rolls back
  }
  auto r = db_->run_fixed("COMMIT");
  if (r) {
    db_ = nullptr;  // on failure the destructor rolls back
    if (hooks_.after) hooks_.after(true);
  }
  return r;
}

}  // namespace carehub::sqlite
