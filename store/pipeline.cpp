// The pipeline's queue and writer loop: producers enqueue readings and operations (back-pressure on
// readings only), the writer thread takes what is queued as one batch, ticks the hook when a heartbeat has
// passed on the clock, and keeps the buffer's space between batches. The transaction itself is
// pipeline_commit.cpp.
#include "store/pipeline.hpp"

#include "core/thread_name.hpp"
#include "store/audit.hpp"

namespace carehub {

Pipeline::Pipeline(StoreWriter& store, const Clock& clock, Logger& log, Counters& counters, PipelineOptions options)
    : store_(store),
      log_(log),
      counters_(counters),
      options_(std::move(options)),
      attribution_(options_.default_patient),
      clock_(&clock),
      space_(store, clock, log, counters, options_.heartbeat) {}

Pipeline::~Pipeline() { stop(); }

void Pipeline::set_batch_hook(BatchHook& hook) {
  std::lock_guard lock(mu_);
  hook_ = &hook;
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
  // The writer thread is not running yet, so this thread may still use the store: the space in use and
  // the user-slot bindings.
  space_.load();
  if (auto bound = store_.bindings()) {
    for (const auto& b : *bound) attribution_.set_binding(b);
  } else {
    // Without them every user slot reads as unbound: its readings wait unassigned rather than go astray.
    log_.error("pipeline", "bindings-not-loaded", {{"error", bound.error().message}});
  }
  writer_ = std::thread([this] {
    name_this_thread("writer");
    run();
  });
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

BufferHealth Pipeline::buffer_health() const { return space_.health(); }

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
  // An audited command's change carries its audit row into its own savepoint (store/audit.hpp).
  job.op = audit::attach(std::move(job.op));
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

std::size_t Pipeline::take_locked(std::vector<Job>& batch, std::size_t readings) {
  std::size_t taken = 0;
  while (!queue_.empty()) {
    auto* ingest = std::get_if<IngestJob>(&queue_.front());
    const std::size_t n = ingest ? ingest->readings.size() : 0;
    if (!batch.empty() && readings + taken + n > options_.max_batch) break;
    taken += n;
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  queued_readings_ -= taken;
  return taken;
}

const Clock& Pipeline::window_clock() const {
  static const SystemClock real;
  return options_.window_clock ? *options_.window_clock : real;
}

std::optional<Error> Pipeline::gather(std::vector<Job>& batch, const std::optional<Error>& refusal, TxOutcome& out) {
  if (options_.commit_window.count() <= 0 || !last_commit_) return std::nullopt;
  const auto deadline = *last_commit_ + options_.commit_window;
  std::size_t readings = 0;
  for (const auto& job : batch) {
    if (const auto* ingest = std::get_if<IngestJob>(&job)) readings += ingest->readings.size();
  }
  if (readings == 0) return std::nullopt;  // a window is for a stream of readings, not for a tick alone
  std::size_t looked = 0;  // jobs already looked at for an operation that cannot wait
  for (;;) {
    // What must not wait: an alert raised or changed, an operation (someone waits for each: a user, the
    // display's acknowledgement, the uploader before its next request).
    if (!out.summary.alerts.empty() || readings >= std::min(options_.max_batch, options_.commit_window_readings)) {
      return std::nullopt;
    }
    for (; looked < batch.size(); ++looked) {
      if (std::holds_alternative<OpJob>(batch[looked])) return std::nullopt;
    }
    const auto now = window_clock().monotonic();
    if (now >= deadline) return std::nullopt;
    const auto next = batch.size();
    {
      std::unique_lock lock(mu_);
      window_clock().wait_until(lock, work_ready_, std::min(deadline, now + options_.commit_gap),
                                [&] { return stopping_ || !queue_.empty(); });
      // Nothing came within the gap, or carehubd is stopping: commit what there is.
      if (queue_.empty() || stopping_) return std::nullopt;
      readings += take_locked(batch, readings);
    }
    space_ready_.notify_all();
    if (batch.size() == next) return std::nullopt;  // the next job would pass max_batch
    if (auto lost = add_jobs(batch, next, refusal, out)) return lost;
  }
}

void Pipeline::run() {
  for (;;) {
    std::vector<Job> batch;
    bool stop_now = false;
    {
      std::unique_lock lock(mu_);
      work_ready_.wait_for(lock, options_.heartbeat, [&] { return stopping_ || !queue_.empty(); });
      take_locked(batch, 0);
      stop_now = stopping_ && queue_.empty();
      writer_done_ = stop_now;
    }
    space_ready_.notify_all();
    // Rule deadlines, reminders and inactivity fire from here, once a heartbeat has passed on the clock,
    // in the same kind of transaction as everything else (a tick that changes nothing writes nothing).
    const auto now = clock_->monotonic();
    const bool tick_due = hook_ && (!last_tick_ || now - *last_tick_ >= options_.heartbeat);
    if (tick_due) last_tick_ = now;
    if (!batch.empty() || tick_due) process(batch, tick_due);
    if (!stop_now) space_.maintain();
    for (auto& fn : heartbeat_listeners_) fn();
    if (stop_now) return;
  }
}

}  // namespace carehub
