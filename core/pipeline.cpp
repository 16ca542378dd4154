#include "core/pipeline.hpp"

namespace carehub {

Pipeline::Pipeline(StoreWriter& store, Logger& log, Counters& counters, PipelineOptions options)
    : store_(store), log_(log), counters_(counters), options_(std::move(options)) {}

Pipeline::~Pipeline() { stop(); }

void Pipeline::load_devices(const std::vector<Device>& devices) {
  std::lock_guard lock(mu_);
  for (const auto& d : devices) device_patient_[d.id] = d.patient;
}

void Pipeline::set_batch_hook(BatchHook& hook, const Clock& clock) {
  std::lock_guard lock(mu_);
  hook_ = &hook;
  clock_ = &clock;
}

Pipeline::OpJob Pipeline::tick_job(std::function<void(Result<void>)> done) {
  return {[this](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
            auto events = hook_->tick(w, clock_->now());
            if (!events) {
              log_.error("rules", "rule tick failed (its changes are undone, it runs again next tick): " +
                                      events.error().message);
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

std::future<Result<void>> Pipeline::apply(WriteOp op) {
  auto promise = std::make_shared<std::promise<Result<void>>>();
  auto future = promise->get_future();
  enqueue({[op = std::move(op)](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
             if (auto r = op(w); !r) return r.error();
             return std::vector<AlertEvent>{};
           },
           [promise](Result<void> r) { promise->set_value(std::move(r)); }});
  return future;
}

std::future<Result<void>> Pipeline::upsert_device(Device device) {
  return apply([this, device = std::move(device)](StoreWriter& w) -> Result<void> {
    if (auto r = w.upsert_device(device); !r) return r;
    device_patient_[device.id] = device.patient;  // writer thread owns this map
    return {};
  });
}

std::future<Result<bool>> Pipeline::remove_device(std::string id) {
  auto promise = std::make_shared<std::promise<Result<bool>>>();
  auto future = promise->get_future();
  auto removed = std::make_shared<bool>(false);
  enqueue({[this, id = std::move(id), removed](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
             auto r = w.remove_device(id);
             if (!r) return r.error();
             *removed = *r;
             device_patient_.erase(id);
             return std::vector<AlertEvent>{};
           },
           [promise, removed](Result<void> r) {
             if (r) promise->set_value(*removed);
             else promise->set_value(r.error());
           }});
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
    for (auto& fn : heartbeat_listeners_) fn();
    if (stop_now) return;
  }
}

void Pipeline::attribute(Reading& r) const {
  if (!r.patient.empty()) return;
  auto it = device_patient_.find(r.device);
  r.patient = (it != device_patient_.end() && !it->second.empty()) ? it->second : options_.default_patient;
}

void Pipeline::fail_all(std::vector<Job>& batch, const Error& e) {
  for (auto& job : batch) {
    if (auto* ingest = std::get_if<IngestJob>(&job)) ingest->done.set_value(e);
    else std::get<OpJob>(job).done(e);
  }
}

void Pipeline::process(std::vector<Job>& batch, bool tick) {
  auto tx = store_.begin();
  if (!tx) {
    log_.error("pipeline", "cannot begin transaction: " + tx.error().message);
    counters_.add("pipeline_commit_errors");
    fail_all(batch, tx.error());
    return;
  }
  CommitSummary summary;
  std::vector<Result<IngestResult>> ingest_results;
  std::vector<Result<void>> op_results;
  std::vector<StoredReading> inserted_readings;  // what the hook sees: new readings only, attributed
  for (auto& job : batch) {
    if (auto* ingest = std::get_if<IngestJob>(&job)) {
      IngestResult result;
      Result<IngestResult> outcome = result;
      for (auto& r : ingest->readings) {
        if (auto valid = validate(r); !valid) {
          result.uids.emplace_back();
          result.status.push_back(IngestStatus::rejected);
          result.errors.push_back(valid.error().message);
          ++summary.rejected;
          continue;
        }
        attribute(r);
        auto uid = reading_uid(r);
        auto inserted = store_.insert_reading(r, uid);
        if (!inserted) {
          // A failed insert (disk full, I/O) fails the whole transaction: nothing is acknowledged.
          log_.error("pipeline", "storing reading failed: " + inserted.error().message);
          counters_.add("pipeline_commit_errors");
          fail_all(batch, inserted.error());
          return;  // tx rolls back
        }
        if (*inserted && hook_) inserted_readings.push_back({0, uid, r, SyncState::pending, 0, {}, {}});
        result.uids.push_back(std::move(uid));
        result.status.push_back(*inserted ? IngestStatus::stored : IngestStatus::duplicate);
        result.errors.emplace_back();
        ++(*inserted ? summary.stored : summary.duplicates);
      }
      ingest_results.emplace_back(std::move(result));
    } else {
      auto& op = std::get<OpJob>(job);
      ++summary.ops;
      if (auto sp = store_.savepoint(); !sp) {
        fail_all(batch, sp.error());
        return;
      }
      auto r = op.op(store_);
      if (!r) {
        if (auto rb = store_.rollback_to_savepoint(); !rb) {
          fail_all(batch, rb.error());
          return;
        }
        op_results.push_back(r.error());
        continue;
      }
      if (auto rel = store_.release(); !rel) {
        fail_all(batch, rel.error());
        return;
      }
      for (auto& e : *r) summary.alerts.push_back(std::move(e));
      op_results.emplace_back();
    }
  }
  if (!inserted_readings.empty()) {
    // Rules run in this same transaction; a failing rule loses only its own changes, never readings.
    if (auto sp = store_.savepoint(); !sp) {
      fail_all(batch, sp.error());
      return;
    }
    auto events = hook_->in_transaction(store_, inserted_readings, clock_->now());
    if (!events) {
      log_.error("rules", "rule evaluation failed; readings are stored without it: " + events.error().message);
      counters_.add("rules_errors");
      if (auto rb = store_.rollback_to_savepoint(); !rb) {
        fail_all(batch, rb.error());
        return;
      }
    } else {
      if (auto rel = store_.release(); !rel) {
        fail_all(batch, rel.error());
        return;
      }
      for (auto& e : *events) summary.alerts.push_back(std::move(e));
    }
  }
  if (tick) {
    // After the batch's readings: a repeat that arrives with the deadline's tick is judged first.
    if (auto sp = store_.savepoint(); !sp) {
      fail_all(batch, sp.error());
      return;
    }
    auto events = tick_job({}).op(store_);
    if (auto end = events ? store_.release() : store_.rollback_to_savepoint(); !end) {
      fail_all(batch, end.error());
      return;
    }
    if (events) {
      for (auto& e : *events) summary.alerts.push_back(std::move(e));
    }
  }
  if (auto c = tx->commit(); !c) {
    log_.error("pipeline", "commit failed: " + c.error().message);
    counters_.add("pipeline_commit_errors");
    fail_all(batch, c.error());
    return;
  }
  if (!batch.empty()) counters_.add("pipeline_commits");  // an idle tick is not a commit anyone asked for
  counters_.add("readings_stored", summary.stored);
  counters_.add("readings_duplicate", summary.duplicates);
  counters_.add("readings_rejected", summary.rejected);
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
