#pragma once
// The ingest pipeline: a bounded queue drained by one writer thread that commits whatever is queued in
// one SQLite transaction (group commit). A reading's future resolves only after its transaction is
// durable, so a source acknowledges only what survives a power cut (invariant 1).
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/attribution.hpp"
#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/log.hpp"
#include "core/source.hpp"
#include "store/batch_hook.hpp"
#include "store/pipeline_space.hpp"
#include "store/store.hpp"

namespace carehub {

struct PipelineOptions {
  std::size_t queue_capacity = 20000;  // readings waiting for the writer; producers block beyond it
  std::size_t max_batch = 5000;        // readings in one transaction
  // The commit window: while readings keep coming, a transaction gathers them for up to `commit_window`
  // after the previous commit began, so a steady stream costs one fsync per window rather than one per
  // reading or two. It closes at once when a reading in it raises or changes an alert (an alert is never
  // held back), when an operation joins it (someone waits for each: an acknowledgement, a registry change,
  // the uploader's outcomes before its next request), at stop, once it holds `commit_window_readings` (a
  // source that waits for its acknowledgements, like an MQTT broker's in-flight window of 20, must not
  // wait out the window), and when nothing more arrives within `commit_gap`. A hub idle for a window
  // commits its next reading at once. Zero: commit whatever is queued as soon as the writer is free.
  Millis commit_window{0};
  Millis commit_gap{2};
  std::size_t commit_window_readings = 16;
  // The window is about the disk's cost, so it runs on real time, as the heartbeat does, whatever clock
  // the pipeline judges time on (a daemon test's ManualClock must not hold a window open for ever). A
  // test of the window itself gives it a ManualClock here.
  const Clock* window_clock = nullptr;
  Millis heartbeat{1000};              // the loop runs at least this often, idle or not
  std::string default_patient;         // the kit's patient, for devices not bound to another one
  std::string hub_id{};                // /hub/id: qualifies hub-local device ids in reading uids (reading_uid)
  // A reading whose time is later than its receipt plus this is stored quarantined (implausible_future).
  Millis max_future = kDefaultMaxFuture;
};

// How durable a write operation must be when its future resolves.
enum class Durability {
  full,  // on disk (the store's synchronous setting, FULL by default), like every reading
  // A sync outcome: losing it at a power cut only sends again what the server already holds, and
  // conditional creates and updates keep that exactly-once. A transaction holding nothing else commits
  // without an fsync of its own (synchronous=NORMAL); in WAL mode it is atomic all the same, and the next
  // FULL commit (any reading) makes it durable with it. Readings, alerts and registry changes never wait
  // for one of these, nor share its relaxed commit.
  deferred,
};

// Runs on the writer thread inside the group transaction, isolated by a savepoint: when it fails, only
// its own changes are undone.
using WriteOp = std::function<Result<void>(StoreWriter&)>;
// The same, for an operation that changes alerts (an acknowledgement): its events reach the commit
// listeners with the transaction's other alert events, after the commit.
using AlertOp = std::function<Result<std::vector<AlertEvent>>(StoreWriter&)>;

struct CommitSummary {
  std::size_t stored = 0;
  std::size_t duplicates = 0;
  std::size_t rejected = 0;
  std::size_t quarantined = 0;  // among `stored`: kept, but never judged nor uploaded
  std::size_t unassigned = 0;   // among `stored`: not attributed to a patient (core/attribution.hpp)
  std::size_t ops = 0;
  std::vector<AlertEvent> alerts;  // alerts raised or changed in this transaction (durable now)
};

class Pipeline final : public ReadingSink {
 public:
  // `clock` gives the wall time (receipt bounds, bindings, the hook's `now`, retention's horizon) and the
  // monotonic time that paces the hook's ticks, retention and the disk-full probe. The
  // writer loop still wakes at least every options.heartbeat of real time (the systemd watchdog counts real
  // time); what is due at a wake is judged on `clock`. It outlives the pipeline.
  Pipeline(StoreWriter& store, const Clock& clock, Logger& log, Counters& counters, PipelineOptions options);
  ~Pipeline() override;
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Registry bindings device id -> patient used to attribute readings (loaded at start, then kept in
  // step with upsert_device/remove_device). User-slot bindings are loaded from the store by start().
  void load_devices(const std::vector<Device>& devices);

  // Decision support in the commit path (before start()): `hook` sees each transaction's new readings
  // and is ticked whenever a heartbeat has passed on the pipeline's clock. It outlives the pipeline.
  void set_batch_hook(BatchHook& hook);
  // Ticks the hook now (tests step a ManualClock, then call this); resolves after the commit with the
  // tick's alert events (commit listeners hear of them just after).
  std::future<Result<std::vector<AlertEvent>>> tick();
  std::future<Result<std::vector<AlertEvent>>> apply_alerts(AlertOp op);

  void start();
  // Stops taking work, commits everything queued, joins the writer thread.
  void stop();

  // Thread-safe. Validates (an invalid reading is rejected alone, never half-stored), attributes,
  // de-duplicates and stores. A reading dated later than its receipt plus options.max_future is stored
  // quarantined: status `stored`, its error says why, and the rules never see it. Blocks while the queue is full (back-pressure to
  // the source); fails with Errc::unavailable once stopping.
  std::future<Result<IngestResult>> ingest(std::vector<Reading> readings) override;
  std::future<Result<void>> apply(WriteOp op, Durability durability = Durability::full);
  // Sets device.bound_since (Attribution::bound_since_for, on the pipeline's clock): a new device, or one
  // moved to another patient, attributes only readings measured from now on.
  std::future<Result<void>> upsert_device(Device device) override;
  std::future<Result<bool>> remove_device(std::string id) override;

  // User slots (core/attribution.hpp). bind_user sets binding.since to now, or keeps the stored since when
  // the slot is bound to that patient already (pairing twice changes nothing). Fails for an empty patient
  // or a negative user.
  std::future<Result<void>> bind_user(UserBinding binding) override;
  std::future<Result<bool>> unbind_user(std::string device, int user) override;

  // The technician's decision on unassigned readings (carehubctl readings assign|discard), all or nothing
  // (StoreWriter::assign_readings). Assigned readings are judged by the patient's rules in the order they
  // were measured, as if they had arrived then; what is stale by now is recorded as history
  // (BatchHook::judge_assigned), and the events reach the commit listeners like any others.
  std::future<Result<std::vector<AssignedReading>>> assign_readings(std::vector<std::string> uids, std::string patient,
                                                                    std::string who);
  std::future<Result<std::int64_t>> discard_readings(std::vector<std::string> uids, std::string who, std::string reason);

  // Called on the writer thread after each durable commit (wake the uploader, publish alerts).
  void on_commit(std::function<void(const CommitSummary&)> fn);
  // Called from the writer loop at least every options.heartbeat; drives the systemd watchdog, so a
  // stuck writer stops the heartbeats and gets the daemon restarted.
  void on_heartbeat(std::function<void()> fn);

  std::size_t queued() const;
  BufferHealth buffer_health() const;

 private:
  struct IngestJob {
    std::vector<Reading> readings;
    std::promise<Result<IngestResult>> done;
  };
  struct OpJob {
    AlertOp op;
    std::function<void(Result<void>)> done;  // called once: after the commit, or with the failure
    Durability durability = Durability::full;
  };
  using Job = std::variant<IngestJob, OpJob>;

  // One group transaction's outcome so far (pipeline_commit.cpp).
  struct TxOutcome {
    CommitSummary summary;
    std::vector<Result<IngestResult>> ingest_results;
    std::vector<Result<void>> op_results;
    std::vector<StoredReading> inserted;  // what the hook sees: new readings only, attributed
  };

  void run();
  void enqueue(OpJob job);
  // The group transaction (pipeline_commit.cpp). Every failure fails the whole batch; each step below
  // returns the failure that loses the transaction, if any.
  void process(std::vector<Job>& batch, bool tick);
  // Stores and judges batch[from..] in the open transaction.
  std::optional<Error> add_jobs(std::vector<Job>& batch, std::size_t from, const std::optional<Error>& refusal,
                                TxOutcome& out);
  // The commit window (PipelineOptions::commit_window): takes more of the queue into the open transaction
  // until it must commit.
  std::optional<Error> gather(std::vector<Job>& batch, const std::optional<Error>& refusal, TxOutcome& out);
  // Moves queued jobs into `batch`, up to max_batch readings in all; caller holds mu_. Returns the readings taken.
  std::size_t take_locked(std::vector<Job>& batch, std::size_t readings);
  std::optional<Error> store_readings(IngestJob& job, const std::optional<Error>& refusal, TxOutcome& out);
  std::optional<Error> store_reading(Reading& r, IngestResult& result, TxOutcome& out);
  // Runs `op` in a savepoint of the open transaction: released when it succeeds (its alert events join
  // `out`), rolled back (only its own changes) when it fails, with its error in `outcome`. Returns the
  // savepoint's own failure.
  std::optional<Error> in_savepoint(const AlertOp& op, TxOutcome& out, Result<void>& outcome);
  void answer(std::vector<Job>& batch, TxOutcome& out);
  static void fail_all(std::vector<Job>& batch, const Error& e);
  OpJob tick_job(std::function<void(Result<void>)> done);
  AlertOp judge_op(const std::vector<StoredReading>& inserted);
  TimePoint wall_now() const { return clock_->now(); }
  const Clock& window_clock() const;

  StoreWriter& store_;
  Logger& log_;
  Counters& counters_;
  const PipelineOptions options_;

  mutable std::mutex mu_;
  std::condition_variable work_ready_;
  std::condition_variable space_ready_;
  std::deque<Job> queue_;
  std::size_t queued_readings_ = 0;
  bool stopping_ = false;
  bool started_ = false;
  bool writer_done_ = false;  // the writer thread has taken its last batch

  // Writer-thread state.
  Attribution attribution_;
  std::vector<std::function<void(const CommitSummary&)>> commit_listeners_;
  std::vector<std::function<void()>> heartbeat_listeners_;
  BatchHook* hook_ = nullptr;
  const Clock* const clock_;
  std::optional<std::chrono::steady_clock::time_point> last_tick_;  // on clock_; none: tick at the first wake
  // When the last commit began, on window_clock(); none before the first.
  std::optional<std::chrono::steady_clock::time_point> last_commit_;
  BufferSpace space_;

  std::thread writer_;
};

}  // namespace carehub
