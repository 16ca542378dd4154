#pragma once
// The durable buffer. One StoreWriter (owned by the pipeline's single writer thread) changes the
// database; any number of StoreReaders, each on its own connection and thread, read it. WAL mode lets
// readers run while the writer commits.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/alert.hpp"
#include "core/device.hpp"
#include "core/reading.hpp"
#include "core/result.hpp"
#include "core/sqlite.hpp"

namespace carehub {

enum class Synchronous { normal, full, extra };

struct StoreOptions {
  std::string path;
  // FULL: a commit survives power loss, the promise behind acknowledging a reading (invariant 1).
  Synchronous synchronous = Synchronous::full;
};

enum class SyncState { pending = 0, synced = 1, dead = 2 };
std::string_view to_string(SyncState s);

struct StoredReading {
  std::int64_t seq = 0;  // arrival order
  std::string uid;       // de-duplication identity, reading_uid()
  Reading reading;
  SyncState state = SyncState::pending;
  int attempts = 0;
  std::string server_id;    // the Observation's id on the FHIR server once synced
  std::string dead_reason;  // the server's OperationOutcome (JSON) or a description
};

struct StoreCounts {
  std::int64_t pending = 0;
  std::int64_t synced = 0;
  std::int64_t dead = 0;
  std::int64_t bytes = 0;  // database file size (page_count * page_size)
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

class StoreWriter {
 public:
  // Opens or creates the database and brings its schema to the current version.
  static Result<std::unique_ptr<StoreWriter>> open(const StoreOptions& options);

  // All writes happen inside a transaction begun here (the pipeline's group commit).
  Result<sqlite::Transaction> begin() { return sqlite::Transaction::begin(db_); }
  // Savepoints isolate one operation inside the group transaction.
  Result<void> savepoint() { return db_.exec("SAVEPOINT op"); }
  Result<void> release() { return db_.exec("RELEASE op"); }
  Result<void> rollback_to_savepoint() { return db_.exec("ROLLBACK TO op; RELEASE op"); }

  // Inserts unless a reading with the same uid is stored; true when inserted.
  Result<bool> insert_reading(const Reading& r, const std::string& uid);
  Result<void> mark_synced(std::int64_t seq, const std::string& server_id, TimePoint when);
  Result<void> mark_dead(std::int64_t seq, const std::string& reason);
  Result<void> mark_attempt(std::int64_t seq);
  // Moves dead-lettered readings back to pending (after a fix); returns how many.
  Result<std::int64_t> requeue_dead();

  Result<void> upsert_device(const Device& d);
  Result<bool> remove_device(const std::string& id);

  Result<void> put_meta(const std::string& key, const std::string& value);

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
  // A patient's readings of one kind with from <= time <= to, oldest first.
  Result<std::vector<StoredReading>> readings_between(const std::string& patient, Kind kind, TimePoint from,
                                                      TimePoint to);

 private:
  explicit StoreWriter(sqlite::Database db) : db_(std::move(db)) {}
  Result<void> prepare_statements();
  // Rule statements are prepared on first use and kept (the writer runs them once per reading).
  Result<sqlite::Statement*> cached(const std::string& sql);
  std::unordered_map<std::string, sqlite::Statement> cache_;
  sqlite::Database db_;
  sqlite::Statement insert_reading_, mark_synced_, mark_dead_, mark_attempt_, upsert_device_, remove_device_,
      put_meta_;
};

struct ReadingQuery {
  std::optional<SyncState> state;
  std::int64_t after_seq = 0;  // pages oldest first from here
  std::size_t limit = 100;
  bool newest_first = false;
};

class StoreReader {
 public:
  // The database must exist (a StoreWriter created it).
  static Result<std::unique_ptr<StoreReader>> open(const StoreOptions& options);

  Result<std::vector<StoredReading>> readings(const ReadingQuery& q);
  Result<StoreCounts> counts();
  Result<std::vector<Device>> devices();
  Result<std::optional<std::string>> meta(const std::string& key);
  Result<std::vector<Alert>> alerts(const AlertQuery& q);
  Result<std::optional<Alert>> find_alert(const std::string& id);
  Result<AlertCounts> alert_counts();

 private:
  explicit StoreReader(sqlite::Database db) : db_(std::move(db)) {}
  sqlite::Database db_;
};

}  // namespace carehub
