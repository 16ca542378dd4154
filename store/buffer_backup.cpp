#include "store/buffer_backup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "store/buffer_migration.hpp"
#include "store/sqlite.hpp"

namespace carehub {
namespace {

namespace fs = std::filesystem;

Error sys_error(const std::string& what) { return make_error(Errc::io, what + ": " + std::strerror(errno)); }

std::string dir_of(const std::string& path) {
  const auto dir = fs::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

Result<void> fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return sys_error("buffer: cannot open " + path + " to sync it");
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) return sys_error("buffer: fsync " + path);
  return {};
}

// The backup opens (with the key when given) and passes SQLite's integrity check.
Result<void> check_backup(const std::string& from, const BufferKey* key) {
  auto found = buffer_migration::inspect(from);
  if (!found) return found.error();
  if (*found == buffer_migration::Found::absent) return make_error(Errc::invalid_argument, "buffer: " + from + " is empty or missing");
  if (*found == buffer_migration::Found::encrypted && !key) return {};  // checked by carehubd's open, with its key
  auto db = sqlite::Database::open(from, /*create=*/false, *found == buffer_migration::Found::encrypted ? key : nullptr);
  if (!db) return make_error(Errc::invalid_argument, "buffer: the backup " + from + ": " + db.error().message);
  auto ok = db->query_text("PRAGMA integrity_check");
  if (!ok) return ok.error();
  if (*ok != "ok") return make_error(Errc::invalid_argument, "buffer: the backup " + from + " fails the integrity check: " + *ok);
  return {};
}

Result<void> copy_synced(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::remove(to, ec);
  if (!fs::copy_file(from, to, ec) || ec) {
    return make_error(Errc::io, "buffer: cannot copy " + from + " to " + to + ": " + ec.message());
  }
  return fsync_path(to, false);
}

}  // namespace

Result<std::int64_t> backup_buffer(const StoreOptions& store, const std::string& out) {
  std::error_code ec;
  if (fs::exists(out, ec)) return make_error(Errc::invalid_argument, "buffer backup: " + out + " exists already");
  const std::string part = out + ".part";
  fs::remove(part, ec);
  {
    auto db = sqlite::Database::open(store.path, /*create=*/false, store.key ? &*store.key : nullptr);
    if (!db) return db.error();
    if (auto r = db->exec("PRAGMA busy_timeout = 5000"); !r) return r.error();
    // SQLCipher writes VACUUM INTO's copy with the connection's key (checked in the spike and by
    // buffer_backup_test): the backup is as encrypted as the buffer.
    auto vacuum = db->prepare("VACUUM INTO ?1");
    if (!vacuum) return vacuum.error();
    vacuum->bind(1, std::string_view(part));
    if (auto r = vacuum->run(); !r) {
      fs::remove(part, ec);
      return make_error(r.error().code, "buffer backup to " + out + ": " + r.error().message);
    }
  }
  if (auto r = fsync_path(part, false); !r) return r.error();
  if (::rename(part.c_str(), out.c_str()) != 0) return sys_error("buffer backup: rename " + part + " to " + out);
  if (auto r = fsync_path(dir_of(out), true); !r) return r.error();
  return static_cast<std::int64_t>(fs::file_size(out, ec));
}

Result<std::string> restore_buffer(const std::string& path, const std::string& from, const BufferKey* key) {
  if (auto r = check_backup(from, key); !r) return r.error();
  const std::string restoring = path + ".restoring";
  if (auto r = copy_synced(from, restoring); !r) return r.error();
  struct stat current {};
  const bool had = ::stat(path.c_str(), &current) == 0;
  if (had) {
    // Owner and mode of the buffer it replaces: carehubd (user carehub) must open it; root restores it.
    if (::chown(restoring.c_str(), current.st_uid, current.st_gid) != 0 && errno != EPERM) {
      return sys_error("buffer restore: chown " + restoring);
    }
    (void)::chmod(restoring.c_str(), current.st_mode & 07777);
  }
  std::string before;
  if (had) {
    before = path + ".before-restore";
    std::error_code ec;
    fs::remove(before, ec);
    fs::remove(before + "-wal", ec);
    if (::rename(path.c_str(), before.c_str()) != 0) return sys_error("buffer restore: rename " + path + " to " + before);
    const std::string wal = path + "-wal";
    if (fs::exists(wal, ec) && ::rename(wal.c_str(), (before + "-wal").c_str()) != 0) {
      return sys_error("buffer restore: rename " + wal);
    }
    fs::remove(path + "-shm", ec);
  }
  if (::rename(restoring.c_str(), path.c_str()) != 0) return sys_error("buffer restore: rename " + restoring + " to " + path);
  if (auto r = fsync_path(dir_of(path), true); !r) return r.error();
  return before;
}

}  // namespace carehub
