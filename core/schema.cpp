#include "core/schema.hpp"

#include <array>
#include <string>

namespace carehub::schema {
namespace {

// Each entry takes the schema from version i to i+1. Never edit a shipped entry: add a new one.
constexpr std::array<std::string_view, kCurrentVersion> kMigrations{
    R"sql(
CREATE TABLE readings (
  seq            INTEGER PRIMARY KEY,
  uid            TEXT NOT NULL UNIQUE,
  kind           TEXT NOT NULL,
  device         TEXT NOT NULL,
  patient        TEXT NOT NULL,
  time_ms        INTEGER NOT NULL,
  device_time_ms INTEGER,
  received_ms    INTEGER NOT NULL,
  source         TEXT NOT NULL,
  values_json    TEXT NOT NULL,
  sync_state     INTEGER NOT NULL DEFAULT 0,
  attempts       INTEGER NOT NULL DEFAULT 0,
  synced_ms      INTEGER,
  server_id      TEXT,
  dead_reason    TEXT
);
-- The uploader's queue: only pending rows, in arrival order.
CREATE INDEX readings_pending ON readings (seq) WHERE sync_state = 0;
CREATE INDEX readings_dead ON readings (seq) WHERE sync_state = 2;
CREATE TABLE devices (
  id        TEXT PRIMARY KEY,
  address   TEXT NOT NULL DEFAULT '',
  name      TEXT NOT NULL DEFAULT '',
  model     TEXT NOT NULL DEFAULT '',
  serial    TEXT NOT NULL DEFAULT '',
  category  TEXT NOT NULL DEFAULT '',
  patient   TEXT NOT NULL DEFAULT '',
  last_seen_ms INTEGER
);
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql",
};

}  // namespace

Result<void> migrate(sqlite::Database& db) {
  auto version = db.query_int("PRAGMA user_version");
  if (!version) return version.error();
  if (*version > kCurrentVersion) {
    return make_error(Errc::invalid_argument, "database schema version " + std::to_string(*version) +
                                                  " is newer than this carehub supports (" +
                                                  std::to_string(kCurrentVersion) + "); refusing to open it");
  }
  for (auto v = *version; v < kCurrentVersion; ++v) {
    auto tx = sqlite::Transaction::begin(db);
    if (!tx) return tx.error();
    if (auto r = db.exec(kMigrations[static_cast<std::size_t>(v)]); !r) return r.error();
    if (auto r = db.exec("PRAGMA user_version = " + std::to_string(v + 1)); !r) return r.error();
    if (auto r = tx->commit(); !r) return r.error();
  }
  return {};
}

}  // namespace carehub::schema
