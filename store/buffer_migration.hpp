#pragma once
// Encrypts a plaintext buffer once, in place and crash-safely (issue 18; docs/design/encrypted-buffer.md,
// section C): export into `<path>.encrypting` beside it with SQLCipher's sqlcipher_export, verify the copy
// (integrity, schema version, every table's row count), fsync it, rename it over the buffer, fsync the
// directory. The rename is the only step that changes what `path` is, so a crash at any point leaves a
// buffer that opens — plaintext and complete before the rename, encrypted and verified after — and the
// next run starts over from a plaintext one. Runs before the store opens the buffer.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "store/buffer_key.hpp"

namespace carehub::buffer_migration {

// What the file at `path` is, from its first 16 bytes.
enum class Found {
  absent,     // no file, or an empty one: the store creates it encrypted
  plaintext,  // "SQLite format 3\0": migrate
  encrypted,  // anything else: opening with the key decides (Errc::invalid_argument if it does not)
};
Result<Found> inspect(const std::string& path);

// The step boundaries, in order (tests crash at each).
enum class Step { start, checkpointed, attached, exported, closed, verified, synced, renamed };
std::string_view to_string(Step s);

struct Options {
  // Called after each step; tests end the process here.
  std::function<void(Step)> on_step;
  // Called every few hundred SQLite VM steps of every connection the migration opens: tests SIGKILL the
  // process in the middle of a statement. It cannot interrupt the statement.
  std::function<void()> on_progress;
  // Bytes the filesystem holding `dir` offers (statvfs f_bavail); injectable for the free-space refusal.
  std::function<Result<std::int64_t>(const std::string& dir)> free_bytes;
};

struct Outcome {
  Found found = Found::absent;
  bool migrated = false;           // true: the buffer is now encrypted with the key
  bool not_enough_space = false;   // true: nothing was copied; the buffer stays plaintext and complete
  std::int64_t needed_bytes = 0;   // what the copy needs free (the buffer's size plus 10 %)
  std::int64_t free_bytes = 0;     // what there was
  std::int64_t rows = 0;           // rows copied, over every table
};

// Encrypts the buffer at `path` with `key` when it is plaintext; does nothing otherwise (Found::absent or
// Found::encrypted). Removes a `<path>.encrypting` left by an interrupted run first. Refuses
// (Errc::unavailable, nothing changed) when another connection holds the plaintext buffer, and reports
// not_enough_space (nothing changed) when the copy would not fit: the caller decides to run on plaintext.
Result<Outcome> encrypt_if_plaintext(const std::string& path, const BufferKey& key, const Options& options = {});

// Key rotation by the same export-and-rename (carehubctl buffer rekey, offline): the buffer encrypted
// with `from` becomes encrypted with `to`. A buffer that already opens with `to` is left alone (a rerun
// after a crash past the rename); every crash point leaves one that opens with `from` or with `to`.
Result<Outcome> reencrypt(const std::string& path, const BufferKey& from, const BufferKey& to, const Options& options = {});

}  // namespace carehub::buffer_migration
