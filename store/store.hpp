#pragma once
// The durable buffer. One StoreWriter (owned by the pipeline's single writer thread) changes the
// database; any number of StoreReaders, each on its own connection and thread, read it. WAL mode lets
// readers run while the writer commits. SQLite itself stays behind this header (store/store_impl.hpp).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.hpp"
#include "core/device.hpp"
#include "core/reading.hpp"
#include "core/result.hpp"
#include "store/audit.hpp"
#include "store/buffer_key.hpp"
#include "store/rule_store.hpp"
#include "store/transaction.hpp"

namespace carehub {

enum class Synchronous { normal, full, extra };

struct StoreOptions {
  std::string path;
  // FULL: a commit survives power loss, the promise behind acknowledging a reading (invariant 1).
  Synchronous synchronous = Synchronous::full;
  // The buffer's size cap (/store/max_bytes): the database's pages in use (page_count minus the free
  // list) times the page size. Reaching it sheds by priority (StoreWriter::enforce_cap); 0: no cap.
  std::int64_t max_bytes = std::int64_t{256} << 20;
  // Synced readings whose time is older than this many days are pruned (/store/retention_days); 0: kept
  // until the size cap sheds them. Unsynced readings (pending, dead, quarantined) and alerts are never pruned.
  int retention_days = 30;
  // A hard limit on the file (SQLite's max_page_count): writes beyond it fail exactly as on a full disk.
  // 0: none. Not a configuration key: tests use it to produce SQLITE_FULL without a small filesystem.
  std::int64_t max_pages = 0;
  // The key the buffer is encrypted with (SQLCipher, store/buffer_key.hpp; issue 18). A new buffer is
  // created encrypted; an existing one that does not open with it fails to open (Errc::invalid_argument),
  // a plaintext one included: store/buffer_migration.hpp encrypts that first. Empty: a plaintext buffer,
  // for tests and tools; carehubd always has one.
  std::optional<BufferKey> key = std::nullopt;
};

// quarantined: stored with an effective time that cannot be believed (later than its receipt plus the
// tolerance, design.md invariant 8). Never judged by the rules, never uploaded, never counted as pending;
// kept (not pruned, not shed) for a technician, like a dead letter.
// unassigned: not attributed to a patient with certainty (core/attribution.hpp, design.md invariant 7): an
// unbound user slot, a reading older than its device's binding. Stored with an empty patient; never judged,
// never uploaded, never counted as pending, never pruned nor shed, until a technician assigns it (then it
// is pending under its patient) or discards it. discarded: a technician decided it belongs to nobody on
// this hub; kept, with who and when, never judged nor uploaded.
// withheld: its patient does not consent to this kind leaving the hub (store_consent.cpp). Judged by the
// rules like any reading, never uploaded, never counted as pending (nor as a sync backlog).
enum class SyncState { pending = 0, synced = 1, dead = 2, quarantined = 3, unassigned = 4, discarded = 5, withheld = 6 };
std::string_view to_string(SyncState s);

struct StoredReading {
  std::int64_t seq = 0;  // arrival order
  std::string uid;       // de-duplication identity, reading_uid()
  Reading reading;
  SyncState state = SyncState::pending;
  int attempts = 0;
  std::string server_id;    // the Observation's id on the FHIR server once synced
  std::string dead_reason;  // the server's OperationOutcome (JSON) or a description
  std::string quarantine_reason{};  // why its time is not believed (implausible_future), when quarantined
  std::string unassigned_reason{};  // why it was not attributed (kept after it is assigned or discarded)
  std::string resolved_by{};        // who assigned or discarded it
  std::optional<TimePoint> resolved{};
  std::string discard_reason{};
};

// What assigning one unassigned reading did (StoreWriter::assign_readings).
struct AssignedReading {
  std::string old_uid;  // its id while unassigned; a resend of it is a duplicate from now on
  std::string uid;      // its id under the patient
  // The same record was already stored under that patient: nothing new is stored nor judged.
  bool already_stored = false;
};

struct StoreCounts {
  std::int64_t pending = 0;
  std::int64_t synced = 0;
  std::int64_t dead = 0;
  std::int64_t quarantined = 0;
  std::int64_t unassigned = 0;  // awaiting a technician (carehubctl readings unassigned)
  std::int64_t discarded = 0;
  std::int64_t withheld = 0;    // kept and judged, never uploaded: no consent for their kind (store_consent.cpp)
  std::int64_t bytes = 0;       // database file size (page_count * page_size)
  std::int64_t used_bytes = 0;  // pages in use (page_count - freelist_count) * page_size: what the cap measures
};

// What one enforcement of the size cap found and did (StoreWriter::enforce_cap).
struct SpaceReport {
  std::int64_t used_bytes = 0;  // after shedding
  std::int64_t max_bytes = 0;   // the cap it was held to (0: none)
  std::int64_t shed_synced = 0;       // tier 1: synced readings, oldest first
  std::int64_t shed_environment = 0;  // tier 2: unsynced environmental streams (room, light, motion)
  std::int64_t shed_stream = 0;       // tier 3: unsynced wearable stream samples (heart-rate, steps)
  bool full = false;  // still at the cap with nothing left to shed: new readings must be refused
  std::int64_t shed() const { return shed_synced + shed_environment + shed_stream; }
};

struct PruneReport {
  std::int64_t deleted = 0;
  std::int64_t next_seq = 0;
};

// One piece of a rule's persisted state (an open episode, a kind's last reading time...), keyed by rule,
// patient and a rule-defined key. `due` is when the rule next needs the clock, if ever.
struct RuleState {
  std::string rule;
  std::string patient;
  std::string key;
  std::string state_json;
  std::optional<TimePoint> due;

  bool operator==(const RuleState&) const = default;
};

struct AlertQuery {
  bool include_closed = false;
  std::size_t limit = 100;  // newest first
};

struct AlertCounts {
  std::int64_t open = 0;
  std::int64_t acknowledged = 0;
  std::int64_t unacknowledged_red = 0;  // open alerts the patient must still acknowledge
};

// Consent (store_consent.cpp): which kinds of a patient's readings may leave the hub. The record is
// append-only; what is in force for a (patient, kind) is its newest change, else the default's ("*"), else
// allowed (a hub upgraded from before consent uploads as it did). A reading is uploaded only when its kind
// was allowed both when it was measured and now: withdrawing consent withholds what has not left yet (its
// pending and dead-lettered readings), granting it again does not release what was measured meanwhile
// unless asked to (the patient consents to share from then on, FHIR Consent.provision.dataPeriod).
inline constexpr std::string_view kConsentDefault = "*";  // the patient of the default policy's records

struct ConsentChange {
  std::string patient;  // "Patient/<id>", or kConsentDefault
  Kind kind = Kind::blood_pressure;
  bool allowed = true;
  TimePoint since{};   // in force from (the hub's clock when it was set)
  std::string by;      // who set it (daemon/command_args.hpp who())
  std::string reason;  // optional, the technician's words
};

// What setting one consent did to the stored readings.
struct ConsentApplied {
  std::int64_t withheld = 0;  // pending or dead-lettered readings now withheld (a withdrawal)
  std::int64_t released = 0;  // withheld readings now pending (a grant with release_withheld)
};

// Withheld readings per patient and kind (StoreReader::withheld_counts).
struct WithheldCount {
  std::string patient;
  Kind kind = Kind::blood_pressure;
  std::int64_t count = 0;
};

class StoreWriter : public RuleStore {
 public:
  // Opens or creates the database and brings its schema to the current version.
  static Result<std::unique_ptr<StoreWriter>> open(const StoreOptions& options);
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // All writes happen inside a transaction begun here (the pipeline's group commit). Its commit also
  // stores the readings' per-state counts, kept up to date by every write below, so counting never
  // scans the table (StoreReader::counts).
  // without_fsync: the commit is atomic but not synced (synchronous=NORMAL), for changes that may be lost
  // at a power cut (sync outcomes: Durability::deferred in pipeline.hpp). In WAL mode the next durable
  // commit syncs it too. Every durable begin() restores the configured setting first, or fails.
  enum class Commit { durable, without_fsync };
  Result<StoreTransaction> begin(Commit commit = Commit::durable);
  // What the open (or next) transaction's commit does: the connection's PRAGMA synchronous.
  Result<Synchronous> synchronous();
  // Savepoints isolate one operation inside the group transaction.
  Result<void> savepoint();
  Result<void> release();
  Result<void> rollback_to_savepoint();

  // The size cap and retention (store_space.cpp). Both delete only what invariant 3 allows.
  // Pages in use times the page size (what max_bytes is compared with).
  Result<std::int64_t> used_bytes();
  // What the filesystem holding the database still offers an unprivileged writer.
  Result<std::int64_t> free_disk_bytes() const;
  // When the pages in use reach `max_bytes` (0: the configured cap), deletes readings by priority until
  // they are below 90% of it: synced readings (oldest first), then unsynced environmental streams, then
  // unsynced wearable stream samples (heart-rate, steps). Never an alert, never an unsynced spot
  // measurement (blood pressure, weight, temperature, SpO2, glucose), never a dead-lettered reading.
  Result<SpaceReport> enforce_cap(std::int64_t max_bytes = 0);
  // Retention: among the `window` readings after `after_seq` in arrival order, deletes the synced ones
  // whose time is before `before`. Call again from next_seq (0 when the pass reached the newest).
  Result<PruneReport> prune_synced(TimePoint before, std::int64_t after_seq, std::int64_t window);
  const StoreOptions& options() const { return options_; }

  // Inserts unless a reading with the same uid is stored; true when inserted. A non-empty
  // `quarantine_reason` stores it quarantined (SyncState::quarantined) with that reason.
  // A non-empty `unassigned_reason` stores it unassigned (its patient must be empty), also when quarantined:
  // the quarantine reason is kept and applies once it is assigned. A uid that names a reading assigned
  // since (reading_aliases) is a duplicate too.
  Result<bool> insert_reading(const Reading& r, const std::string& uid, std::string_view quarantine_reason = {},
                              std::string_view unassigned_reason = {});
  Result<void> mark_synced(std::int64_t seq, const std::string& server_id, TimePoint when);
  Result<void> mark_dead(std::int64_t seq, const std::string& reason);
  Result<void> mark_attempt(std::int64_t seq);
  // Moves dead-lettered readings and alerts back to pending (after a fix); returns how many.
  Result<std::int64_t> requeue_dead();

  // Alert sync (store_alerts.cpp). Synced only if no newer change arrived meanwhile.
  Result<void> mark_alert_synced(const std::string& id, std::int64_t revision, const std::string& server_id);
  Result<void> mark_alert_dead(const std::string& id, std::int64_t revision, const std::string& reason);

  Result<void> upsert_device(const Device& d);
  Result<bool> remove_device(const std::string& id);

  // User-slot bindings (store_unassigned.cpp). put_binding inserts or replaces (device, user).
  Result<void> put_binding(const UserBinding& b);
  Result<bool> remove_binding(const std::string& device, int user);
  Result<std::vector<UserBinding>> bindings();

  // Resolution of unassigned readings (store_unassigned.cpp), all or nothing: an unknown uid, or one that
  // is neither unassigned nor discarded, fails the call and changes nothing. Assigned readings get the
  // patient and the uid reading_uid() gives them under it, and become pending (quarantined when their time
  // was not believed); the old uid stays an alias of the new one. When that record is already stored under
  // the patient, the unassigned copy is removed (its alias names the stored one). Returns the outcome per
  // uid, in the order asked; `assigned` receives what the rules must now judge (new readings only).
  // `hub_id` is the pipeline's (PipelineOptions::hub_id): an assigned reading gets the uid it would have had
  // if it had been attributed on arrival.
  Result<std::vector<AssignedReading>> assign_readings(const std::vector<std::string>& uids, const std::string& patient,
                                                       const std::string& who, TimePoint now,
                                                       std::vector<StoredReading>* assigned = nullptr,
                                                       std::string_view hub_id = {});
  // Marks unassigned or dead-lettered readings discarded (never sent, kept), with who, when and why. Returns
  // how many changed (a discarded one stays as it was); all or nothing, naming any uid in another state.
  Result<std::int64_t> discard_readings(const std::vector<std::string>& uids, const std::string& who,
                                        const std::string& reason, TimePoint now);

  Result<void> put_meta(const std::string& key, const std::string& value);

  // The audit trail (store_audit.cpp, store/audit.hpp). insert_audit stores one row (a fresh uid when it has
  // none, the seq assigned); call it in the transaction of the change it records. The rest is the upload's
  // bookkeeping, which the rows' triggers allow (who, what, when and the outcome never change).
  Result<std::int64_t> insert_audit(const AuditEvent& e);
  Result<void> mark_audit_synced(std::int64_t seq, const std::string& server_id);
  Result<void> mark_audit_dead(std::int64_t seq, const std::string& reason);
  Result<void> mark_audit_attempt(std::int64_t seq);

  // Consent (store_consent.cpp). Appends the change and applies it to the stored readings of that patient
  // (of every patient without a record of their own for the kind, for kConsentDefault): a withdrawal
  // withholds its pending and dead-lettered ones; a grant with `release_withheld` makes its withheld ones
  // pending. Fails for an empty patient. Call it inside a transaction with the change's audit record.
  Result<ConsentApplied> set_consent(const ConsentChange& change, bool release_withheld = false);
  // Whether a reading of `kind` by `patient` measured at `time` is withheld (see ConsentChange). An empty
  // patient (unassigned) is not: it is never uploaded anyway, and is judged again when assigned.
  Result<bool> withholds(const std::string& patient, Kind kind, TimePoint time);

  // Decision support (store_alerts.cpp). Reads here see the open transaction's own writes.
  Result<void> put_alert(const Alert& a);  // inserts or replaces by id
  Result<std::optional<Alert>> find_alert(const std::string& id);
  // Open alerts awaiting acknowledgement whose reminder or escalation time has come.
  Result<std::vector<Alert>> alerts_due(TimePoint now);
  Result<std::optional<RuleState>> rule_state(const std::string& rule, const std::string& patient,
                                              const std::string& key);
  Result<void> put_rule_state(const RuleState& s);
  Result<void> erase_rule_state(const std::string& rule, const std::string& patient, const std::string& key);
  Result<std::vector<RuleState>> rule_states_due(TimePoint now);
  // The earliest time anything stored needs the clock (a deadline, a reminder, an escalation, an
  // inactivity limit), so a simulator can step a virtual clock from event to event.
  Result<std::optional<TimePoint>> next_due();
  // A patient's readings of one kind with from <= time <= to, oldest first; quarantined ones never.
  Result<std::vector<StoredReading>> readings_between(const std::string& patient, Kind kind, TimePoint from,
                                                      TimePoint to);

 private:
  struct Impl;         // the connection, its prepared statements and the counts (store/store_impl.hpp)
  struct StateCounts;  // per-state reading counts: as committed, and the open transaction's delta
  StoreWriter(std::unique_ptr<Impl> impl, StoreOptions options);
  Result<void> prepare_statements();
  Result<void> load_counts();
  Result<void> store_counts(const StateCounts& c);
  Result<void> count_change(std::int64_t from_state, std::int64_t to_state, std::int64_t n);
  Result<std::int64_t> state_of(std::int64_t seq);
  Result<std::int64_t> shed_tier(std::string_view where, std::int64_t target, std::int64_t state,
                                 std::int64_t& used);
  std::unique_ptr<Impl> impl_;
  StoreOptions options_;
};

struct ReadingQuery {
  std::optional<SyncState> state;
  std::int64_t after_seq = 0;  // pages oldest first from here
  std::size_t limit = 100;
  bool newest_first = false;
  // Narrowing filters (all optional): one device and kind within [from, to) (the uploader's aggregation
  // windows), or a set of uids (an alert's evidence).
  std::optional<std::string> device{};
  std::optional<Kind> kind{};
  std::optional<TimePoint> from{}, to{};
  std::vector<std::string> uids{};
  // Only readings whose device's own time stamp is this instant (with `device`: the BLE resend guard).
  std::optional<TimePoint> device_time{};
  // Order by measurement time instead of arrival (with `device`: served by an index).
  bool by_time = false;
};

// An alert whose newest change the FHIR server has not yet seen (store_alerts.cpp).
struct AlertToSync {
  Alert alert;
  std::int64_t revision = 0;  // the change to send; mark_alert_synced() names it back
  std::string server_id;      // "DetectedIssue/<id>" once created, else empty
};

struct AlertSyncCounts {
  std::int64_t pending = 0;
  std::int64_t dead = 0;
};

struct DeadAlert {
  std::string id;
  std::string rule;
  TimePoint raised{};
  std::string reason;
};

class StoreReader {
 public:
  // The database must exist (a StoreWriter created it).
  static Result<std::unique_ptr<StoreReader>> open(const StoreOptions& options);
  ~StoreReader();
  StoreReader(const StoreReader&) = delete;
  StoreReader& operator=(const StoreReader&) = delete;

  Result<std::vector<StoredReading>> readings(const ReadingQuery& q);
  Result<StoreCounts> counts();
  Result<std::vector<Device>> devices();
  // User-slot bindings, by device and user (store_unassigned.cpp).
  Result<std::vector<UserBinding>> bindings();
  Result<std::optional<std::string>> meta(const std::string& key);
  Result<std::vector<Alert>> alerts(const AlertQuery& q);
  Result<std::optional<Alert>> find_alert(const std::string& id);
  Result<AlertCounts> alert_counts();
  // Alerts the FHIR server lags behind on, oldest first (store_alerts.cpp).
  Result<std::vector<AlertToSync>> alerts_to_sync(std::size_t limit);
  Result<AlertSyncCounts> alert_sync_counts();
  Result<std::vector<DeadAlert>> dead_alerts(std::size_t limit);
  // The audit trail (store_audit.cpp): newest first, filtered; and the rows the FHIR server lacks, oldest first.
  Result<std::vector<AuditEvent>> audit_events(const AuditQuery& q);
  Result<std::vector<AuditEvent>> audit_to_sync(std::size_t limit);
  // Consent (store_consent.cpp): the change in force per (patient, kind), patients in order with the
  // default ("*") first; only `patient`'s (and the default's) when given. Kinds with no record are absent.
  Result<std::vector<ConsentChange>> consent(const std::optional<std::string>& patient = std::nullopt);
  // Every change, oldest first (the record a dispute needs).
  Result<std::vector<ConsentChange>> consent_history(const std::optional<std::string>& patient = std::nullopt);
  // Withheld readings per patient and kind (scans the withheld ones only: the readings_withheld index).
  Result<std::vector<WithheldCount>> withheld_counts();

 private:
  struct Impl;  // the connection (store/store_impl.hpp)
  explicit StoreReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace carehub
