#include "store/pipeline.hpp"

#include <algorithm>

#include "store/pipeline_policy.hpp"

namespace carehub {

using namespace pipeline_policy;

std::string_view to_string(BufferState s) {
  switch (s) {
    case BufferState::ok: return "ok";
    case BufferState::shedding: return "shedding";
    case BufferState::full: return "full";
    case BufferState::disk_full: return "disk full";
  }
  return "ok";
}

Pipeline::Pipeline(StoreWriter& store, Logger& log, Counters& counters, PipelineOptions options)
    : store_(store), log_(log), counters_(counters), options_(std::move(options)), attribution_(options_.default_patient) {}

Pipeline::~Pipeline() { stop(); }

void Pipeline::set_batch_hook(BatchHook& hook, const Clock& clock) {
  std::lock_guard lock(mu_);
  hook_ = &hook;
  clock_ = &clock;
}

Pipeline::OpJob Pipeline::tick_job(std::function<void(Result<void>)> done) {
  return {[this](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
            auto events = hook_->tick(w, clock_->now());
            if (!events) {
              // Its changes are undone and it runs again next tick.
              log_.error("rules", "rule-tick-failed", {{"error", events.error().message}});
              counters_.add("rules_errors");
            }
            return events;
          },
          std::move(done)};
}

std::future<Result<std::vector<AlertEvent>>> Pipeline::tick() {
  if (!hook_) {
    std::promise<Result<std::vector<AlertEvent>>> none;
    none.set_value(make_error(Errc::invalid_argument, "no batch hook is set"));
    return none.get_future();
  }
  return apply_alerts(tick_job({}).op);
}

std::future<Result<std::vector<AlertEvent>>> Pipeline::apply_alerts(AlertOp op) {
  auto promise = std::make_shared<std::promise<Result<std::vector<AlertEvent>>>>();
  auto future = promise->get_future();
  auto events = std::make_shared<std::vector<AlertEvent>>();
  enqueue({[op = std::move(op), events](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
             auto r = op(w);
             if (r) *events = *r;
             return r;
           },
           [promise, events](Result<void> r) {
             if (r) promise->set_value(*events);
             else promise->set_value(r.error());
           }});
  return future;
}

void Pipeline::on_commit(std::function<void(const CommitSummary&)> fn) {
  std::lock_guard lock(mu_);
  commit_listeners_.push_back(std::move(fn));
}

void Pipeline::on_heartbeat(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  heartbeat_listeners_.push_back(std::move(fn));
}

void Pipeline::start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  {
    // The writer thread is not running yet, so this thread may still use the store.
    std::lock_guard h(health_mu_);
    health_.max_bytes = store_.options().max_bytes;
    if (auto used = store_.used_bytes()) health_.used_bytes = *used;
  }
  // The writer thread is not running yet: the store is this thread's to read the user-slot bindings.
  if (auto bound = store_.bindings()) {
    for (const auto& b : *bound) attribution_.set_binding(b);
  } else {
    // Without them every user slot reads as unbound: its readings wait unassigned rather than go astray.
    log_.error("pipeline", "bindings-not-loaded", {{"error", bound.error().message}});
  }
  writer_ = std::thread([this] { run(); });
}

void Pipeline::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  space_ready_.notify_all();
  if (writer_.joinable()) writer_.join();
  // Never started: nothing will drain the queue, so answer whoever is waiting.
  std::vector<Job> rest;
  {
    std::lock_guard lock(mu_);
    for (auto& j : queue_) rest.push_back(std::move(j));
    queue_.clear();
  }
  fail_all(rest, make_error(Errc::unavailable, "pipeline stopped"));
}

std::size_t Pipeline::queued() const {
  std::lock_guard lock(mu_);
  return queued_readings_;
}

BufferHealth Pipeline::buffer_health() const {
  std::lock_guard lock(health_mu_);
  return health_;
}

std::future<Result<IngestResult>> Pipeline::ingest(std::vector<Reading> readings) {
  IngestJob job{std::move(readings), {}};
  auto future = job.done.get_future();
  const std::size_t n = job.readings.size();
  std::unique_lock lock(mu_);
  // A single job larger than the whole queue is still accepted once the queue is empty.
  space_ready_.wait(lock, [&] { return stopping_ || queued_readings_ == 0 || queued_readings_ + n <= options_.queue_capacity; });
  if (stopping_) {
    job.done.set_value(make_error(Errc::unavailable, "carehubd is stopping"));
    return future;
  }
  queued_readings_ += n;
  queue_.emplace_back(std::move(job));
  lock.unlock();
  work_ready_.notify_one();
  return future;
}

void Pipeline::enqueue(OpJob job) {
  std::unique_lock lock(mu_);
  if (stopping_ && (!started_ || writer_done_)) {
    lock.unlock();
    job.done(make_error(Errc::unavailable, "carehubd is stopping"));
    return;
  }
  // Write ops (sync outcomes, registry changes) are small and bypass the reading capacity, so the
  // uploader can always record progress even while sources fill the queue.
  queue_.emplace_back(std::move(job));
  lock.unlock();
  work_ready_.notify_one();
}

std::future<Result<void>> Pipeline::apply(WriteOp op, Durability durability) {
  auto promise = std::make_shared<std::promise<Result<void>>>();
  auto future = promise->get_future();
  enqueue({[op = std::move(op)](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
             if (auto r = op(w); !r) return r.error();
             return std::vector<AlertEvent>{};
           },
           [promise](Result<void> r) { promise->set_value(std::move(r)); }, durability});
  return future;
}

void Pipeline::run() {
  for (;;) {
    std::vector<Job> batch;
    bool stop_now = false;
    {
      std::unique_lock lock(mu_);
      work_ready_.wait_for(lock, options_.heartbeat, [&] { return stopping_ || !queue_.empty(); });
      std::size_t readings = 0;
      while (!queue_.empty()) {
        auto* ingest = std::get_if<IngestJob>(&queue_.front());
        const std::size_t n = ingest ? ingest->readings.size() : 0;
        if (!batch.empty() && readings + n > options_.max_batch) break;
        readings += n;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_readings_ -= readings;
      stop_now = stopping_ && queue_.empty();
      writer_done_ = stop_now;
    }
    space_ready_.notify_all();
    // Rule deadlines, reminders and inactivity fire from here, at least every heartbeat, in the same
    // kind of transaction as everything else (a tick that changes nothing writes nothing).
    const bool tick_due = hook_ && std::chrono::steady_clock::now() - last_tick_ >= options_.heartbeat;
    if (tick_due) last_tick_ = std::chrono::steady_clock::now();
    if (!batch.empty() || tick_due) process(batch, tick_due);
    if (!stop_now) maintain();
    for (auto& fn : heartbeat_listeners_) fn();
    if (stop_now) return;
  }
}

void Pipeline::fail_all(std::vector<Job>& batch, const Error& e) {
  for (auto& job : batch) {
    if (auto* ingest = std::get_if<IngestJob>(&job)) ingest->done.set_value(e);
    else std::get<OpJob>(job).done(e);
  }
}

std::optional<Error> Pipeline::in_savepoint(const AlertOp& op, Result<std::vector<AlertEvent>>& outcome) {
  if (auto sp = store_.savepoint(); !sp) return sp.error();
  outcome = op(store_);
  if (auto end = outcome ? store_.release() : store_.rollback_to_savepoint(); !end) return end.error();
  return std::nullopt;
}

void Pipeline::process(std::vector<Job>& batch, bool tick) {
  // Every failure fails the whole transaction: nothing of it is durable, so nothing is acknowledged.
  auto fail = [&](const Error& e) {
    if (e.code == Errc::full) note_full(e);
    fail_all(batch, e);
  };
  // A batch of sync outcomes alone (no reading, no alert, no registry change, no tick) commits without
  // an fsync of its own (Durability::deferred); anything else in it makes the whole commit FULL.
  const bool deferred = !tick && !batch.empty() && std::all_of(batch.begin(), batch.end(), [](const Job& j) {
    const auto* op = std::get_if<OpJob>(&j);
    return op && op->durability == Durability::deferred;
  });
  auto tx = store_.begin(deferred ? StoreWriter::Commit::without_fsync : StoreWriter::Commit::durable);
  if (!tx) {
    log_.rate_limited(LogLevel::error, "pipeline", "pipeline:begin", "transaction-begin-failed", {{"error", tx.error().message}},
                      kLoudEvery);
    counters_.add("pipeline_commit_errors");
    fail(tx.error());
    return;
  }
  const bool capped = store_.options().max_bytes > 0;
  // At the cap with nothing to shed last time: shed again first (the uploader may have synced readings
  // since); if still nothing fits, this batch's readings are refused, its other operations still run
  // (a sync outcome is what makes room).
  std::optional<Error> refusal;
  if (capped && state_now() == BufferState::full) {
    auto report = store_.enforce_cap();
    if (!report) {
      fail(report.error());
      return;
    }
    if (report->full) {
      refusal = make_error(Errc::full, "buffer full: its size cap (store.max_bytes " + mib(report->max_bytes) +
                                           ") is reached and nothing that may be shed is left; try again later");
    } else {
      note_space(*report);
    }
  }
  CommitSummary summary;
  std::vector<Result<IngestResult>> ingest_results;
  std::vector<Result<void>> op_results;
  std::vector<StoredReading> inserted_readings;  // what the hook sees: new readings only, attributed
  for (auto& job : batch) {
    if (auto* ingest = std::get_if<IngestJob>(&job)) {
      if (refusal) {
        counters_.add("readings_refused_full", ingest->readings.size());
        log_.rate_limited(LogLevel::error, "store", "store:refused", "readings-refused",
                          {{"readings", ingest->readings.size()}, {"error", refusal->message}}, kLoudEvery);
        ingest_results.emplace_back(*refusal);
        continue;
      }
      IngestResult result;
      result.uids.reserve(ingest->readings.size());
      result.status.reserve(ingest->readings.size());
      result.errors.reserve(ingest->readings.size());
      for (auto& r : ingest->readings) {
        if (auto valid = validate(r); !valid) {
          result.uids.emplace_back();
          result.status.push_back(IngestStatus::rejected);
          result.errors.push_back(valid.error().message);
          ++summary.rejected;
          continue;
        }
        const auto who = attribution_.attribute(r);
        r.patient = who.patient;
        auto uid = reading_uid(r, options_.hub_id);
        // A producer that did not stamp the receipt is bounded by this clock instead: it is when we got it.
        const TimePoint receipt = r.received == TimePoint{} ? wall_now() : r.received;
        const auto quarantine = implausible_future(r, receipt, options_.max_future);
        auto inserted = store_.insert_reading(r, uid, quarantine ? *quarantine : std::string_view{}, who.unassigned);
        if (!inserted) {
          log_.rate_limited(LogLevel::error, "pipeline", "pipeline:insert", "reading-store-failed",
                            {{"error", inserted.error().message}}, kLoudEvery);
          counters_.add("pipeline_commit_errors");
          fail(inserted.error());
          return;  // tx rolls back
        }
        if (!who.unassigned.empty() && *inserted) {
          // Invariant 7: stored for a technician, never judged nor uploaded. The log names the device only.
          ++summary.unassigned;
          log_.rate_limited(LogLevel::warning, "pipeline", "pipeline:unassigned:" + r.device, "reading-unassigned",
                            {{"device", r.device},
                             {"kind", to_string(r.kind)},
                             {"reason", who.unassigned},
                             {"action", "carehubctl readings unassigned; then readings assign or discard"}},
                            kLoudEvery);
        } else if (quarantine && *inserted) {
          // Stored, counted and shown, but never judged by the rules (design.md invariant 8). The log names
          // the device, never the values; one line a minute however many arrive.
          ++summary.quarantined;
          log_.rate_limited(LogLevel::warning, "pipeline", "pipeline:quarantine", "reading-quarantined",
                            {{"device", r.device},
                             {"kind", to_string(r.kind)},
                             {"ahead_s", std::chrono::duration_cast<std::chrono::seconds>(r.time - receipt).count()},
                             {"action", "check the device clock; carehubctl measurements --state quarantined"}},
                            kLoudEvery);
        } else if (*inserted && hook_) {
          inserted_readings.push_back({0, uid, r, SyncState::pending, 0, {}, {}, {}});
        }
        result.uids.push_back(std::move(uid));
        result.status.push_back(*inserted ? IngestStatus::stored : IngestStatus::duplicate);
        result.errors.push_back(!who.unassigned.empty() ? "unassigned: " + who.unassigned
                                : quarantine           ? "quarantined: " + *quarantine
                                                       : std::string{});
        ++(*inserted ? summary.stored : summary.duplicates);
      }
      ingest_results.emplace_back(std::move(result));
    } else {
      auto& op = std::get<OpJob>(job);
      ++summary.ops;
      Result<std::vector<AlertEvent>> r = std::vector<AlertEvent>{};
      if (auto lost = in_savepoint(op.op, r)) {
        fail(*lost);
        return;
      }
      if (!r) {
        op_results.push_back(r.error());
        continue;
      }
      for (auto& e : *r) summary.alerts.push_back(std::move(e));
      op_results.emplace_back();
    }
  }
  if (!inserted_readings.empty()) {
    // Rules run in this same transaction; a failing rule loses only its own changes, never readings.
    Result<std::vector<AlertEvent>> events = std::vector<AlertEvent>{};
    if (auto lost = in_savepoint([&](StoreWriter& w) { return hook_->in_transaction(w, inserted_readings, clock_->now()); },
                                 events)) {
      fail(*lost);
      return;
    }
    if (!events) {
      // The readings are stored without rule evaluation rather than lost.
      log_.error("rules", "rule-evaluation-failed", {{"error", events.error().message}});
      counters_.add("rules_errors");
    } else {
      for (auto& e : *events) summary.alerts.push_back(std::move(e));
    }
  }
  if (tick) {
    // After the batch's readings: a repeat that arrives with the deadline's tick is judged first.
    Result<std::vector<AlertEvent>> events = std::vector<AlertEvent>{};
    if (auto lost = in_savepoint(tick_job({}).op, events)) {
      fail(*lost);
      return;
    }
    if (events) {
      for (auto& e : *events) summary.alerts.push_back(std::move(e));
    }
  }
  // The cap is held at every commit that wrote readings: what this batch pushed over it is shed in the
  // same transaction, so the file never grows past one batch beyond the cap.
  std::optional<SpaceReport> space;
  if (summary.stored > 0 || summary.ops > 0) {
    Result<SpaceReport> report = SpaceReport{};
    if (capped) report = store_.enforce_cap();
    else if (auto used = store_.used_bytes()) report->used_bytes = *used;
    if (!report) {
      fail(report.error());
      return;
    }
    space = *report;
  }
  if (auto c = tx->commit(); !c) {
    log_.rate_limited(LogLevel::error, "pipeline", "pipeline:commit", "commit-failed", {{"error", c.error().message}}, kLoudEvery);
    counters_.add("pipeline_commit_errors");
    fail(c.error());
    return;
  }
  // A full disk is over only once readings fit again (a small sync outcome may squeeze in before they do).
  if (space && (summary.stored > 0 || state_now() != BufferState::disk_full)) note_space(*space);
  if (!batch.empty()) counters_.add("pipeline_commits");  // an idle tick is not a commit anyone asked for
  counters_.add("readings_stored", summary.stored);
  counters_.add("readings_duplicate", summary.duplicates);
  counters_.add("readings_rejected", summary.rejected);
  if (summary.quarantined > 0) counters_.add("readings_quarantined", summary.quarantined);
  if (summary.unassigned > 0) counters_.add("readings_unassigned", summary.unassigned);
  if (!summary.alerts.empty()) counters_.add("alert_events", summary.alerts.size());
  // Durable now: answer the producers, then tell listeners.
  std::size_t i = 0, k = 0;
  for (auto& job : batch) {
    if (auto* ingest = std::get_if<IngestJob>(&job)) {
      ingest->done.set_value(std::move(ingest_results[i++]));
    } else {
      std::get<OpJob>(job).done(std::move(op_results[k++]));
    }
  }
  if (batch.empty() && summary.alerts.empty()) return;
  for (auto& fn : commit_listeners_) fn(summary);
}

}  // namespace carehub
