// Alerts and rule state: the decision-support half of the store (schema version 2).
#include <nlohmann/json.hpp>

#include "store/store.hpp"
#include "store/store_impl.hpp"

namespace carehub {
namespace {

constexpr std::string_view kAlertColumns =
    "id, rule, patient, event, severity, state, notify, raised_ms, acknowledged_ms, closed_ms, text, readings_json,"
    " category, audience, requires_ack, deadline_ms, resolution, reminders, next_reminder_ms, escalate_ms, escalated,"
    " retrospective, acknowledged_by, repeat_by_ms";
constexpr int kAlertColumnCount = 24;  // columns a query selects after kAlertColumns start at this index

// True (1) when an upsert changes what the FHIR server shows of an alert.
constexpr std::string_view kAlertChanged =
    "(excluded.state IS NOT state OR excluded.severity IS NOT severity OR excluded.acknowledged_ms IS NOT"
    " acknowledged_ms OR excluded.closed_ms IS NOT closed_ms OR excluded.escalated IS NOT escalated OR"
    " excluded.text IS NOT text OR excluded.resolution IS NOT resolution OR excluded.readings_json IS NOT"
    " readings_json OR excluded.retrospective IS NOT retrospective OR excluded.acknowledged_by IS NOT acknowledged_by)";

std::optional<std::int64_t> ms(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return to_epoch_ms(*t);
}

std::optional<TimePoint> time_of(const std::optional<std::int64_t>& v) {
  if (!v) return std::nullopt;
  return from_epoch_ms(*v);
}

Result<Alert> alert_from_row(const sqlite::Statement& st) {
  Alert a;
  a.id = st.text(0);
  a.rule = st.text(1);
  a.patient = st.text(2);
  a.event = st.text(3);
  const auto severity = severity_from_string(st.text(4));
  const auto state = alert_state_from_string(st.text(5));
  if (!severity || !state) return make_error(Errc::internal, "store: alert " + a.id + " has a corrupt severity or state");
  a.severity = *severity;
  a.state = *state;
  a.notify = st.int64(6) != 0;
  a.raised = from_epoch_ms(st.int64(7));
  a.acknowledged = time_of(st.optional_int64(8));
  a.closed = time_of(st.optional_int64(9));
  a.text = st.text(10);
  // Our own row, written from a dump of validated JSON: not peer input, so not parse_peer_json.
  const auto readings = nlohmann::json::parse(st.text(11), nullptr, false);
  if (!readings.is_array()) return make_error(Errc::internal, "store: alert " + a.id + " has corrupt readings");
  for (const auto& uid : readings) {
    if (uid.is_string()) a.readings.push_back(uid.get<std::string>());
  }
  a.category = st.text(12);
  a.audience = st.text(13);
  a.requires_ack = st.int64(14) != 0;
  a.deadline = time_of(st.optional_int64(15));
  a.resolution = st.text(16);
  a.reminders = static_cast<int>(st.int64(17));
  a.next_reminder = time_of(st.optional_int64(18));
  a.escalate_at = time_of(st.optional_int64(19));
  a.escalated = st.int64(20) != 0;
  a.retrospective = st.int64(21) != 0;
  a.acknowledged_by = st.text(22);
  a.repeat_by = time_of(st.optional_int64(23));
  return a;
}

Result<std::vector<Alert>> collect_alerts(sqlite::Statement& st) {
  std::vector<Alert> out;
  for (;;) {
    auto row = st.step();
    if (!row) return row.error();
    if (!*row) break;
    auto a = alert_from_row(st);
    if (!a) {
      st.reset();
      return a.error();
    }
    out.push_back(std::move(*a));
  }
  return out;
}

Result<std::optional<Alert>> first_alert(sqlite::Statement& st) {
  auto all = collect_alerts(st);
  if (!all) return all.error();
  if (all->empty()) return std::optional<Alert>{};
  return std::optional<Alert>(std::move(all->front()));
}

}  // namespace

Result<sqlite::Statement*> StoreWriter::Impl::cached(const std::string& sql) {
  if (auto it = cache.find(sql); it != cache.end()) return &it->second;
  auto st = db.prepare(sql);
  if (!st) return st.error();
  return &cache.emplace(sql, std::move(*st)).first->second;
}

Result<void> StoreWriter::put_alert(const Alert& a) {
  // An upsert, not a replace: the sync columns (schema 4) survive, and a change the clinician must see
  // (state, acknowledgement, escalation, text) makes a new revision for the uploader. A reminder alone
  // does not: the server does not track reminders.
  auto st = impl_->cached("INSERT INTO alerts (" + std::string(kAlertColumns) +
                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,"
                   " ?21, ?22, ?23, ?24) ON CONFLICT (id) DO UPDATE SET rule = excluded.rule, patient = excluded.patient,"
                   " event = excluded.event, severity = excluded.severity, state = excluded.state,"
                   " notify = excluded.notify, raised_ms = excluded.raised_ms,"
                   " acknowledged_ms = excluded.acknowledged_ms, closed_ms = excluded.closed_ms, text = excluded.text,"
                   " readings_json = excluded.readings_json, category = excluded.category,"
                   " audience = excluded.audience, requires_ack = excluded.requires_ack,"
                   " deadline_ms = excluded.deadline_ms, resolution = excluded.resolution,"
                   " reminders = excluded.reminders, next_reminder_ms = excluded.next_reminder_ms,"
                   " escalate_ms = excluded.escalate_ms, escalated = excluded.escalated,"
                   " retrospective = excluded.retrospective, acknowledged_by = excluded.acknowledged_by,"
                   " repeat_by_ms = excluded.repeat_by_ms,"
                   " revision = revision + " + std::string(kAlertChanged) + "," +
                   " sync_state = CASE WHEN " + std::string(kAlertChanged) + " THEN 0 ELSE sync_state END");
  if (!st) return st.error();
  nlohmann::json readings = a.readings;
  (*st)->bind(1, a.id)
      .bind(2, a.rule)
      .bind(3, a.patient)
      .bind(4, a.event)
      .bind(5, to_string(a.severity))
      .bind(6, to_string(a.state))
      .bind(7, std::int64_t{a.notify ? 1 : 0})
      .bind(8, to_epoch_ms(a.raised))
      .bind(9, ms(a.acknowledged))
      .bind(10, ms(a.closed))
      .bind(11, a.text)
      .bind(12, readings.dump())
      .bind(13, a.category)
      .bind(14, a.audience)
      .bind(15, std::int64_t{a.requires_ack ? 1 : 0})
      .bind(16, ms(a.deadline))
      .bind(17, a.resolution)
      .bind(18, std::int64_t{a.reminders})
      .bind(19, ms(a.next_reminder))
      .bind(20, ms(a.escalate_at))
      .bind(21, std::int64_t{a.escalated ? 1 : 0})
      .bind(22, std::int64_t{a.retrospective ? 1 : 0})
      .bind(23, a.acknowledged_by)
      .bind(24, ms(a.repeat_by));
  return (*st)->run();
}

Result<std::optional<Alert>> StoreWriter::find_alert(const std::string& id) {
  auto st = impl_->cached("SELECT " + std::string(kAlertColumns) + " FROM alerts WHERE id = ?1");
  if (!st) return st.error();
  (*st)->bind(1, id);
  return first_alert(**st);
}

Result<std::vector<Alert>> StoreWriter::alerts_due(TimePoint now) {
  auto st = impl_->cached("SELECT " + std::string(kAlertColumns) +
                   " FROM alerts WHERE state = 'open' AND requires_ack = 1 AND (next_reminder_ms <= ?1 OR"
                   " (escalated = 0 AND escalate_ms <= ?1)) ORDER BY raised_ms, id");
  if (!st) return st.error();
  (*st)->bind(1, to_epoch_ms(now));
  return collect_alerts(**st);
}

Result<std::optional<RuleState>> StoreWriter::rule_state(const std::string& rule, const std::string& patient,
                                                         const std::string& key) {
  auto st = impl_->cached("SELECT state_json, due_ms FROM rule_state WHERE rule = ?1 AND patient = ?2 AND key = ?3");
  if (!st) return st.error();
  (*st)->bind(1, rule).bind(2, patient).bind(3, key);
  auto row = (*st)->step();
  if (!row) return row.error();
  if (!*row) return std::optional<RuleState>{};
  RuleState s{rule, patient, key, (*st)->text(0), time_of((*st)->optional_int64(1))};
  (*st)->reset();
  return std::optional<RuleState>(std::move(s));
}

Result<void> StoreWriter::put_rule_state(const RuleState& s) {
  auto st = impl_->cached(
      "INSERT INTO rule_state (rule, patient, key, state_json, due_ms) VALUES (?1, ?2, ?3, ?4, ?5)"
      " ON CONFLICT (rule, patient, key) DO UPDATE SET state_json = excluded.state_json, due_ms = excluded.due_ms");
  if (!st) return st.error();
  return (*st)->bind(1, s.rule).bind(2, s.patient).bind(3, s.key).bind(4, s.state_json).bind(5, ms(s.due)).run();
}

Result<void> StoreWriter::erase_rule_state(const std::string& rule, const std::string& patient, const std::string& key) {
  auto st = impl_->cached("DELETE FROM rule_state WHERE rule = ?1 AND patient = ?2 AND key = ?3");
  if (!st) return st.error();
  return (*st)->bind(1, rule).bind(2, patient).bind(3, key).run();
}

Result<std::vector<RuleState>> StoreWriter::rule_states_due(TimePoint now) {
  auto st = impl_->cached(
      "SELECT rule, patient, key, state_json, due_ms FROM rule_state WHERE due_ms <= ?1 ORDER BY due_ms, rule,"
      " patient, key");
  if (!st) return st.error();
  (*st)->bind(1, to_epoch_ms(now));
  std::vector<RuleState> out;
  for (;;) {
    auto row = (*st)->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back({(*st)->text(0), (*st)->text(1), (*st)->text(2), (*st)->text(3), time_of((*st)->optional_int64(4))});
  }
  return out;
}

Result<std::optional<TimePoint>> StoreWriter::next_due() {
  auto st = impl_->cached(
      "SELECT MIN(t) FROM (SELECT MIN(due_ms) AS t FROM rule_state UNION ALL"
      " SELECT MIN(next_reminder_ms) FROM alerts WHERE state = 'open' AND requires_ack = 1 UNION ALL"
      " SELECT MIN(escalate_ms) FROM alerts WHERE state = 'open' AND requires_ack = 1 AND escalated = 0)");
  if (!st) return st.error();
  auto row = (*st)->step();
  if (!row) return row.error();
  std::optional<TimePoint> out;
  if (*row) {
    out = time_of((*st)->optional_int64(0));
    (*st)->reset();
  }
  return out;
}

Result<std::vector<StoredReading>> StoreWriter::readings_between(const std::string& patient, Kind kind, TimePoint from,
                                                                 TimePoint to) {
  // Not quarantined ones (sync_state 3): a time the hub does not believe is no baseline for a trend. Nor
  // unassigned or discarded ones (4, 5): nobody's readings are no patient's baseline. Withheld ones (6) are:
  // consent decides what leaves the hub, not what the hub's own rules judge.
  auto st = impl_->cached(
      "SELECT seq, uid, device, time_ms, values_json FROM readings WHERE patient = ?1 AND kind = ?2 AND time_ms >= ?3"
      " AND time_ms <= ?4 AND sync_state IN (0, 1, 2, 6) ORDER BY time_ms, seq");
  if (!st) return st.error();
  (*st)->bind(1, patient).bind(2, to_string(kind)).bind(3, to_epoch_ms(from)).bind(4, to_epoch_ms(to));
  std::vector<StoredReading> out;
  for (;;) {
    auto row = (*st)->step();
    if (!row) return row.error();
    if (!*row) break;
    StoredReading s;
    s.seq = (*st)->int64(0);
    s.uid = (*st)->text(1);
    s.reading.kind = kind;
    s.reading.patient = patient;
    s.reading.device = (*st)->text(2);
    s.reading.time = from_epoch_ms((*st)->int64(3));
    // Our own row, written from a dump of validated JSON: not peer input, so not parse_peer_json.
    const auto values = nlohmann::json::parse((*st)->text(4), nullptr, false);
    if (values.is_object()) {
      for (const auto& [name, v] : values.items()) {
        if (v.is_number()) s.reading.values[name] = v.get<double>();
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<Alert>> StoreReader::alerts(const AlertQuery& q) {
  std::string sql = "SELECT " + std::string(kAlertColumns) + " FROM alerts";
  if (!q.include_closed) sql += " WHERE state != 'closed'";
  sql += " ORDER BY raised_ms DESC, id LIMIT ?1";
  auto st = impl_->db.prepare_cached(sql);
  if (!st) return st.error();
  st->bind(1, static_cast<std::int64_t>(q.limit));
  return collect_alerts(*st);
}

Result<std::optional<Alert>> StoreReader::find_alert(const std::string& id) {
  auto st = impl_->db.prepare_cached("SELECT " + std::string(kAlertColumns) + " FROM alerts WHERE id = ?1");
  if (!st) return st.error();
  st->bind(1, id);
  return first_alert(*st);
}

Result<AlertCounts> StoreReader::alert_counts() {
  auto st = impl_->db.prepare_cached(
      "SELECT (SELECT COUNT(*) FROM alerts WHERE state = 'open'), (SELECT COUNT(*) FROM alerts WHERE state ="
      " 'acknowledged'), (SELECT COUNT(*) FROM alerts WHERE state = 'open' AND requires_ack = 1)");
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  AlertCounts c;
  if (*row) {
    c.open = st->int64(0);
    c.acknowledged = st->int64(1);
    c.unacknowledged_red = st->int64(2);
    st->reset();
  }
  return c;
}

// --- FHIR sync of alerts (schema 4) ---

Result<void> StoreWriter::mark_alert_synced(const std::string& id, std::int64_t revision, const std::string& server_id) {
  auto st = impl_->cached(
      "UPDATE alerts SET synced_revision = MAX(synced_revision, ?2), server_id = ?3, sync_error = NULL,"
      " sync_state = CASE WHEN revision <= ?2 THEN 1 ELSE 0 END WHERE id = ?1");
  if (!st) return st.error();
  return (*st)->bind(1, id).bind(2, revision).bind(3, server_id).run();
}

Result<void> StoreWriter::mark_alert_dead(const std::string& id, std::int64_t revision, const std::string& reason) {
  // A newer change may fix what the server refused: only the refused revision is dead-lettered.
  auto st = impl_->cached("UPDATE alerts SET sync_error = ?3, sync_state = 2 WHERE id = ?1 AND revision = ?2");
  if (!st) return st.error();
  return (*st)->bind(1, id).bind(2, revision).bind(3, reason).run();
}

Result<std::vector<AlertToSync>> StoreReader::alerts_to_sync(std::size_t limit) {
  auto st = impl_->db.prepare_cached("SELECT " + std::string(kAlertColumns) +
                        ", revision, COALESCE(server_id, '') FROM alerts WHERE sync_state = 0 ORDER BY raised_ms, id"
                        " LIMIT ?1");
  if (!st) return st.error();
  st->bind(1, static_cast<std::int64_t>(limit));
  std::vector<AlertToSync> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    auto a = alert_from_row(*st);
    if (!a) return a.error();
    out.push_back({std::move(*a), st->int64(kAlertColumnCount), st->text(kAlertColumnCount + 1)});
  }
  return out;
}

Result<AlertSyncCounts> StoreReader::alert_sync_counts() {
  auto st = impl_->db.prepare_cached(
      "SELECT (SELECT COUNT(*) FROM alerts WHERE sync_state = 0), (SELECT COUNT(*) FROM alerts WHERE sync_state = 2)");
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  AlertSyncCounts c;
  if (*row) {
    c.pending = st->int64(0);
    c.dead = st->int64(1);
    st->reset();
  }
  return c;
}

Result<std::vector<DeadAlert>> StoreReader::dead_alerts(std::size_t limit) {
  auto st = impl_->db.prepare_cached(
      "SELECT id, rule, raised_ms, COALESCE(sync_error, '') FROM alerts WHERE sync_state = 2 ORDER BY raised_ms, id"
      " LIMIT ?1");
  if (!st) return st.error();
  st->bind(1, static_cast<std::int64_t>(limit));
  std::vector<DeadAlert> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back({st->text(0), st->text(1), from_epoch_ms(st->int64(2)), st->text(3)});
  }
  return out;
}

}  // namespace carehub
