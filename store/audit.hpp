#pragma once
// The audit trail (issue 18): who changed clinical state, what, when, and how it ended. Rows live in the
// buffer (schema 8, store/store_audit.cpp), are append-only, and reach the FHIR server as AuditEvents
// (sync/audit_upload.hpp).
//
// "Same transaction": an audited action runs inside an audit::Scope on the thread that asks for it (the
// control socket's dispatch, daemon/commands/table.cpp). Every pipeline operation that thread enqueues
// while the scope lives carries the scope's row (attach(), called by Pipeline::enqueue): the row is
// inserted in the operation's own savepoint right after the change, so the change and its record commit
// together or not at all. What the scope's changes did not record (a refusal, a failure, a change made
// outside the store such as a configuration reload or the BLE source's own pairing) is recorded after the
// action with its outcome (StoreWriter::insert_audit through Pipeline::apply).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/alert.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"

namespace carehub {

class StoreWriter;

// FHIR's AuditEvent.outcome: success 0, refused (the request was wrong or not allowed: minor failure 4),
// failed (the change was attempted and did not happen: serious failure 8).
enum class AuditOutcome { success, refused, failed };
std::string_view to_string(AuditOutcome o);
std::optional<AuditOutcome> audit_outcome_from_string(std::string_view s);

// What an action touched, by carehub's own id: "Device" ble-aa-…, "DetectedIssue" <alert id>,
// "Observation" <reading uid>, "Patient" Patient/…, "Configuration" <file>.
struct AuditEntity {
  std::string type;
  std::string id;
  bool operator==(const AuditEntity&) const = default;
};

// Who: "unix" (the control socket's peer, SO_PEERCRED: "uid 1000 (anna)"), "web" (a carehub-web login,
// vouched for by the web service's uid: "web anna via uid 998 (carehub-web)"), "system" (a signal,
// start-up).
struct AuditActor {
  std::string kind;
  std::string name;
};

struct AuditEvent {
  std::int64_t seq = 0;  // arrival order, set when stored
  std::string uid;       // stable identity (the AuditEvent's id on the server); generated when empty
  TimePoint time{};
  std::string action;  // the command: "devices.pair", "alerts.ack", "config.reload", "consent.set"…
  AuditActor actor;
  std::string on_behalf_of;  // the patient a technician acted for (an acknowledgement on their behalf)
  std::string patient;       // the patient whose data changed, when one did
  std::vector<AuditEntity> entities;
  AuditOutcome outcome = AuditOutcome::success;
  std::string detail;  // the error for a refusal or a failure; a short summary otherwise
  // Upload state (like a reading's): 0 pending, 1 on the server, 2 refused by it.
  int sync_state = 0;
  int attempts = 0;
  std::string server_id{};
  std::string sync_error{};
};

struct AuditQuery {
  std::optional<TimePoint> since{};
  std::string actor{};   // a substring of the actor's name
  std::string action{};  // exact, or a prefix ending in '.' ("devices.")
  std::size_t limit = 100;  // newest first
};

namespace audit {

// A fresh uid for a row: "audit-" and 32 random hex digits (a valid FHIR id, never all digits).
std::string new_uid();

// An audited action on the calling thread. Scopes nest (the innermost records); each is the thread's own.
class Scope {
 public:
  // `clock` stamps the rows; it outlives the scope.
  Scope(AuditEvent action, const Clock& clock);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

  // How many rows the scope's operations have recorded so far, each with its change.
  std::size_t recorded() const;
  // The action as begun, for the row recorded after it (outcome and detail set by the caller).
  AuditEvent event() const;

  struct State;  // shared with the operations it tagged (they may outlive it on the writer thread)

 private:
  std::shared_ptr<State> state_;
  std::shared_ptr<State> previous_;  // the enclosing scope's, restored when this one ends
};

// The pipeline's hook (Pipeline::enqueue): `op` unchanged outside a scope; inside one, `op` followed, when it
// succeeded, by the insert of the scope's row. A row that cannot be stored fails the operation, so the
// savepoint undoes the change with it: no clinical change is ever committed unrecorded.
using Op = std::function<Result<std::vector<AlertEvent>>(StoreWriter&)>;
Op attach(Op op);

}  // namespace audit
}  // namespace carehub
