#include <nlohmann/json.hpp>

#include "store/schema.hpp"
#include "store/store.hpp"
#include "store/store_impl.hpp"

namespace carehub {

std::string_view to_string(SyncState s) {
  switch (s) {
    case SyncState::pending: return "pending";
    case SyncState::synced: return "synced";
    case SyncState::dead: return "dead";
    case SyncState::quarantined: return "quarantined";
    case SyncState::unassigned: return "unassigned";
    case SyncState::discarded: return "discarded";
    case SyncState::withheld: return "withheld";
  }
  return "pending";
}

namespace {

// The meta row holding the readings' per-state counts ({"pending":…,"synced":…,"dead":…,"quarantined":…,
// "unassigned":…,"discarded":…,"withheld":…}).
constexpr std::string_view kCountsKey = "reading_counts";

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
  auto db = sqlite::Database::open(options.path, /*create=*/true, options.key ? &*options.key : nullptr);
  if (!db) return db.error();
  auto mode = db->query_text("PRAGMA journal_mode = WAL");
  if (!mode) return mode.error();
  if (*mode != "wal") {
    return make_error(Errc::io, "sqlite: " + options.path + " cannot use WAL (journal_mode is " + *mode + ")");
  }
  // Page cache: 2 MiB (SQLite's default is 2,000 KiB). The uid index takes random keys (name-based UUIDs), so
  // each batch touches index pages all over the file (the ingest profile in docs/performance.md); past a few
  // tens of thousands of readings no cache a hub can afford holds that index, and a page the cache misses
  // comes from the OS page cache, not the disk. 4 MiB bought no ingest rate measurable on this machine
  // (BM_PipelineIngest/1000, 2 s, alternating: 62.8k and 61.3k/s against 58.1k and 63.5k/s at 2 MiB), and the
  // cache fills under load into carehubd's heap: at 1,000 readings/s it was the largest part of what put RSS
  // over issue 15's 25 MiB. With the default checkpoint every 1,000 WAL pages, nearly every group commit
  // under load also checkpointed, writing each hot index page twice; every 8,192 pages (32 MiB of WAL) a
  // checkpoint writes a page once for many commits. journal_size_limit gives the disk back after a
  // checkpoint, so the WAL does not stay at its largest size.
  for (std::string_view pragma : {synchronous_pragma(options.synchronous), std::string_view("PRAGMA busy_timeout = 5000"),
                                  std::string_view("PRAGMA foreign_keys = ON"), std::string_view("PRAGMA cache_size = -2048"),
                                  std::string_view("PRAGMA wal_autocheckpoint = 8192"),
                                  std::string_view("PRAGMA journal_size_limit = 33554432")}) {
    if (auto r = db->exec(pragma); !r) return r.error();
  }
  if (options.max_pages > 0) {
    if (auto r = db->exec("PRAGMA max_page_count = " + std::to_string(options.max_pages)); !r) return r.error();
  }
  if (auto r = schema::migrate(*db); !r) return r.error();
  std::unique_ptr<StoreWriter> w(new StoreWriter(std::make_unique<Impl>(std::move(*db)), options));
  if (auto r = w->prepare_statements(); !r) return r.error();
  if (auto r = w->load_counts(); !r) return r.error();
  return w;
}

StoreWriter::StoreWriter(std::unique_ptr<Impl> impl, StoreOptions options)
    : impl_(std::move(impl)), options_(std::move(options)) {}
StoreWriter::~StoreWriter() = default;

// --- per-state counts, kept so that nobody has to COUNT(*) a million rows ---

std::int64_t& StoreWriter::StateCounts::of(std::int64_t state) {
  switch (state) {
    case 1: return synced;
    case 2: return dead;
    case 3: return quarantined;
    case 4: return unassigned;
    case 5: return discarded;
    case 6: return withheld;
    default: return pending;
  }
}

void StoreWriter::StateCounts::add(const StateCounts& d) {
  pending += d.pending;
  synced += d.synced;
  dead += d.dead;
  quarantined += d.quarantined;
  unassigned += d.unassigned;
  discarded += d.discarded;
  withheld += d.withheld;
}

Result<void> StoreWriter::load_counts() {
  auto stored = impl_->db.query_text("SELECT COALESCE((SELECT value FROM meta WHERE key = '" + std::string(kCountsKey) +
                               "'), '')");
  if (!stored) return stored.error();
  // Our own row, written from a dump of validated JSON: not peer input, so not parse_peer_json.
  const auto j = nlohmann::json::parse(*stored, nullptr, false);
  if (j.is_object() && j.value("pending", -1) >= 0 && j.value("synced", -1) >= 0 && j.value("dead", -1) >= 0 &&
      j.value("quarantined", -1) >= 0 && j.value("unassigned", -1) >= 0 && j.value("discarded", -1) >= 0 &&
      j.value("withheld", -1) >= 0) {
    impl_->committed = {j["pending"].get<std::int64_t>(),     j["synced"].get<std::int64_t>(),
                  j["dead"].get<std::int64_t>(),        j["quarantined"].get<std::int64_t>(),
                  j["unassigned"].get<std::int64_t>(), j["discarded"].get<std::int64_t>(),
                  j["withheld"].get<std::int64_t>()};
    return {};
  }
  // A database written before the counts were kept (or before quarantine, whose migration drops them):
  // count once, then keep them.
  auto st = impl_->db.prepare("SELECT sync_state, COUNT(*) FROM readings GROUP BY sync_state");
  if (!st) return st.error();
  StateCounts c;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    c.of(st->int64(0)) += st->int64(1);
  }
  if (auto r = store_counts(c); !r) return r;
  impl_->committed = c;
  return {};
}

Result<void> StoreWriter::store_counts(const StateCounts& c) {
  const nlohmann::json j{{"pending", c.pending},         {"synced", c.synced},
                         {"dead", c.dead},               {"quarantined", c.quarantined},
                         {"unassigned", c.unassigned},   {"discarded", c.discarded},
                         {"withheld", c.withheld}};
  return put_meta(std::string(kCountsKey), j.dump());
}

Result<void> StoreWriter::count_change(std::int64_t from_state, std::int64_t to_state, std::int64_t n) {
  if (n == 0 || from_state == to_state) return {};
  if (from_state >= 0) impl_->delta.of(from_state) -= n;
  if (to_state >= 0) impl_->delta.of(to_state) += n;
  if (!sqlite3_get_autocommit(impl_->db.handle())) return {};
  // No transaction open: the statement that changed the rows has committed alone, so the counts follow.
  StateCounts next = impl_->committed;
  next.add(impl_->delta);
  impl_->delta = {};
  if (auto r = store_counts(next); !r) return r;
  impl_->committed = next;
  return {};
}

Result<std::int64_t> StoreWriter::state_of(std::int64_t seq) {
  auto r = impl_->state_of.bind(1, seq).step();
  if (!r) return r.error();
  if (!*r) return std::int64_t{-1};  // no such reading: nothing changes
  const auto state = impl_->state_of.int64(0);
  impl_->state_of.reset();
  return state;
}

Result<StoreTransaction> StoreWriter::begin(Commit commit) {
  impl_->delta = {};
  impl_->savepoints.clear();
  const bool relax = commit == Commit::without_fsync && options_.synchronous != Synchronous::normal;
  if (relax != impl_->relaxed) {
    // Set before BEGIN: a durable transaction never starts while the connection is still relaxed.
    if (auto r = impl_->db.exec(relax ? std::string_view("PRAGMA synchronous = NORMAL") : synchronous_pragma(options_.synchronous)); !r) return r.error();
    impl_->relaxed = relax;
  }
  auto tx = sqlite::Transaction::begin(
      impl_->db, {[this]() -> Result<void> {
              if (impl_->delta.empty()) return {};
              StateCounts next = impl_->committed;
              next.add(impl_->delta);
              return store_counts(next);
            },
            [this](bool committed) {
              if (committed) impl_->committed.add(impl_->delta);
              impl_->delta = {};
              impl_->savepoints.clear();
            }});
  if (!tx) return tx.error();
  return StoreTransaction(std::unique_ptr<StoreTransaction::Impl>(new StoreTransaction::Impl{std::move(*tx)}));
}

StoreTransaction::StoreTransaction(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StoreTransaction::StoreTransaction(StoreTransaction&& other) noexcept = default;
StoreTransaction::~StoreTransaction() = default;  // sqlite::Transaction rolls back unless committed

Result<void> StoreTransaction::commit() { return impl_->tx.commit(); }

Result<Synchronous> StoreWriter::synchronous() {
  auto level = impl_->db.query_int("PRAGMA synchronous");
  if (!level) return level.error();
  switch (*level) {
    case 0:
    case 1: return Synchronous::normal;  // OFF is never set here
    case 2: return Synchronous::full;
    default: return Synchronous::extra;
  }
}

Result<void> StoreWriter::savepoint() {
  if (auto r = impl_->db.run_fixed("SAVEPOINT op"); !r) return r;
  impl_->savepoints.push_back(impl_->delta);
  return {};
}

Result<void> StoreWriter::release() {
  if (auto r = impl_->db.run_fixed("RELEASE op"); !r) return r;
  if (!impl_->savepoints.empty()) impl_->savepoints.pop_back();
  return {};
}

Result<void> StoreWriter::rollback_to_savepoint() {
  if (auto r = impl_->db.run_fixed("ROLLBACK TO op"); !r) return r;
  if (auto r = impl_->db.run_fixed("RELEASE op"); !r) return r;
  if (!impl_->savepoints.empty()) {
    impl_->delta = impl_->savepoints.back();
    impl_->savepoints.pop_back();
  }
  return {};
}

Result<void> StoreWriter::prepare_statements() {
  struct Item {
    sqlite::Statement* target;
    std::string_view sql;
  };
  const Item items[] = {
      {&impl_->insert_reading,
       // A uid that was assigned since (an alias) is a resend of a reading already stored: not inserted.
       "INSERT INTO readings (uid, kind, device, patient, time_ms, device_time_ms, received_ms, source, values_json,"
       " sync_state, quarantine_reason, user_index, unassigned_reason) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
       " ?10, NULLIF(?11, ''), ?12, NULLIF(?13, '') WHERE NOT EXISTS (SELECT 1 FROM reading_aliases WHERE old_uid = ?1)"
       " ON CONFLICT (uid) DO NOTHING"},
      {&impl_->mark_synced,
       "UPDATE readings SET sync_state = 1, server_id = ?2, synced_ms = ?3, attempts = attempts + 1,"
       " dead_reason = NULL WHERE seq = ?1"},
      {&impl_->mark_dead, "UPDATE readings SET sync_state = 2, dead_reason = ?2, attempts = attempts + 1 WHERE seq = ?1"},
      {&impl_->mark_attempt, "UPDATE readings SET attempts = attempts + 1 WHERE seq = ?1"},
      {&impl_->upsert_device,
       "INSERT INTO devices (id, address, name, model, serial, category, patient, last_seen_ms, newest_record_ms,"
       " newest_sequence, bound_since_ms, manufacturer, firmware_revision, hardware_revision, software_revision,"
       " system_id, battery_percent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
       " ?17) ON CONFLICT (id) DO UPDATE SET"
       " address = excluded.address, name = excluded.name, model = excluded.model, serial = excluded.serial,"
       " category = excluded.category, patient = excluded.patient,"
       " last_seen_ms = COALESCE(excluded.last_seen_ms, last_seen_ms),"
       " newest_record_ms = COALESCE(excluded.newest_record_ms, newest_record_ms),"
       " newest_sequence = COALESCE(excluded.newest_sequence, newest_sequence),"
       " bound_since_ms = excluded.bound_since_ms,"
       // What the device said about itself stays until it says otherwise (a connection that did not read
       // the Device Information Service again must not blank it).
       " manufacturer = COALESCE(NULLIF(excluded.manufacturer, ''), manufacturer),"
       " firmware_revision = COALESCE(NULLIF(excluded.firmware_revision, ''), firmware_revision),"
       " hardware_revision = COALESCE(NULLIF(excluded.hardware_revision, ''), hardware_revision),"
       " software_revision = COALESCE(NULLIF(excluded.software_revision, ''), software_revision),"
       " system_id = COALESCE(NULLIF(excluded.system_id, ''), system_id),"
       " battery_percent = COALESCE(excluded.battery_percent, battery_percent)"},
      // A forgotten device's user slots go with it: a device paired again starts unbound.
      {&impl_->remove_device, "DELETE FROM devices WHERE id = ?1"},
      {&impl_->put_meta, "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"},
      {&impl_->state_of, "SELECT sync_state FROM readings WHERE seq = ?1"},
  };
  for (const auto& item : items) {
    auto st = impl_->db.prepare(item.sql);
    if (!st) return st.error();
    *item.target = std::move(*st);
  }
  return {};
}

Result<bool> StoreWriter::insert_reading(const Reading& r, const std::string& uid, std::string_view quarantine_reason,
                                        std::string_view unassigned_reason) {
  if (!unassigned_reason.empty() && !r.patient.empty()) {
    return make_error(Errc::internal, "store: an unassigned reading must not name a patient");
  }
  auto state = static_cast<std::int64_t>(!unassigned_reason.empty() ? SyncState::unassigned
                                         : quarantine_reason.empty() ? SyncState::pending
                                                                     : SyncState::quarantined);
  if (state == static_cast<std::int64_t>(SyncState::pending)) {  // no consent for its kind: kept, judged, not sent
    auto withheld = withholds(r.patient, r.kind, r.time);
    if (!withheld) return withheld.error();
    if (*withheld) state = static_cast<std::int64_t>(SyncState::withheld);
  }
  nlohmann::json values = nlohmann::json::object();
  for (const auto& [name, value] : r.values) values[name] = value;
  std::optional<std::int64_t> device_time;
  if (r.device_time) device_time = to_epoch_ms(*r.device_time);
  impl_->insert_reading.bind(1, uid)
      .bind(2, to_string(r.kind))
      .bind(3, r.device)
      .bind(4, r.patient)
      .bind(5, to_epoch_ms(r.time))
      .bind(6, device_time)
      .bind(7, to_epoch_ms(r.received))
      .bind(8, r.source)
      .bind(9, values.dump())
      .bind(10, state)
      .bind(11, quarantine_reason)
      .bind(12, r.user ? std::optional<std::int64_t>(*r.user) : std::nullopt)
      .bind(13, unassigned_reason);
  if (auto res = impl_->insert_reading.run(); !res) return res.error();
  const bool inserted = impl_->db.changes() == 1;
  if (inserted) {
    if (auto c = count_change(-1, state, 1); !c) return c.error();
  }
  return inserted;
}

Result<void> StoreWriter::mark_synced(std::int64_t seq, const std::string& server_id, TimePoint when) {
  auto before = state_of(seq);
  if (!before) return before.error();
  if (auto r = impl_->mark_synced.bind(1, seq).bind(2, server_id).bind(3, to_epoch_ms(when)).run(); !r) return r;
  return *before < 0 ? Result<void>{} : count_change(*before, 1, 1);
}

Result<void> StoreWriter::mark_dead(std::int64_t seq, const std::string& reason) {
  auto before = state_of(seq);
  if (!before) return before.error();
  if (auto r = impl_->mark_dead.bind(1, seq).bind(2, reason).run(); !r) return r;
  return *before < 0 ? Result<void>{} : count_change(*before, 2, 1);
}

Result<void> StoreWriter::mark_attempt(std::int64_t seq) { return impl_->mark_attempt.bind(1, seq).run(); }

Result<std::int64_t> StoreWriter::requeue_dead() {
  if (auto r = impl_->db.exec("UPDATE readings SET sync_state = 0 WHERE sync_state = 2"); !r) return r.error();
  const auto readings = impl_->db.changes();
  if (auto c = count_change(2, 0, readings); !c) return c.error();
  if (auto r = impl_->db.exec("UPDATE alerts SET sync_state = 0, sync_error = NULL WHERE sync_state = 2"); !r) return r.error();
  return readings + impl_->db.changes();
}

Result<void> StoreWriter::upsert_device(const Device& d) {
  std::optional<std::int64_t> last_seen;
  if (d.last_seen) last_seen = to_epoch_ms(*d.last_seen);
  std::optional<std::int64_t> newest_record;
  if (d.newest_record) newest_record = to_epoch_ms(*d.newest_record);
  return impl_->upsert_device.bind(1, d.id)
      .bind(2, d.address)
      .bind(3, d.name)
      .bind(4, d.model)
      .bind(5, d.serial)
      .bind(6, d.category)
      .bind(7, d.patient)
      .bind(8, last_seen)
      .bind(9, newest_record)
      .bind(10, d.newest_sequence)
      .bind(11, d.bound_since ? std::optional<std::int64_t>(to_epoch_ms(*d.bound_since)) : std::nullopt)
      .bind(12, d.manufacturer)
      .bind(13, d.firmware_revision)
      .bind(14, d.hardware_revision)
      .bind(15, d.software_revision)
      .bind(16, d.system_id)
      .bind(17, d.battery_percent ? std::optional<std::int64_t>(*d.battery_percent) : std::nullopt)
      .run();
}

Result<bool> StoreWriter::remove_device(const std::string& id) {
  if (auto r = impl_->remove_device.bind(1, id).run(); !r) return r.error();
  const bool removed = impl_->db.changes() == 1;
  auto unbind = impl_->cached("DELETE FROM bindings WHERE device = ?1");
  if (!unbind) return unbind.error();
  if (auto r = (*unbind)->bind(1, id).run(); !r) return r.error();
  return removed;
}

Result<void> StoreWriter::put_meta(const std::string& key, const std::string& value) {
  return impl_->put_meta.bind(1, key).bind(2, value).run();
}

}  // namespace carehub
