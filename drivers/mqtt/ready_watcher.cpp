#include "drivers/mqtt/ready_watcher.hpp"

#include "core/thread_name.hpp"

namespace carehub::mqtt {
namespace {

// How long the watcher waits on one pending Delivery before it looks whether it was forgotten (the
// connection ended) or the Subscriber is going away.
constexpr std::chrono::milliseconds kDeliverySlice{50};

}  // namespace

ReadyWatcher::ReadyWatcher(const Wakeup& wake)
    : wake_(wake), thread_([this] {
        name_this_thread("mqtt-ready");
        run();
      }) {}

ReadyWatcher::~ReadyWatcher() {
  {
    std::lock_guard lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  thread_.join();  // at most one kDeliverySlice: the wait in progress
}

void ReadyWatcher::watch(std::shared_ptr<Outstanding> o) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(o));
  }
  cv_.notify_all();
}

void ReadyWatcher::forget_all() {
  std::lock_guard lock(mu_);
  queue_.clear();
  ++generation_;
}

void ReadyWatcher::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return quit_ || !queue_.empty(); });
    if (quit_) return;
    auto head = queue_.front();
    const auto generation = generation_;
    lock.unlock();
    const bool ready = head->delivery.ready(kDeliverySlice);
    lock.lock();
    if (!ready || generation != generation_) continue;  // still waiting, or forgotten meanwhile
    head->ready.store(true);
    queue_.pop_front();
    // The run behind it that is ready as well (a commit answers many Deliveries at once) goes with it: one
    // Wakeup, one settle, one write of acknowledgements, instead of one of each per message (issue 15).
    // A zero wait: asking never blocks the session thread's watch() for long.
    while (!queue_.empty() && queue_.front()->delivery.ready(std::chrono::milliseconds(0))) {
      queue_.front()->ready.store(true);
      queue_.pop_front();
    }
    // An earlier signal not yet taken: the session thread has yet to take it, and settles after taking it,
    // so it sees the ready flags stored above (all seq_cst); a second notify() would be a syscall for
    // nothing. Only this thread raises the flag, so it cannot go up between the load and the store below.
    if (signalled_.load()) continue;
    // Under the lock, so that forget_all() really is the end of our notifications. notify() before the
    // flag: a session thread that sees the flag clears a Wakeup that is already set.
    wake_.notify();
    signalled_.store(true);
  }
}

}  // namespace carehub::mqtt
