#pragma once
// What store.hpp keeps out of its users' sight: the SQLite connections, the writer's prepared statements
// and its per-state counts. Private to store/store_*.cpp; nothing outside store/ includes it, so SQLite's
// header and types stay behind the store's public header.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/sqlite.hpp"
#include "store/store.hpp"

namespace carehub {

// Per-state reading counts: committed as stored, a delta for the open transaction, one saved delta per
// open savepoint. Outside a transaction each statement commits itself, and so does its delta.
struct StoreWriter::StateCounts {
  std::int64_t pending = 0, synced = 0, dead = 0, quarantined = 0, unassigned = 0, discarded = 0, withheld = 0;
  std::int64_t& of(std::int64_t state);
  void add(const StateCounts& d);
  bool empty() const {
    return pending == 0 && synced == 0 && dead == 0 && quarantined == 0 && unassigned == 0 && discarded == 0 &&
           withheld == 0;
  }
};

struct StoreWriter::Impl {
  explicit Impl(sqlite::Database database) : db(std::move(database)) {}

  // Rule statements are prepared on first use and kept (the writer runs them once per reading).
  Result<sqlite::Statement*> cached(const std::string& sql);

  bool relaxed = false;  // PRAGMA synchronous is NORMAL for a Commit::without_fsync transaction
  // Whether any consent was ever recorded (unset: not looked yet): until one is, no reading is withheld and
  // inserting asks nothing more (store_consent.cpp). A rolled-back change leaves it set: that only costs a query.
  std::optional<bool> consent_recorded;
  StateCounts committed;
  StateCounts delta;
  std::vector<StateCounts> savepoints;
  // Declared in the order the writer always had them: the cache before the connection.
  std::unordered_map<std::string, sqlite::Statement> cache;
  sqlite::Database db;
  sqlite::Statement insert_reading, mark_synced, mark_dead, mark_attempt, upsert_device, remove_device, put_meta,
      state_of;
};

struct StoreReader::Impl {
  sqlite::Database db;
};

struct StoreTransaction::Impl {
  sqlite::Transaction tx;
};

}  // namespace carehub
