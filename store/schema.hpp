#pragma once
// Schema versions, applied forward with PRAGMA user_version. Internal to the store.
#include "store/sqlite.hpp"

namespace carehub::schema {

inline constexpr int kCurrentVersion = 9;

// Applies every migration above the database's user_version, each in its own transaction. Refuses a
// database newer than this build (a downgrade must not silently misread it).
// `target` below kCurrentVersion stops there: tests build the buffer an older carehub left.
Result<void> migrate(sqlite::Database& db, int target = kCurrentVersion);

}  // namespace carehub::schema
