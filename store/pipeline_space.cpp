// The pipeline's buffer-space policy (pipeline_space.hpp): states, the cap, retention and the disk probe.
#include "store/pipeline_space.hpp"

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

BufferSpace::BufferSpace(StoreWriter& store, const Clock& clock, Logger& log, Counters& counters, Millis probe_every)
    : store_(store), clock_(&clock), log_(log), counters_(counters), probe_every_(probe_every) {}

void BufferSpace::load() {
  std::lock_guard lock(mu_);
  health_.max_bytes = store_.options().max_bytes;
  if (auto used = store_.used_bytes()) health_.used_bytes = *used;
}

BufferHealth BufferSpace::health() const {
  std::lock_guard lock(mu_);
  return health_;
}

BufferState BufferSpace::state() const {
  std::lock_guard lock(mu_);
  return health_.state;
}

Result<std::optional<Error>> BufferSpace::refusal() {
  if (!capped() || state() != BufferState::full) return std::optional<Error>{};
  auto report = store_.enforce_cap();
  if (!report) return report.error();
  if (report->full) {
    return std::optional<Error>{make_error(Errc::full, "buffer full: its size cap (store.max_bytes " + mib(report->max_bytes) +
                                                           ") is reached and nothing that may be shed is left; try again later")};
  }
  note_space(*report);
  return std::optional<Error>{};
}

Result<SpaceReport> BufferSpace::hold_cap() {
  if (capped()) return store_.enforce_cap();
  SpaceReport report;
  // Only for `status`: a failure to measure is not worth losing the transaction over.
  if (auto used = store_.used_bytes()) report.used_bytes = *used;
  return report;
}

void BufferSpace::committed(const SpaceReport& report, bool stored_readings) {
  if (stored_readings || state() != BufferState::disk_full) note_space(report);
}

void BufferSpace::note_space(const SpaceReport& r) {
  BufferState before, after;
  {
    std::lock_guard lock(mu_);
    auto& h = health_;
    before = h.state;
    h.used_bytes = r.used_bytes;
    h.max_bytes = r.max_bytes;
    h.shed_synced += r.shed_synced;
    h.shed_environment += r.shed_environment;
    h.shed_stream += r.shed_stream;
    if (r.shed() > 0) h.last_shed = clock_->now();
    const bool near_cap = r.max_bytes > 0 && r.used_bytes >= r.max_bytes / 100 * kShedClearPercent;
    if (r.full) after = BufferState::full;
    else if (r.shed() > 0 || ((before == BufferState::shedding || before == BufferState::full) && near_cap))
      after = BufferState::shedding;
    else after = BufferState::ok;  // also leaves disk_full: only a committed write gets here
    if (after != before) {
      h.state = after;
      h.since = clock_->now();
      switch (after) {
        case BufferState::ok: h.detail.clear(); break;
        case BufferState::shedding:
          h.detail = "size cap reached (store.max_bytes " + mib(r.max_bytes) +
                     "): shedding synced readings first, then unsynced environmental and wearable stream readings; "
                     "spot measurements and alerts are kept";
          break;
        case BufferState::full:
          h.detail = "size cap reached (store.max_bytes " + mib(r.max_bytes) +
                     ") with nothing left that may be shed (unsynced spot measurements, dead letters, alerts): new "
                     "readings are refused until the FHIR server takes some";
          break;
        case BufferState::disk_full: break;
      }
    }
  }
  if (r.shed() > 0) {
    counters_.add("store_shed_synced", static_cast<std::uint64_t>(r.shed_synced));
    counters_.add("store_shed_environment", static_cast<std::uint64_t>(r.shed_environment));
    counters_.add("store_shed_stream", static_cast<std::uint64_t>(r.shed_stream));
    // At its size cap: the oldest sheddable readings went first.
    log_.rate_limited(LogLevel::warning, "store", "store:shed", "buffer-shed",
                      {{"max_bytes", r.max_bytes},
                       {"shed_synced", r.shed_synced},
                       {"shed_environment", r.shed_environment},
                       {"shed_stream", r.shed_stream},
                       {"used_bytes", r.used_bytes}},
                      kLoudEvery);
  }
  if (after == BufferState::full && before != BufferState::full) {
    // Nothing left that may be shed: readings are refused until the FHIR server takes some.
    log_.error("store", "buffer-full",
               {{"max_bytes", r.max_bytes}, {"action", "raise /store/max_bytes or restore the connection"}});
  }
  if (before == BufferState::disk_full && after != BufferState::disk_full) {
    log_.notice("store", "disk-space-back");
  }
  if (before == BufferState::full && after != BufferState::full) {
    log_.notice("store", "buffer-full-cleared");
  }
}

void BufferSpace::note_full(const Error& e) {
  counters_.add("store_disk_full");
  bool entered = false;
  {
    std::lock_guard lock(mu_);
    if (health_.state != BufferState::disk_full) {
      entered = true;
      health_.state = BufferState::disk_full;
      health_.since = clock_->now();
    }
    health_.detail = "no space left for the buffer (" + e.message +
                     "): new readings are refused and stay with their sources until space returns";
  }
  // New readings are refused until space returns.
  if (entered) log_.error("store", "disk-full", {{"error", e.message}});
  else log_.rate_limited(LogLevel::error, "store", "store:disk-full", "disk-still-full", {{"error", e.message}}, kLoudEvery);
}

void BufferSpace::maintain() {
  if (state() == BufferState::disk_full) probe();
  else retain();
}

void BufferSpace::probe() {
  const auto now = clock_->monotonic();
  if (now < next_probe_) return;
  next_probe_ = now + probe_every_;
  const auto& opts = store_.options();
  // Probe with a small write of its own, shedding by the same priority to make room inside the file:
  // freed pages take new readings without the file growing. Only a commit that succeeds clears the state.
  auto tx = store_.begin();
  if (!tx) return note_full(tx.error());
  auto used = store_.used_bytes();
  if (!used) return note_full(used.error());
  std::int64_t room = *used / 100 * 95;
  if (opts.max_bytes > 0) room = std::min(room, opts.max_bytes);
  auto report = store_.enforce_cap(std::max<std::int64_t>(room, 1));
  if (!report) return note_full(report.error());
  if (auto m = store_.put_meta("space_probe", format_rfc3339(clock_->now())); !m) return note_full(m.error());
  if (auto c = tx->commit(); !c) return note_full(c.error());
  // A probe is much smaller than a batch of readings and may squeeze into the last free blocks: the
  // disk counts as back only when shedding made room inside the file or the filesystem has headroom.
  auto free_bytes = store_.free_disk_bytes();
  if (report->shed() == 0 && (!free_bytes || *free_bytes < kDiskHeadroom)) return;
  report->max_bytes = opts.max_bytes;
  report->full = opts.max_bytes > 0 && report->used_bytes >= opts.max_bytes;
  note_space(*report);
}

void BufferSpace::retain() {
  const auto now = clock_->monotonic();
  const auto& opts = store_.options();
  if (opts.retention_days <= 0 || now < next_retention_) return;
  auto tx = store_.begin();
  if (!tx) return;  // busy or failing: the next heartbeat tries again
  const auto before = clock_->now() - std::chrono::hours(24) * opts.retention_days;
  auto pruned = store_.prune_synced(before, retention_cursor_, kRetentionWindow);
  if (!pruned) {
    log_.rate_limited(LogLevel::warning, "store", "store:retention", "retention-failed", {{"error", pruned.error().message}},
                      kLoudEvery);
    next_retention_ = now + kRetentionStep;
    return;
  }
  if (auto c = tx->commit(); !c) {
    if (c.error().code == Errc::full) note_full(c.error());
    next_retention_ = now + kRetentionStep;
    return;
  }
  retention_cursor_ = pruned->next_seq;
  next_retention_ = now + (retention_cursor_ == 0 ? std::chrono::steady_clock::duration(kRetentionPass)
                                                  : std::chrono::steady_clock::duration(kRetentionStep));
  if (pruned->deleted > 0) {
    counters_.add("store_retention_pruned", static_cast<std::uint64_t>(pruned->deleted));
    {
      std::lock_guard lock(mu_);
      health_.pruned += pruned->deleted;
    }
    log_.info("store", "retention-pruned", {{"deleted", pruned->deleted}, {"retention_days", opts.retention_days}});
  }
}

}  // namespace carehub
