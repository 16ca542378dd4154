#include "drivers/mqtt/ready_watcher.hpp"

namespace carehub::mqtt {
namespace {

// How long the watcher waits on one pending Delivery before it looks whether it was forgotten (the
// connection ended) or the Subscriber is going away.
constexpr std::chrono::milliseconds kDeliverySlice{50};

}  // namespace

ReadyWatcher::ReadyWatcher(const Wakeup& wake) : wake_(wake), thread_([this] { run(); }) {}

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
    // Under the lock, so that forget_all() really is the end of our notifications. notify() before the
    // flag: a session thread that sees the flag clears a Wakeup that is already set.
    wake_.notify();
    signalled_.store(true);
  }
}

}  // namespace carehub::mqtt
