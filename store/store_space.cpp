// The buffer's size cap and retention (design.md invariant 3): what may be deleted, in which order, and
// never anything else. Everything here runs on the writer's connection, inside the caller's transaction.
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "core/kind.hpp"
#include "store/store.hpp"
#include "store/store_impl.hpp"

namespace carehub {
namespace {

// Shedding stops below this share of the cap, so a full buffer sheds in chunks rather than on every commit.
constexpr std::int64_t kLowWaterPercent = 90;
// Rows deleted per statement: small enough to keep one commit short, large enough to free whole pages.
constexpr std::int64_t kShedChunk = 1000;

std::string kinds_where(bool (*pick)(const KindInfo&), int state = 0) {
  std::string list;
  for (const auto& k : all_kinds()) {
    if (!pick(k)) continue;
    if (!list.empty()) list += ", ";
    // append() rather than "'" + name + "'": g++ 12 at -O3 warns falsely (-Wrestrict) on the latter.
    list.append("'").append(k.name).append("'");
  }
  return "sync_state = " + std::to_string(state) + " AND kind IN (" + list + ")";
}

// Tier 2: the home's environment (room temperature and humidity, light, motion): high-rate and not vital signs.
bool environmental(const KindInfo& k) { return k.environmental; }
// Tier 3: samples of continuous wearable streams. A spot measurement (blood pressure, weight, temperature,
// SpO2, glucose) is in no tier: it is never shed.
bool wearable_stream(const KindInfo& k) { return k.kind == Kind::heart_rate || k.kind == Kind::steps; }

}  // namespace

Result<std::int64_t> StoreWriter::used_bytes() {
  auto st = impl_->cached(
      "SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count()),"
      " (SELECT page_size FROM pragma_page_size())");
  if (!st) return st.error();
  auto row = (*st)->step();
  if (!row) return row.error();
  if (!*row) return make_error(Errc::internal, "store: page counts returned no row");
  const auto used = (*st)->int64(0) * (*st)->int64(1);
  (*st)->reset();
  return used;
}

Result<std::int64_t> StoreWriter::free_disk_bytes() const {
  auto dir = std::filesystem::path(options_.path).parent_path();
  if (dir.empty()) dir = ".";
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) {
    return make_error(Errc::io, "store: cannot read free space of " + dir.string() + ": " + std::strerror(errno));
  }
  return static_cast<std::int64_t>(fs.f_bavail) * static_cast<std::int64_t>(fs.f_frsize);
}

Result<std::int64_t> StoreWriter::shed_tier(std::string_view where, std::int64_t target, std::int64_t state,
                                            std::int64_t& used) {
  auto st = impl_->cached("DELETE FROM readings WHERE seq IN (SELECT seq FROM readings WHERE " + std::string(where) +
                   " ORDER BY seq LIMIT ?1)");
  if (!st) return st.error();
  std::int64_t total = 0;
  while (used > target) {
    if (auto r = (*st)->bind(1, kShedChunk).run(); !r) return r.error();
    const auto n = impl_->db.changes();
    if (n == 0) break;
    total += n;
    if (auto c = count_change(state, -1, n); !c) return c.error();
    auto u = used_bytes();
    if (!u) return u.error();
    used = *u;
  }
  return total;
}

Result<SpaceReport> StoreWriter::enforce_cap(std::int64_t max_bytes) {
  SpaceReport report;
  report.max_bytes = max_bytes > 0 ? max_bytes : options_.max_bytes;
  auto used = used_bytes();
  if (!used) return used.error();
  report.used_bytes = *used;
  if (report.max_bytes <= 0 || report.used_bytes < report.max_bytes) return report;
  const std::int64_t target = report.max_bytes / 100 * kLowWaterPercent;
  static const std::string kSynced = "sync_state = 1";
  static const std::string kEnvironment = kinds_where(environmental);
  static const std::string kStream = kinds_where(wearable_stream);
  auto a = shed_tier(kSynced, target, 1, report.used_bytes);
  if (!a) return a.error();
  report.shed_synced = *a;
  // Withheld readings (no consent to upload them, store_consent.cpp) of a tier go with the tier, before its
  // pending ones: they will never be sent. A withheld spot measurement is, like a pending one, never shed.
  static const std::string kWithheldEnvironment = kinds_where(environmental, 6);
  static const std::string kWithheldStream = kinds_where(wearable_stream, 6);
  auto bw = shed_tier(kWithheldEnvironment, target, 6, report.used_bytes);
  if (!bw) return bw.error();
  auto b = shed_tier(kEnvironment, target, 0, report.used_bytes);
  if (!b) return b.error();
  report.shed_environment = *bw + *b;
  auto cw = shed_tier(kWithheldStream, target, 6, report.used_bytes);
  if (!cw) return cw.error();
  auto c = shed_tier(kStream, target, 0, report.used_bytes);
  if (!c) return c.error();
  report.shed_stream = *cw + *c;
  // Below the cap, even if not yet at the low-water mark, new readings still fit.
  report.full = report.used_bytes >= report.max_bytes;
  return report;
}

Result<PruneReport> StoreWriter::prune_synced(TimePoint before, std::int64_t after_seq, std::int64_t window) {
  // One window of rows in arrival order per call, so a pass over a million rows never holds the writer for
  // long; the caller carries `next_seq` to the next call.
  auto end = impl_->cached("SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM (SELECT seq FROM readings WHERE seq > ?1"
                    " ORDER BY seq LIMIT ?2)");
  if (!end) return end.error();
  auto row = (*end)->bind(1, after_seq).bind(2, window).step();
  if (!row) return row.error();
  PruneReport report;
  if (!*row) return report;
  const auto rows = (*end)->int64(0);
  const auto last = (*end)->int64(1);
  (*end)->reset();
  auto del = impl_->cached("DELETE FROM readings WHERE seq > ?1 AND seq <= ?2 AND sync_state = 1 AND time_ms < ?3");
  if (!del) return del.error();
  if (auto r = (*del)->bind(1, after_seq).bind(2, last).bind(3, to_epoch_ms(before)).run(); !r) return r.error();
  report.deleted = impl_->db.changes();
  if (auto c = count_change(1, -1, report.deleted); !c) return c.error();
  report.next_seq = rows < window ? 0 : last;  // 0: the pass is over, the next one starts from the oldest
  return report;
}

}  // namespace carehub
