#include <nlohmann/json.hpp>

#include "store/store.hpp"
#include "store/store_impl.hpp"

namespace carehub {

Result<std::unique_ptr<StoreReader>> StoreReader::open(const StoreOptions& options) {
  auto db = sqlite::Database::open(options.path, /*create=*/false, options.key ? &*options.key : nullptr);
  if (!db) return db.error();
  if (auto r = db->exec("PRAGMA busy_timeout = 5000"); !r) return r.error();
  // A reader pages through recent rows (the uploader's pending readings, status counts), which the writer
  // has just written: 512 KiB of cache per connection instead of SQLite's 2 MiB default (1 MiB before: each
  // of carehubd's two readers filled its cache within seconds at 1,000 readings/s, and RSS under load is
  // what issue 15 bounds); the rows it misses come from the OS page cache.
  if (auto r = db->exec("PRAGMA cache_size = -512"); !r) return r.error();
  return std::unique_ptr<StoreReader>(new StoreReader(std::unique_ptr<Impl>(new Impl{std::move(*db)})));
}

StoreReader::StoreReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StoreReader::~StoreReader() = default;

Result<std::vector<StoredReading>> StoreReader::readings(const ReadingQuery& q) {
  std::string sql =
      "SELECT seq, uid, kind, device, patient, time_ms, device_time_ms, received_ms, source, values_json,"
      " sync_state, attempts, server_id, dead_reason, quarantine_reason, user_index, unassigned_reason, resolved_by,"
      " resolved_ms, discard_reason FROM readings WHERE seq > ?1";
  if (q.state) sql += " AND sync_state = " + std::to_string(static_cast<int>(*q.state));
  if (q.device) sql += " AND device = ?3";
  if (q.kind) sql += " AND kind = ?4";
  if (q.from) sql += " AND time_ms >= ?5";
  if (q.to) sql += " AND time_ms < ?6";
  if (!q.uids.empty()) sql += " AND uid IN (SELECT value FROM json_each(?7))";
  if (q.device_time) sql += " AND device_time_ms = ?8";
  const char* order = q.by_time ? " ORDER BY time_ms" : " ORDER BY seq";
  sql += order;
  if (q.newest_first) sql += " DESC";
  sql += " LIMIT ?2";
  auto st = impl_->db.prepare_cached(sql);
  if (!st) return st.error();
  st->bind(1, q.after_seq).bind(2, static_cast<std::int64_t>(q.limit));
  if (q.device) st->bind(3, *q.device);
  if (q.kind) st->bind(4, std::string(to_string(*q.kind)));
  if (q.from) st->bind(5, to_epoch_ms(*q.from));
  if (q.to) st->bind(6, to_epoch_ms(*q.to));
  if (!q.uids.empty()) st->bind(7, nlohmann::json(q.uids).dump());
  if (q.device_time) st->bind(8, to_epoch_ms(*q.device_time));
  std::vector<StoredReading> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    StoredReading s;
    s.seq = st->int64(0);
    s.uid = st->text(1);
    auto& r = s.reading;
    const auto kind = kind_from_string(st->text(2));
    if (!kind) return make_error(Errc::internal, "store: reading " + s.uid + " has unknown kind " + st->text(2));
    r.kind = *kind;
    r.device = st->text(3);
    r.patient = st->text(4);
    r.time = from_epoch_ms(st->int64(5));
    if (auto dt = st->optional_int64(6)) r.device_time = from_epoch_ms(*dt);
    r.received = from_epoch_ms(st->int64(7));
    r.source = st->text(8);
    // Our own row, written from a dump of validated JSON: not peer input, so not parse_peer_json.
    const auto values = nlohmann::json::parse(st->text(9), nullptr, false);
    if (!values.is_object()) return make_error(Errc::internal, "store: reading " + s.uid + " has corrupt values");
    for (const auto& [name, v] : values.items()) r.values[name] = v.get<double>();
    s.state = static_cast<SyncState>(st->int64(10));
    s.attempts = static_cast<int>(st->int64(11));
    s.server_id = st->text(12);
    s.dead_reason = st->text(13);
    s.quarantine_reason = st->text(14);
    if (auto u = st->optional_int64(15)) r.user = static_cast<int>(*u);
    s.unassigned_reason = st->text(16);
    s.resolved_by = st->text(17);
    if (auto t = st->optional_int64(18)) s.resolved = from_epoch_ms(*t);
    s.discard_reason = st->text(19);
    out.push_back(std::move(s));
  }
  return out;
}

Result<StoreCounts> StoreReader::counts() {
  // The writer keeps the per-state counts in meta, in the same transaction as the rows they count, so this
  // reads one row instead of scanning a million (start-up and every `status` call come here).
  auto st = impl_->db.prepare_cached(
      "SELECT (SELECT value FROM meta WHERE key = 'reading_counts'),"
      " (SELECT page_count FROM pragma_page_count()), (SELECT freelist_count FROM pragma_freelist_count()),"
      " (SELECT page_size FROM pragma_page_size())");
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return make_error(Errc::internal, "store: counts returned no row");
  // Our own row, written from a dump of validated JSON: not peer input, so not parse_peer_json.
  const auto kept = nlohmann::json::parse(st->text(0), nullptr, false);
  const auto pages = st->int64(1), free_pages = st->int64(2), page_size = st->int64(3);
  st->reset();
  StoreCounts c;
  c.bytes = pages * page_size;
  c.used_bytes = (pages - free_pages) * page_size;
  if (kept.is_object() && kept.contains("pending") && kept.contains("synced") && kept.contains("dead") &&
      kept.contains("quarantined") && kept.contains("unassigned") && kept.contains("discarded") &&
      kept.contains("withheld")) {
    c.pending = kept["pending"].get<std::int64_t>();
    c.synced = kept["synced"].get<std::int64_t>();
    c.dead = kept["dead"].get<std::int64_t>();
    c.quarantined = kept["quarantined"].get<std::int64_t>();
    c.unassigned = kept["unassigned"].get<std::int64_t>();
    c.discarded = kept["discarded"].get<std::int64_t>();
    c.withheld = kept["withheld"].get<std::int64_t>();
    return c;
  }
  // Written by a carehub that did not keep counts (or before quarantine) and not opened by a writer since: count.
  auto slow = impl_->db.prepare_cached("SELECT sync_state, COUNT(*) FROM readings GROUP BY sync_state");
  if (!slow) return slow.error();
  for (;;) {
    auto r = slow->step();
    if (!r) return r.error();
    if (!*r) break;
    const auto n = slow->int64(1);
    switch (slow->int64(0)) {
      case 1: c.synced += n; break;
      case 2: c.dead += n; break;
      case 3: c.quarantined += n; break;
      case 4: c.unassigned += n; break;
      case 5: c.discarded += n; break;
      case 6: c.withheld += n; break;
      default: c.pending += n; break;
    }
  }
  return c;
}

Result<std::vector<Device>> StoreReader::devices() {
  auto st = impl_->db.prepare_cached("SELECT id, address, name, model, serial, category, patient, last_seen_ms, newest_record_ms,"
                        " newest_sequence, bound_since_ms, manufacturer, firmware_revision, hardware_revision,"
                        " software_revision, system_id, battery_percent FROM devices ORDER BY id");
  if (!st) return st.error();
  std::vector<Device> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    Device d{st->text(0), st->text(1), st->text(2), st->text(3), st->text(4), st->text(5), st->text(6), std::nullopt};
    if (auto ls = st->optional_int64(7)) d.last_seen = from_epoch_ms(*ls);
    if (auto nr = st->optional_int64(8)) d.newest_record = from_epoch_ms(*nr);
    d.newest_sequence = st->optional_int64(9);
    if (auto b = st->optional_int64(10)) d.bound_since = from_epoch_ms(*b);
    d.manufacturer = st->text(11);
    d.firmware_revision = st->text(12);
    d.hardware_revision = st->text(13);
    d.software_revision = st->text(14);
    d.system_id = st->text(15);
    if (auto b = st->optional_int64(16)) d.battery_percent = static_cast<int>(*b);
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::optional<std::string>> StoreReader::meta(const std::string& key) {
  auto st = impl_->db.prepare_cached("SELECT value FROM meta WHERE key = ?1");
  if (!st) return st.error();
  st->bind(1, key);
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<std::string>{};
  auto v = st->text(0);
  st->reset();
  return std::optional<std::string>(std::move(v));
}

}  // namespace carehub
