// The pipeline's group transaction: one batch of readings and operations, the hook's judgement of the new
// readings and its tick, all in one SQLite transaction that is durable before anyone is answered.
#include <algorithm>

#include "store/pipeline.hpp"
#include "store/pipeline_policy.hpp"

namespace carehub {

using namespace pipeline_policy;

void Pipeline::fail_all(std::vector<Job>& batch, const Error& e) {
  for (auto& job : batch) {
    if (auto* ingest = std::get_if<IngestJob>(&job)) ingest->done.set_value(e);
    else std::get<OpJob>(job).done(e);
  }
}

std::optional<Error> Pipeline::in_savepoint(const AlertOp& op, TxOutcome& out, Result<void>& outcome) {
  if (auto sp = store_.savepoint(); !sp) return sp.error();
  auto events = op(store_);
  if (auto end = events ? store_.release() : store_.rollback_to_savepoint(); !end) return end.error();
  if (!events) {
    outcome = events.error();
    return std::nullopt;
  }
  for (auto& e : *events) out.summary.alerts.push_back(std::move(e));
  outcome = Result<void>{};
  return std::nullopt;
}

AlertOp Pipeline::judge_op(const std::vector<StoredReading>& inserted) {
  return [this, &inserted](StoreWriter& w) -> Result<std::vector<AlertEvent>> {
    auto events = hook_->in_transaction(w, inserted, clock_->now());
    if (!events) {
      // The readings are stored without rule evaluation rather than lost.
      log_.error("rules", "rule-evaluation-failed", {{"error", events.error().message}});
      counters_.add("rules_errors");
    }
    return events;
  };
}

void Pipeline::process(std::vector<Job>& batch, bool tick) {
  // Every failure fails the whole transaction: nothing of it is durable, so nothing is acknowledged.
  auto fail = [&](const Error& e) {
    if (e.code == Errc::full) space_.note_full(e);
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
    return fail(tx.error());
  }
  auto refusal = space_.refusal();
  if (!refusal) return fail(refusal.error());
  TxOutcome out;
  if (auto lost = add_jobs(batch, 0, *refusal, out)) return fail(*lost);
  // A transaction of deferred outcomes alone has no fsync to share.
  if (!deferred) {
    if (auto lost = gather(batch, *refusal, out)) return fail(*lost);
  }
  // After the batch's readings: a repeat that arrives with the deadline's tick is judged first.
  if (tick) {
    Result<void> ticked;
    if (auto lost = in_savepoint(tick_job({}).op, out, ticked)) return fail(*lost);
  }
  std::optional<SpaceReport> space;
  if (out.summary.stored > 0 || out.summary.ops > 0) {
    auto report = space_.hold_cap();
    if (!report) return fail(report.error());
    space = *report;
  }
  last_commit_ = window_clock().monotonic();
  if (auto c = tx->commit(); !c) {
    log_.rate_limited(LogLevel::error, "pipeline", "pipeline:commit", "commit-failed", {{"error", c.error().message}}, kLoudEvery);
    counters_.add("pipeline_commit_errors");
    return fail(c.error());
  }
  if (space) space_.committed(*space, out.summary.stored > 0);
  answer(batch, out);
}

std::optional<Error> Pipeline::add_jobs(std::vector<Job>& batch, std::size_t from, const std::optional<Error>& refusal,
                                       TxOutcome& out) {
  for (std::size_t i = from; i < batch.size(); ++i) {
    std::optional<Error> lost;
    if (auto* ingest = std::get_if<IngestJob>(&batch[i])) {
      lost = store_readings(*ingest, refusal, out);
    } else {
      ++out.summary.ops;
      lost = in_savepoint(std::get<OpJob>(batch[i]).op, out, out.op_results.emplace_back());
    }
    if (lost) return lost;
  }
  if (out.inserted.empty()) return std::nullopt;
  // Rules run in this same transaction; a failing rule loses only its own changes, never readings. Each
  // part of a window is judged as it joins, as if it had come in a transaction of its own, so an alert it
  // raises closes the window at once.
  Result<void> judged;
  auto lost = in_savepoint(judge_op(out.inserted), out, judged);
  out.inserted.clear();
  return lost;
}

std::optional<Error> Pipeline::store_readings(IngestJob& job, const std::optional<Error>& refusal, TxOutcome& out) {
  if (refusal) {
    counters_.add("readings_refused_full", job.readings.size());
    log_.rate_limited(LogLevel::error, "store", "store:refused", "readings-refused",
                      {{"readings", job.readings.size()}, {"error", refusal->message}}, kLoudEvery);
    out.ingest_results.emplace_back(*refusal);
    return std::nullopt;
  }
  IngestResult result;
  result.uids.reserve(job.readings.size());
  result.status.reserve(job.readings.size());
  result.errors.reserve(job.readings.size());
  for (auto& r : job.readings) {
    if (auto lost = store_reading(r, result, out)) return lost;  // tx rolls back
  }
  out.ingest_results.emplace_back(std::move(result));
  return std::nullopt;
}

std::optional<Error> Pipeline::store_reading(Reading& r, IngestResult& result, TxOutcome& out) {
  auto& summary = out.summary;
  if (auto valid = validate(r); !valid) {
    result.uids.emplace_back();
    result.status.push_back(IngestStatus::rejected);
    result.errors.push_back(valid.error().message);
    ++summary.rejected;
    return std::nullopt;
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
    return inserted.error();
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
    out.inserted.push_back({0, uid, r, SyncState::pending, 0, {}, {}, {}});
  }
  result.uids.push_back(std::move(uid));
  result.status.push_back(*inserted ? IngestStatus::stored : IngestStatus::duplicate);
  result.errors.push_back(!who.unassigned.empty() ? "unassigned: " + who.unassigned
                          : quarantine           ? "quarantined: " + *quarantine
                                                 : std::string{});
  ++(*inserted ? summary.stored : summary.duplicates);
  return std::nullopt;
}

void Pipeline::answer(std::vector<Job>& batch, TxOutcome& out) {
  const auto& summary = out.summary;
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
      ingest->done.set_value(std::move(out.ingest_results[i++]));
    } else {
      std::get<OpJob>(job).done(std::move(out.op_results[k++]));
    }
  }
  if (batch.empty() && summary.alerts.empty()) return;
  for (auto& fn : commit_listeners_) fn(summary);
}

}  // namespace carehub
