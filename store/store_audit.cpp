// The audit trail's rows (schema 8) and the scope that ties a row to the change it records (store/audit.hpp).
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include "core/time.hpp"
#include "store/store.hpp"
#include "store/store_impl.hpp"

namespace carehub {
namespace {

constexpr std::string_view kAuditColumns =
    "seq, uid, time_ms, action, actor, actor_kind, on_behalf_of, patient, entities_json, outcome, detail, sync_state,"
    " attempts, server_id, sync_error";

Result<AuditEvent> audit_from_row(const sqlite::Statement& st) {
  AuditEvent e;
  e.seq = st.int64(0);
  e.uid = st.text(1);
  e.time = from_epoch_ms(st.int64(2));
  e.action = st.text(3);
  e.actor.name = st.text(4);
  e.actor.kind = st.text(5);
  e.on_behalf_of = st.text(6);
  e.patient = st.text(7);
  // Our own row, written from a dump of our own JSON: not peer input.
  const auto entities = nlohmann::json::parse(st.text(8), nullptr, false);
  const auto outcome = audit_outcome_from_string(st.text(9));
  if (!entities.is_array() || !outcome) {
    return make_error(Errc::internal, "store: audit event " + e.uid + " has corrupt entities or outcome");
  }
  for (const auto& x : entities) {
    if (x.is_object()) e.entities.push_back({x.value("type", std::string{}), x.value("id", std::string{})});
  }
  e.outcome = *outcome;
  e.detail = st.text(10);
  e.sync_state = static_cast<int>(st.int64(11));
  e.attempts = static_cast<int>(st.int64(12));
  e.server_id = st.text(13);
  e.sync_error = st.text(14);
  return e;
}

Result<std::vector<AuditEvent>> collect(sqlite::Statement& st) {
  std::vector<AuditEvent> out;
  for (;;) {
    auto row = st.step();
    if (!row) return row.error();
    if (!*row) return out;
    auto e = audit_from_row(st);
    if (!e) {
      st.reset();
      return e.error();
    }
    out.push_back(std::move(*e));
  }
}

}  // namespace

std::string_view to_string(AuditOutcome o) {
  switch (o) {
    case AuditOutcome::success: return "success";
    case AuditOutcome::refused: return "refused";
    case AuditOutcome::failed: return "failed";
  }
  return "failed";
}

std::optional<AuditOutcome> audit_outcome_from_string(std::string_view s) {
  for (auto o : {AuditOutcome::success, AuditOutcome::refused, AuditOutcome::failed}) {
    if (to_string(o) == s) return o;
  }
  return std::nullopt;
}

// ---- the scope ----

struct audit::Scope::State {
  AuditEvent action;
  const Clock* clock;
  mutable std::mutex mu;  // `recorded` is counted on the writer thread, read on the scope's
  std::size_t recorded = 0;
};

namespace {
thread_local std::shared_ptr<audit::Scope::State> current;  // the calling thread's innermost scope
}  // namespace

std::string audit::new_uid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "audit-";
  for (int i = 0; i < 2; ++i) {
    auto v = rng();
    for (int d = 0; d < 16; ++d, v >>= 4) out.push_back(kHex[v & 0xF]);
  }
  return out;
}

audit::Scope::Scope(AuditEvent action, const Clock& clock)
    : state_(std::make_shared<State>()), previous_(current) {
  state_->action = std::move(action);
  state_->clock = &clock;
  current = state_;
}

audit::Scope::~Scope() { current = std::move(previous_); }

std::size_t audit::Scope::recorded() const {
  std::lock_guard lock(state_->mu);
  return state_->recorded;
}

AuditEvent audit::Scope::event() const { return state_->action; }

audit::Op audit::attach(Op op) {
  if (!current) return op;
  return [op = std::move(op), state = current](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
    auto events = op(w);
    if (!events) return events;
    AuditEvent row = state->action;
    row.time = state->clock->now();
    row.outcome = AuditOutcome::success;
    if (auto stored = w.insert_audit(row); !stored) {
      return make_error(stored.error().code, "not done: the audit trail could not record " + row.action + " (" +
                                                 stored.error().message + ")");
    }
    std::lock_guard lock(state->mu);
    ++state->recorded;
    return events;
  };
}

// ---- the writer ----

Result<std::int64_t> StoreWriter::insert_audit(const AuditEvent& e) {
  if (e.action.empty() || e.actor.name.empty() || e.actor.kind.empty()) {
    return make_error(Errc::invalid_argument, "an audit event needs an action and an actor (kind and name)");
  }
  auto st = impl_->cached(
      "INSERT INTO audit_events (uid, time_ms, action, actor, actor_kind, on_behalf_of, patient, entities_json,"
      " outcome, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  if (!st) return st.error();
  nlohmann::json entities = nlohmann::json::array();
  for (const auto& x : e.entities) entities.push_back({{"type", x.type}, {"id", x.id}});
  (*st)->bind(1, e.uid.empty() ? audit::new_uid() : e.uid)
      .bind(2, to_epoch_ms(e.time))
      .bind(3, e.action)
      .bind(4, e.actor.name)
      .bind(5, e.actor.kind)
      .bind(6, e.on_behalf_of)
      .bind(7, e.patient)
      .bind(8, entities.dump())
      .bind(9, to_string(e.outcome))
      .bind(10, e.detail);
  if (auto r = (*st)->run(); !r) return r.error();
  return impl_->db.query_int("SELECT last_insert_rowid()");
}

Result<void> StoreWriter::mark_audit_synced(std::int64_t seq, const std::string& server_id) {
  auto st = impl_->cached("UPDATE audit_events SET sync_state = 1, server_id = ?2, sync_error = NULL WHERE seq = ?1");
  if (!st) return st.error();
  (*st)->bind(1, seq).bind(2, server_id);
  return (*st)->run();
}

Result<void> StoreWriter::mark_audit_dead(std::int64_t seq, const std::string& reason) {
  auto st = impl_->cached("UPDATE audit_events SET sync_state = 2, sync_error = ?2 WHERE seq = ?1");
  if (!st) return st.error();
  (*st)->bind(1, seq).bind(2, reason);
  return (*st)->run();
}

Result<void> StoreWriter::mark_audit_attempt(std::int64_t seq) {
  auto st = impl_->cached("UPDATE audit_events SET attempts = attempts + 1 WHERE seq = ?1");
  if (!st) return st.error();
  (*st)->bind(1, seq);
  return (*st)->run();
}

// ---- the reader ----

Result<std::vector<AuditEvent>> StoreReader::audit_events(const AuditQuery& q) {
  // Filters bind as values (?1..?3); an unset one is NULL and lets every row through.
  auto st = impl_->db.prepare_cached(
      "SELECT " + std::string(kAuditColumns) +
      " FROM audit_events WHERE (?1 IS NULL OR time_ms >= ?1) AND (?2 IS NULL OR instr(actor, ?2) > 0)"
      " AND (?3 IS NULL OR action = ?3 OR (substr(?3, -1) = '.' AND substr(action, 1, length(?3)) = ?3))"
      " ORDER BY seq DESC LIMIT ?4");
  if (!st) return st.error();
  if (q.since) st->bind(1, to_epoch_ms(*q.since));
  else st->bind(1, std::nullopt);
  if (!q.actor.empty()) st->bind(2, q.actor);
  else st->bind(2, std::nullopt);
  if (!q.action.empty()) st->bind(3, q.action);
  else st->bind(3, std::nullopt);
  st->bind(4, static_cast<std::int64_t>(q.limit));
  return collect(*st);
}

Result<std::vector<AuditEvent>> StoreReader::audit_to_sync(std::size_t limit) {
  auto st = impl_->db.prepare_cached("SELECT " + std::string(kAuditColumns) +
                              " FROM audit_events WHERE sync_state = 0 ORDER BY seq LIMIT ?1");
  if (!st) return st.error();
  st->bind(1, static_cast<std::int64_t>(limit));
  return collect(*st);
}

}  // namespace carehub
