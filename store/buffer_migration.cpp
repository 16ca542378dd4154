#include "store/buffer_migration.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include "store/sqlite.hpp"

namespace carehub::buffer_migration {
namespace {

namespace fs = std::filesystem;

constexpr char kPlainHeader[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f', 'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};

Error sys_error(const std::string& what) { return make_error(Errc::io, what + ": " + std::strerror(errno)); }

std::int64_t size_or_zero(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<std::int64_t>(n);
}

Result<void> fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return sys_error("buffer migration: cannot open " + path + " to sync it");
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) return sys_error("buffer migration: fsync " + path);
  return {};
}

Result<std::int64_t> statvfs_free(const std::string& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return sys_error("buffer migration: statvfs " + dir);
  return static_cast<std::int64_t>(st.f_bavail) * static_cast<std::int64_t>(st.f_frsize);
}

// The schema version and every table's row count: what the copy must equal.
struct Census {
  std::int64_t user_version = 0;
  std::map<std::string, std::int64_t> rows;
  std::int64_t total() const {
    std::int64_t n = 0;
    for (const auto& [table, count] : rows) n += count;
    return n;
  }
};

Result<Census> census(sqlite::Database& db) {
  Census c;
  auto v = db.query_int("PRAGMA user_version");
  if (!v) return v.error();
  c.user_version = *v;
  auto tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  if (!tables) return tables.error();
  std::vector<std::string> names;
  for (;;) {
    auto row = tables->step();
    if (!row) return row.error();
    if (!*row) break;
    names.push_back(tables->text(0));
  }
  for (const auto& name : names) {
    std::string quoted = "\"";
    for (char ch : name) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    auto n = db.query_int("SELECT count(*) FROM " + quoted + "\"");
    if (!n) return n.error();
    c.rows[name] = *n;
  }
  return c;
}

void remove_stale(const std::string& t) {
  std::error_code ec;
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(t + suffix, ec);
}

// The progress handler's trampoline: `options.on_progress` for every connection the migration opens.
int progress(void* arg) {
  const auto* options = static_cast<const Options*>(arg);
  if (options->on_progress) options->on_progress();
  return 0;
}

void watch(sqlite::Database& db, const Options& options) {
  if (options.on_progress) sqlite3_progress_handler(db.handle(), 200, progress, const_cast<Options*>(&options));
}

}  // namespace

std::string_view to_string(Step s) {
  switch (s) {
    case Step::start: return "start";
    case Step::checkpointed: return "checkpointed";
    case Step::attached: return "attached";
    case Step::exported: return "exported";
    case Step::closed: return "closed";
    case Step::verified: return "verified";
    case Step::synced: return "synced";
    case Step::renamed: return "renamed";
  }
  return "start";
}

Result<Found> inspect(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    if (errno == ENOENT) return size_or_zero(path + "-wal") > 0 ? Found::plaintext : Found::absent;
    return sys_error("buffer: cannot read " + path);
  }
  char head[16] = {};
  const auto n = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  // An empty file whose WAL holds frames is a plaintext buffer whose first pages were never checkpointed;
  // if it is not, the plaintext open in the migration refuses it.
  if (n == 0) return size_or_zero(path + "-wal") > 0 ? Found::plaintext : Found::absent;
  if (n == sizeof head && std::memcmp(head, kPlainHeader, sizeof head) == 0) return Found::plaintext;
  return Found::encrypted;
}

namespace {

// Steps 1 to 7 of the design's section C: copy the buffer at `path` (plaintext when `from` is null, else
// encrypted with `from`) into `<path>.encrypting` encrypted with `key`, verify, sync and rename it over.
Result<Outcome> copy_over(const std::string& path, const BufferKey* from, const BufferKey& key, const Options& options,
                          Outcome out) {
  const auto step = [&](Step s) {
    if (options.on_step) options.on_step(s);
  };
  const std::string t = path + ".encrypting";
  step(Step::start);

  Census before;
  {
    auto plain = sqlite::Database::open(path, /*create=*/false, from);
    if (!plain) return plain.error();
    watch(*plain, options);
    // No other connection (a stray sqlite3 shell) may write while it is copied, nor keep a WAL of its own.
    if (auto r = plain->exec("PRAGMA locking_mode = EXCLUSIVE"); !r) return r.error();
    // A WAL that a crash left behind goes into the file, written by the plaintext library that made it.
    auto ck = plain->prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    if (!ck) return ck.error();
    auto row = ck->step();
    if (!row) {
      return make_error(Errc::unavailable,
                        "buffer migration: " + path + " is in use by another connection: " + row.error().message);
    }
    const bool busy = *row && ck->int64(0) != 0;
    ck->reset();
    if (busy) return make_error(Errc::unavailable, "buffer migration: " + path + " is in use by another connection");
    auto c = census(*plain);
    if (!c) return c.error();
    before = std::move(*c);
    step(Step::checkpointed);

    const auto dir = fs::path(path).parent_path().string();
    auto avail = options.free_bytes ? options.free_bytes(dir.empty() ? "." : dir) : statvfs_free(dir.empty() ? "." : dir);
    if (!avail) return avail.error();
    out.free_bytes = *avail;
    const auto size = size_or_zero(path);
    out.needed_bytes = size + size / 10;
    if (*avail < out.needed_bytes) {
      out.not_enough_space = true;
      return out;
    }

    // The plaintext connection is opened without SQLITE_OPEN_CREATE (a missing buffer is not created here)
    // and ATTACH inherits that: the copy starts as an empty file, which SQLCipher keys as a new database.
    {
      const int fd = ::open(t.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0) return sys_error("buffer migration: cannot create " + t);
      // The buffer's owner and mode (carehubctl buffer rekey runs as root; carehubd, user carehub, opens it).
      struct stat st {};
      if (::stat(path.c_str(), &st) == 0) {
        if (::fchown(fd, st.st_uid, st.st_gid) != 0 && errno != EPERM) {
          ::close(fd);
          return sys_error("buffer migration: chown " + t);
        }
        (void)::fchmod(fd, st.st_mode & 0777);
      }
      ::close(fd);
    }
    auto attach = plain->prepare("ATTACH DATABASE ?1 AS enc KEY ?2");
    if (!attach) return attach.error();
    std::string form = key.sqlcipher_form();
    attach->bind(1, std::string_view(t)).bind(2, std::string_view(form));
    auto attached = attach->run();
    wipe(form);
    if (!attached) return attached.error();
    step(Step::attached);
    if (auto r = plain->query_text("SELECT sqlcipher_export('enc')"); !r) return r.error();
    if (auto r = plain->exec("PRAGMA enc.user_version = " + std::to_string(before.user_version)); !r) return r.error();
    if (auto r = plain->exec("DETACH DATABASE enc"); !r) return r.error();
    step(Step::exported);
  }
  // As the last connection, the close checkpointed and removed the plaintext WAL. One that is left would be
  // replayed into the encrypted file after the rename (a WAL header does not name its database).
  if (size_or_zero(path + "-wal") > 0) {
    return make_error(Errc::unavailable, "buffer migration: " + path + "-wal survived the close; not renaming");
  }
  step(Step::closed);

  {
    auto enc = sqlite::Database::open(t, /*create=*/false, &key);
    if (!enc) return enc.error();
    watch(*enc, options);
    for (const char* check : {"PRAGMA cipher_integrity_check", "PRAGMA integrity_check"}) {
      auto st = enc->prepare(check);
      if (!st) return st.error();
      for (;;) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        // cipher_integrity_check lists problems only; integrity_check says "ok".
        if (st->text(0) != "ok") {
          return make_error(Errc::io, "buffer migration: the copy " + t + " fails " + check + ": " + st->text(0));
        }
      }
    }
    auto after = census(*enc);
    if (!after) return after.error();
    if (after->user_version != before.user_version || after->rows != before.rows) {
      return make_error(Errc::io, "buffer migration: the copy " + t + " differs from " + path + " (" +
                                      std::to_string(after->total()) + " rows against " +
                                      std::to_string(before.total()) + ", schema version " +
                                      std::to_string(after->user_version) + " against " +
                                      std::to_string(before.user_version) + "); the buffer is left as it was");
    }
    auto mode = enc->query_text("PRAGMA journal_mode = WAL");
    if (!mode) return mode.error();
  }
  if (size_or_zero(t + "-wal") > 0) {
    return make_error(Errc::io, "buffer migration: " + t + "-wal survived the close; not renaming");
  }
  step(Step::verified);

  if (auto r = fsync_path(t, false); !r) return r.error();
  step(Step::synced);
  if (::rename(t.c_str(), path.c_str()) != 0) return sys_error("buffer migration: rename " + t + " to " + path);
  {
    std::error_code ec;
    fs::remove(path + "-shm", ec);  // the plaintext's shared-memory index; SQLite rebuilds it from the WAL
  }
  const auto dir = fs::path(path).parent_path().string();
  if (auto r = fsync_path(dir.empty() ? "." : dir, true); !r) return r.error();
  step(Step::renamed);
  out.migrated = true;
  out.rows = before.total();
  return out;
}

}  // namespace

Result<Outcome> encrypt_if_plaintext(const std::string& path, const BufferKey& key, const Options& options) {
  Outcome out;
  auto found = inspect(path);
  if (!found) return found.error();
  out.found = *found;
  // A copy beside the buffer is always an interrupted run's garbage: after the rename it no longer exists,
  // and before it the buffer is still complete.
  remove_stale(path + ".encrypting");
  if (*found != Found::plaintext) return out;
  return copy_over(path, nullptr, key, options, out);
}

Result<Outcome> reencrypt(const std::string& path, const BufferKey& from, const BufferKey& to, const Options& options) {
  Outcome out;
  auto found = inspect(path);
  if (!found) return found.error();
  out.found = *found;
  remove_stale(path + ".encrypting");
  if (*found != Found::encrypted) {
    return make_error(Errc::invalid_argument, "buffer: " + path + " is not an encrypted buffer");
  }
  // Already done (a rerun after a crash past the rename): it opens with the new key.
  if (sqlite::Database::open(path, /*create=*/false, &to)) return out;
  return copy_over(path, &from, to, options, out);
}

}  // namespace carehub::buffer_migration
