#include "store/schema.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace carehub::schema {
namespace {

// Each entry takes the schema from version i to i+1. Never edit a shipped entry: add a new one.
constexpr std::array<std::string_view, kCurrentVersion> kMigrations{
    R"sql(
CREATE TABLE readings (
  seq            INTEGER PRIMARY KEY,
  uid            TEXT NOT NULL UNIQUE,
  kind           TEXT NOT NULL,
  device         TEXT NOT NULL,
  patient        TEXT NOT NULL,
  time_ms        INTEGER NOT NULL,
  device_time_ms INTEGER,
  received_ms    INTEGER NOT NULL,
  source         TEXT NOT NULL,
  values_json    TEXT NOT NULL,
  sync_state     INTEGER NOT NULL DEFAULT 0,
  attempts       INTEGER NOT NULL DEFAULT 0,
  synced_ms      INTEGER,
  server_id      TEXT,
  dead_reason    TEXT
);
-- The uploader's queue: only pending rows, in arrival order.
CREATE INDEX readings_pending ON readings (seq) WHERE sync_state = 0;
CREATE INDEX readings_dead ON readings (seq) WHERE sync_state = 2;
CREATE TABLE devices (
  id        TEXT PRIMARY KEY,
  address   TEXT NOT NULL DEFAULT '',
  name      TEXT NOT NULL DEFAULT '',
  model     TEXT NOT NULL DEFAULT '',
  serial    TEXT NOT NULL DEFAULT '',
  category  TEXT NOT NULL DEFAULT '',
  patient   TEXT NOT NULL DEFAULT '',
  last_seen_ms INTEGER
);
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql",
    // 2: decision support (rules/). Alerts and rule state live beside the readings so the pipeline writes
    // them in the readings' own transaction.
    R"sql(
CREATE TABLE alerts (
  id               TEXT PRIMARY KEY,
  rule             TEXT NOT NULL,
  patient          TEXT NOT NULL,
  event            TEXT NOT NULL,
  severity         TEXT NOT NULL,
  state            TEXT NOT NULL,
  notify           INTEGER NOT NULL,
  raised_ms        INTEGER NOT NULL,
  acknowledged_ms  INTEGER,
  closed_ms        INTEGER,
  text             TEXT NOT NULL,
  readings_json    TEXT NOT NULL,
  category         TEXT NOT NULL DEFAULT '',
  audience         TEXT NOT NULL DEFAULT '',
  requires_ack     INTEGER NOT NULL DEFAULT 0,
  deadline_ms      INTEGER,
  resolution       TEXT NOT NULL DEFAULT '',
  reminders        INTEGER NOT NULL DEFAULT 0,
  next_reminder_ms INTEGER,
  escalate_ms      INTEGER,
  escalated        INTEGER NOT NULL DEFAULT 0,
  sync_state       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alerts_not_closed ON alerts (raised_ms) WHERE state != 'closed';
-- Per rule, patient and key (an episode, a kind's last reading...): JSON state and when it next needs
-- the clock (a deadline, an inactivity limit).
CREATE TABLE rule_state (
  rule       TEXT NOT NULL,
  patient    TEXT NOT NULL,
  key        TEXT NOT NULL,
  state_json TEXT NOT NULL,
  due_ms     INTEGER,
  PRIMARY KEY (rule, patient, key)
);
CREATE INDEX rule_state_due ON rule_state (due_ms) WHERE due_ms IS NOT NULL;
-- Trend rules look back over a patient's recent readings of one kind.
CREATE INDEX readings_patient_kind_time ON readings (patient, kind, time_ms);
)sql",
    // 3: BLE (drivers/ble). Devices resend their whole memory on reconnect: the newest record already
    // stored per device (its device time, its sequence number) survives restarts so resends are dropped.
    R"sql(
ALTER TABLE devices ADD COLUMN newest_record_ms INTEGER;
ALTER TABLE devices ADD COLUMN newest_sequence INTEGER;
)sql",
    // 4: alerts reach the FHIR server (sync/), and readings are found per device. An alert changes after it is raised (acknowledged,
    // escalated, closed): `revision` counts the changes the server must see, `synced_revision` the newest
    // it has, so a change made while an upload is in flight is never marked as sent. sync_state (from
    // version 2) is 0 while the server lags, 1 when it is current, 2 when it refused the alert.
    R"sql(
ALTER TABLE alerts ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
ALTER TABLE alerts ADD COLUMN synced_revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN server_id TEXT;
ALTER TABLE alerts ADD COLUMN sync_error TEXT;
CREATE INDEX alerts_unsynced ON alerts (raised_ms) WHERE sync_state != 1;
-- Per device in time order: the uploader's aggregation windows and a device's newest reading for status.
CREATE INDEX readings_device_time ON readings (device, time_ms);
)sql",
    // 5: quarantine (design.md invariant 8). A reading whose time is later than its receipt plus the tolerance
    // is stored with sync_state 3 and the reason; the uploader's queue (sync_state 0) never holds it. Pending
    // readings an older carehub stored with such a time are quarantined here, with the default tolerance of
    // 5 minutes (the configuration is not known to a migration); synced and dead ones stay as they are. The
    // kept per-state counts are dropped so the writer counts once with the new state.
    R"sql(
ALTER TABLE readings ADD COLUMN quarantine_reason TEXT;
CREATE INDEX readings_quarantined ON readings (seq) WHERE sync_state = 3;
UPDATE readings SET sync_state = 3,
  quarantine_reason = 'time ' || strftime('%Y-%m-%dT%H:%M:%SZ', time_ms / 1000, 'unixepoch') ||
    ' is ' || ((time_ms - received_ms) / 1000) || ' s after the hub received it (' ||
    strftime('%Y-%m-%dT%H:%M:%SZ', received_ms / 1000, 'unixepoch') ||
    '; tolerance 300 s): a device clock set ahead? (quarantined when the buffer was upgraded)'
  WHERE sync_state = 0 AND time_ms > received_ms + 300000;
DELETE FROM meta WHERE key = 'reading_counts';
)sql",
    // 6: attribution (design.md invariant 7, core/attribution.hpp). Readings keep their device's user slot
    // and, when not attributed with certainty, are stored unassigned (sync_state 4, empty patient, the
    // reason) until a technician assigns them (then pending under the patient, the old uid kept as an alias
    // so a resend of the same record is a duplicate) or discards them (sync_state 5, who, when, why).
    // User slots are bound per device (bindings). Devices keep when they were bound to their patient (NULL
    // for those registered before: nobody knows, so their readings attribute as before) and the Device
    // Information Service fields. Alerts raised from readings assigned late are marked retrospective.
    // No existing reading changes state, so the kept per-state counts stay valid; they gain two states.
    R"sql(
ALTER TABLE readings ADD COLUMN user_index INTEGER;
ALTER TABLE readings ADD COLUMN unassigned_reason TEXT;
ALTER TABLE readings ADD COLUMN resolved_by TEXT;
ALTER TABLE readings ADD COLUMN resolved_ms INTEGER;
ALTER TABLE readings ADD COLUMN discard_reason TEXT;
-- One partial index per state: SQLite uses a partial index only when the query's WHERE names its exact term.
CREATE INDEX readings_unassigned ON readings (seq) WHERE sync_state = 4;
CREATE INDEX readings_discarded ON readings (seq) WHERE sync_state = 5;
CREATE TABLE reading_aliases (
  old_uid TEXT PRIMARY KEY,
  uid     TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE bindings (
  device   TEXT NOT NULL,
  user     INTEGER NOT NULL,
  patient  TEXT NOT NULL,
  since_ms INTEGER NOT NULL,
  bound_by TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (device, user)
);
ALTER TABLE devices ADD COLUMN bound_since_ms INTEGER;
ALTER TABLE devices ADD COLUMN manufacturer TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN firmware_revision TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN hardware_revision TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN software_revision TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN system_id TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN battery_percent INTEGER;
ALTER TABLE alerts ADD COLUMN retrospective INTEGER NOT NULL DEFAULT 0;
UPDATE meta SET value = json_set(value, '$.unassigned', 0, '$.discarded', 0) WHERE key = 'reading_counts';
)sql",
    // 6 -> 7: who acknowledged an alert (the patient on the display, or a technician on their behalf, with
    // the reason), so the clinician and an audit can tell them apart. Older acknowledgements stay unnamed.
    // And until when a repeat request's repeat still counts (the patient's countdown).
    R"sql(
ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN repeat_by_ms INTEGER;
)sql",
    // 7 -> 8: the audit trail (issue 18, store/store_audit.cpp). Every action that changes clinical state
    // (pairing, assigning, acknowledging, resolving dead letters and unassigned readings, reloading the
    // configuration) leaves a row: who (the peer's uid or the web login), what, when, the entities it touched
    // and how it ended, written in the change's own transaction. The rows are append-only (the triggers) and
    // kept until the FHIR server holds them as AuditEvents (sync_state 1), like a dead letter otherwise.
    R"sql(
CREATE TABLE audit_events (
  seq           INTEGER PRIMARY KEY,
  uid           TEXT NOT NULL UNIQUE,
  time_ms       INTEGER NOT NULL,
  action        TEXT NOT NULL,
  actor         TEXT NOT NULL,
  actor_kind    TEXT NOT NULL,
  on_behalf_of  TEXT NOT NULL DEFAULT '',
  patient       TEXT NOT NULL DEFAULT '',
  entities_json TEXT NOT NULL DEFAULT '[]',
  outcome       TEXT NOT NULL,
  detail        TEXT NOT NULL DEFAULT '',
  sync_state    INTEGER NOT NULL DEFAULT 0,
  attempts      INTEGER NOT NULL DEFAULT 0,
  server_id     TEXT,
  sync_error    TEXT
);
CREATE INDEX audit_events_unsynced ON audit_events (seq) WHERE sync_state = 0;
CREATE INDEX audit_events_time ON audit_events (time_ms);
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OF uid, time_ms, action, actor, actor_kind, on_behalf_of,
  patient, entities_json, outcome, detail ON audit_events
BEGIN
  SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
CREATE TRIGGER audit_events_kept BEFORE DELETE ON audit_events WHEN OLD.sync_state != 1
BEGIN
  SELECT RAISE(ABORT, 'an audit event is kept until the FHIR server holds it');
END;
)sql",
    // 8 -> 9: consent (issue 18, store/store_consent.cpp): per patient ("*": the default), which kinds may
    // leave the hub. Append-only, like the audit trail: what was in force when a reading was measured must
    // stay answerable. Readings of a kind without consent are withheld (sync_state 6): judged, never uploaded.
    // No record means allowed, so an upgraded hub uploads exactly as before; no reading changes state here.
    R"sql(
CREATE TABLE consent (
  id       INTEGER PRIMARY KEY,
  patient  TEXT NOT NULL,
  kind     TEXT NOT NULL,
  allowed  INTEGER NOT NULL,
  since_ms INTEGER NOT NULL,
  set_by   TEXT NOT NULL DEFAULT '',
  reason   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consent_patient_kind ON consent (patient, kind, since_ms);
CREATE TRIGGER consent_append_only BEFORE UPDATE ON consent
BEGIN
  SELECT RAISE(ABORT, 'the consent record is append-only');
END;
CREATE TRIGGER consent_kept BEFORE DELETE ON consent
BEGIN
  SELECT RAISE(ABORT, 'the consent record is kept');
END;
CREATE INDEX readings_withheld ON readings (seq) WHERE sync_state = 6;
UPDATE meta SET value = json_set(value, '$.withheld', 0) WHERE key = 'reading_counts';
)sql",
};

}  // namespace

Result<void> migrate(sqlite::Database& db, int target) {
  auto version = db.query_int("PRAGMA user_version");
  if (!version) return version.error();
  if (*version > kCurrentVersion) {
    return make_error(Errc::invalid_argument, "database schema version " + std::to_string(*version) +
                                                  " is newer than this carehub supports (" +
                                                  std::to_string(kCurrentVersion) + "); refusing to open it");
  }
  for (auto v = *version; v < std::min<std::int64_t>(target, kCurrentVersion); ++v) {
    auto tx = sqlite::Transaction::begin(db);
    if (!tx) return tx.error();
    if (auto r = db.exec(kMigrations[static_cast<std::size_t>(v)]); !r) return r.error();
    if (auto r = db.exec("PRAGMA user_version = " + std::to_string(v + 1)); !r) return r.error();
    if (auto r = tx->commit(); !r) return r.error();
  }
  return {};
}

}  // namespace carehub::schema
