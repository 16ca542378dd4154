#include <nlohmann/json.hpp>

#include "core/schema.hpp"
#include "core/store.hpp"

namespace carehub {

std::string_view to_string(SyncState s) {
  switch (s) {
    case SyncState::pending: return "pending";
    case SyncState::synced: return "synced";
    case SyncState::dead: return "dead";
  }
  return "pending";
}

namespace {

std::string_view synchronous_pragma(Synchronous s) {
  switch (s) {
    case Synchronous::normal: return "PRAGMA synchronous = NORMAL";
    case Synchronous::full: return "PRAGMA synchronous = FULL";
    case Synchronous::extra: return "PRAGMA synchronous = EXTRA";
  }
  return "PRAGMA synchronous = FULL";
}

}  // namespace

Result<std::unique_ptr<StoreWriter>> StoreWriter::open(const StoreOptions& options) {
  auto db = sqlite::Database::open(options.path, /*create=*/true);
  if (!db) return db.error();
  auto mode = db->query_text("PRAGMA journal_mode = WAL");
  if (!mode) return mode.error();
  if (*mode != "wal") {
    return make_error(Errc::io, "sqlite: " + options.path + " cannot use WAL (journal_mode is " + *mode + ")");
  }
  for (std::string_view pragma : {synchronous_pragma(options.synchronous), std::string_view("PRAGMA busy_timeout = 5000"),
                                  std::string_view("PRAGMA foreign_keys = ON")}) {
    if (auto r = db->exec(pragma); !r) return r.error();
  }
  if (auto r = schema::migrate(*db); !r) return r.error();
  std::unique_ptr<StoreWriter> w(new StoreWriter(std::move(*db)));
  if (auto r = w->prepare_statements(); !r) return r.error();
  return w;
}

Result<void> StoreWriter::prepare_statements() {
  struct Item {
    sqlite::Statement* target;
    std::string_view sql;
  };
  const Item items[] = {
      {&insert_reading_,
       "INSERT INTO readings (uid, kind, device, patient, time_ms, device_time_ms, received_ms, source, values_json)"
       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (uid) DO NOTHING"},
      {&mark_synced_,
       "UPDATE readings SET sync_state = 1, server_id = ?2, synced_ms = ?3, attempts = attempts + 1,"
       " dead_reason = NULL WHERE seq = ?1"},
      {&mark_dead_, "UPDATE readings SET sync_state = 2, dead_reason = ?2, attempts = attempts + 1 WHERE seq = ?1"},
      {&mark_attempt_, "UPDATE readings SET attempts = attempts + 1 WHERE seq = ?1"},
      {&upsert_device_,
       "INSERT INTO devices (id, address, name, model, serial, category, patient, last_seen_ms, newest_record_ms,"
       " newest_sequence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO UPDATE SET"
       " address = excluded.address, name = excluded.name, model = excluded.model, serial = excluded.serial,"
       " category = excluded.category, patient = excluded.patient,"
       " last_seen_ms = COALESCE(excluded.last_seen_ms, last_seen_ms),"
       " newest_record_ms = COALESCE(excluded.newest_record_ms, newest_record_ms),"
       " newest_sequence = COALESCE(excluded.newest_sequence, newest_sequence)"},
      {&remove_device_, "DELETE FROM devices WHERE id = ?1"},
      {&put_meta_, "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"},
  };
  for (const auto& item : items) {
    auto st = db_.prepare(item.sql);
    if (!st) return st.error();
    *item.target = std::move(*st);
  }
  return {};
}

Result<bool> StoreWriter::insert_reading(const Reading& r, const std::string& uid) {
  nlohmann::json values = nlohmann::json::object();
  for (const auto& [name, value] : r.values) values[name] = value;
  std::optional<std::int64_t> device_time;
  if (r.device_time) device_time = to_epoch_ms(*r.device_time);
  insert_reading_.bind(1, uid)
      .bind(2, to_string(r.kind))
      .bind(3, r.device)
      .bind(4, r.patient)
      .bind(5, to_epoch_ms(r.time))
      .bind(6, device_time)
      .bind(7, to_epoch_ms(r.received))
      .bind(8, r.source)
      .bind(9, values.dump());
  if (auto res = insert_reading_.run(); !res) return res.error();
  return db_.changes() == 1;
}

Result<void> StoreWriter::mark_synced(std::int64_t seq, const std::string& server_id, TimePoint when) {
  return mark_synced_.bind(1, seq).bind(2, server_id).bind(3, to_epoch_ms(when)).run();
}

Result<void> StoreWriter::mark_dead(std::int64_t seq, const std::string& reason) {
  return mark_dead_.bind(1, seq).bind(2, reason).run();
}

Result<void> StoreWriter::mark_attempt(std::int64_t seq) { return mark_attempt_.bind(1, seq).run(); }

Result<std::int64_t> StoreWriter::requeue_dead() {
  if (auto r = db_.exec("UPDATE readings SET sync_state = 0 WHERE sync_state = 2"); !r) return r.error();
  return db_.changes();
}

Result<void> StoreWriter::upsert_device(const Device& d) {
  std::optional<std::int64_t> last_seen;
  if (d.last_seen) last_seen = to_epoch_ms(*d.last_seen);
  std::optional<std::int64_t> newest_record;
  if (d.newest_record) newest_record = to_epoch_ms(*d.newest_record);
  return upsert_device_.bind(1, d.id)
      .bind(2, d.address)
      .bind(3, d.name)
      .bind(4, d.model)
      .bind(5, d.serial)
      .bind(6, d.category)
      .bind(7, d.patient)
      .bind(8, last_seen)
      .bind(9, newest_record)
      .bind(10, d.newest_sequence)
      .run();
}

Result<bool> StoreWriter::remove_device(const std::string& id) {
  if (auto r = remove_device_.bind(1, id).run(); !r) return r.error();
  return db_.changes() == 1;
}

Result<void> StoreWriter::put_meta(const std::string& key, const std::string& value) {
  return put_meta_.bind(1, key).bind(2, value).run();
}

}  // namespace carehub
