#include "core/pipeline.hpp"

namespace carehub {

Pipeline::Pipeline(StoreWriter& store, Logger& log, Counters& counters, PipelineOptions options)
    : store_(store), log_(log), counters_(counters), options_(std::move(options)) {}

Pipeline::~Pipeline() { stop(); }

void Pipeline::load_devices(const std::vector<Device>& devices) {
  std::lock_guard lock(mu_);
  for (const auto& d : devices) device_patient_[d.id] = d.patient;
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
  enqueue({std::move(op), [promise](Result<void> r) { promise->set_value(std::move(r)); }});
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
  enqueue({[this, id = std::move(id), removed](StoreWriter& w) -> Result<void> {
             auto r = w.remove_device(id);
             if (!r) return r.error();
             *removed = *r;
             device_patient_.erase(id);
             return {};
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
    if (!batch.empty()) process(batch);
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

void Pipeline::process(std::vector<Job>& batch) {
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
      } else if (auto rel = store_.release(); !rel) {
        fail_all(batch, rel.error());
        return;
      }
      op_results.push_back(std::move(r));
    }
  }
  if (auto c = tx->commit(); !c) {
    log_.error("pipeline", "commit failed: " + c.error().message);
    counters_.add("pipeline_commit_errors");
    fail_all(batch, c.error());
    return;
  }
  counters_.add("pipeline_commits");
  counters_.add("readings_stored", summary.stored);
  counters_.add("readings_duplicate", summary.duplicates);
  counters_.add("readings_rejected", summary.rejected);
  // Durable now: answer the producers, then tell listeners.
  std::size_t i = 0, k = 0;
  for (auto& job : batch) {
    if (auto* ingest = std::get_if<IngestJob>(&job)) {
      ingest->done.set_value(std::move(ingest_results[i++]));
    } else {
      std::get<OpJob>(job).done(std::move(op_results[k++]));
    }
  }
  for (auto& fn : commit_listeners_) fn(summary);
}

}  // namespace carehub
