#pragma once
// The pipeline's buffer-space policy (design.md invariant 3): what the size cap and the disk leave the
// buffer in (for `status`), the cap held at every commit, retention paced on the injected clock, and the
// probe that notices when a full disk has room again. The pipeline's writer thread calls everything here
// except health() and state(), which any thread may call.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/counters.hpp"
#include "core/log.hpp"
#include "store/store.hpp"

namespace carehub {

// How the buffer is doing against its size cap and the disk.
enum class BufferState {
  ok,
  shedding,   // the size cap was reached: readings are shed by priority (store.hpp, enforce_cap)
  full,       // at the cap with nothing left that may be shed: new readings are refused
  disk_full,  // the filesystem (or the file's hard limit) has no room: new readings are refused
};
std::string_view to_string(BufferState s);

struct BufferHealth {
  BufferState state = BufferState::ok;
  std::string detail;  // one line for a technician: what happened and what it means
  std::optional<TimePoint> since;  // when the state began
  std::int64_t used_bytes = 0;     // pages in use at the last commit
  std::int64_t max_bytes = 0;      // the cap (0: none)
  std::int64_t shed_synced = 0, shed_environment = 0, shed_stream = 0;  // since start, per tier
  std::optional<TimePoint> last_shed;
  std::int64_t pruned = 0;  // synced readings removed by retention since start
};

class BufferSpace {
 public:
  // `probe_every`: how often, on `clock`'s monotonic time, a full disk is tried again (the heartbeat).
  BufferSpace(StoreWriter& store, const Clock& clock, Logger& log, Counters& counters, Millis probe_every);
  BufferSpace(const BufferSpace&) = delete;
  BufferSpace& operator=(const BufferSpace&) = delete;

  // Before the writer thread starts: the cap and the pages in use now.
  void load();

  BufferHealth health() const;
  BufferState state() const;

  // Inside the open transaction, before a batch's readings. At the cap with nothing to shed last time,
  // sheds again first (the uploader may have synced readings since). Returns the error this batch's
  // readings are refused with when still nothing fits (its other operations still run: a sync outcome is
  // what makes room), or nullopt. A failure loses the transaction.
  Result<std::optional<Error>> refusal();
  // Inside the open transaction, after a batch that wrote: sheds what the batch pushed over the cap, so
  // the file never grows past one batch beyond it. What it found goes to committed() once durable.
  Result<SpaceReport> hold_cap();
  // After the commit. A full disk is over only once readings fit again (a small sync outcome may squeeze
  // in before they do): `stored_readings` says whether this commit stored any.
  void committed(const SpaceReport& report, bool stored_readings);
  // A write failed for want of space (Errc::full): the disk is full until a write succeeds again.
  void note_full(const Error& e);
  // Between batches, outside any transaction: the disk-full probe while the disk is full, else the next
  // step of retention when it is due.
  void maintain();

 private:
  void note_space(const SpaceReport& r);
  void probe();
  void retain();
  bool capped() const { return store_.options().max_bytes > 0; }

  StoreWriter& store_;
  const Clock* const clock_;
  Logger& log_;
  Counters& counters_;
  const Millis probe_every_;

  // Writer-thread pacing, on the clock's monotonic time.
  std::chrono::steady_clock::time_point next_retention_{};
  std::int64_t retention_cursor_ = 0;
  std::chrono::steady_clock::time_point next_probe_{};  // disk full: when to try a write again

  mutable std::mutex mu_;
  BufferHealth health_;
};

}  // namespace carehub
