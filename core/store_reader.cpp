#include <nlohmann/json.hpp>

#include "core/store.hpp"

namespace carehub {

Result<std::unique_ptr<StoreReader>> StoreReader::open(const StoreOptions& options) {
  auto db = sqlite::Database::open(options.path, /*create=*/false);
  if (!db) return db.error();
  if (auto r = db->exec("PRAGMA busy_timeout = 5000"); !r) return r.error();
  return std::unique_ptr<StoreReader>(new StoreReader(std::move(*db)));
}

Result<std::vector<StoredReading>> StoreReader::readings(const ReadingQuery& q) {
  std::string sql =
      "SELECT seq, uid, kind, device, patient, time_ms, device_time_ms, received_ms, source, values_json,"
      " sync_state, attempts, server_id, dead_reason FROM readings WHERE seq > ?1";
  if (q.state) sql += " AND sync_state = " + std::to_string(static_cast<int>(*q.state));
  sql += q.newest_first ? " ORDER BY seq DESC" : " ORDER BY seq";
  sql += " LIMIT ?2";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  st->bind(1, q.after_seq).bind(2, static_cast<std::int64_t>(q.limit));
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
    const auto values = nlohmann::json::parse(st->text(9), nullptr, false);
    if (!values.is_object()) return make_error(Errc::internal, "store: reading " + s.uid + " has corrupt values");
    for (const auto& [name, v] : values.items()) r.values[name] = v.get<double>();
    s.state = static_cast<SyncState>(st->int64(10));
    s.attempts = static_cast<int>(st->int64(11));
    s.server_id = st->text(12);
    s.dead_reason = st->text(13);
    out.push_back(std::move(s));
  }
  return out;
}

Result<StoreCounts> StoreReader::counts() {
  auto st = db_.prepare(
      "SELECT (SELECT COUNT(*) FROM readings WHERE sync_state = 0), (SELECT COUNT(*) FROM readings WHERE sync_state = 1),"
      " (SELECT COUNT(*) FROM readings WHERE sync_state = 2),"
      " (SELECT page_count FROM pragma_page_count()) * (SELECT page_size FROM pragma_page_size())");
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return make_error(Errc::internal, "store: counts returned no row");
  StoreCounts c{st->int64(0), st->int64(1), st->int64(2), st->int64(3)};
  st->reset();
  return c;
}

Result<std::vector<Device>> StoreReader::devices() {
  auto st = db_.prepare("SELECT id, address, name, model, serial, category, patient, last_seen_ms, newest_record_ms,"
                        " newest_sequence FROM devices ORDER BY id");
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
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::optional<std::string>> StoreReader::meta(const std::string& key) {
  auto st = db_.prepare("SELECT value FROM meta WHERE key = ?1");
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
