#pragma once
// Backing up and restoring the buffer encrypted at rest (issue 18, docs/operations.md "Backing up and
// restoring the buffer"). The sqlite3 shell cannot read the buffer any more, so these replace it:
// carehubctl buffer backup asks carehubd (online), carehubctl buffer restore runs with carehubd stopped.
#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "store/store.hpp"

namespace carehub {

// A consistent copy of the buffer (one read transaction, VACUUM INTO; the writer goes on), encrypted with
// the same key, written to `<out>.part`, fsynced and renamed to `out`, then the directory fsynced. Refuses
// an existing `out`. Returns the copy's size in bytes.
Result<std::int64_t> backup_buffer(const StoreOptions& store, const std::string& out);

// Puts the backup `from` in place of the buffer at `path`, with carehubd stopped: copies it to
// `<path>.restoring` and fsyncs it; moves the current buffer to `<path>.before-restore` (its WAL with it,
// to `<path>.before-restore-wal`: a WAL belongs to its file) and removes `<path>-shm`, before the copy
// takes the name `path`; then fsyncs the directory. With `key`, the backup must open with it and pass
// the integrity check first (without, only a plaintext backup is checked). The restored file keeps the
// current buffer's owner and mode. Returns the path the previous buffer was moved to ("" if none).
Result<std::string> restore_buffer(const std::string& path, const std::string& from, const BufferKey* key);

}  // namespace carehub
