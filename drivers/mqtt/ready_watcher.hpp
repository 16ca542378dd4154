#pragma once
// The session's helper thread (private to drivers/mqtt/session*.cpp): it turns "the oldest outstanding
// Delivery is ready" into a Wakeup the session thread's poll() sees.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "drivers/mqtt/session.hpp"
#include "drivers/mqtt/transport.hpp"

namespace carehub::mqtt {

// One message handed to the owner and not yet settled. The watcher thread sets `ready` (after which it no
// longer touches `delivery`); the session thread then calls delivery.finish().
struct Outstanding {
  // A constructor, not an aggregate: make_shared needs one with clang 14 (no parenthesised aggregate init).
  explicit Outstanding(Delivery d) : delivery(std::move(d)) {}
  Delivery delivery;
  std::atomic<bool> ready{false};
};

// Turns "the oldest outstanding Delivery is ready" into something poll() sees. A Delivery only offers a
// blocking wait (a std::future underneath), while the session thread must keep reading the socket; so this
// thread waits on the Deliveries, oldest first (acknowledgements go out in receive order, so a younger
// one that finished first is of no use before the older ones). When one becomes ready, the ones behind it
// that are ready too are taken with it (one commit makes a run of them ready at once), and the session's
// Wakeup fires once for the run, and not at all while an earlier signal is still untaken: the session
// settles everything marked ready after it takes the signal. The Wakeup is the one stop() fires too: the
// session thread clears it only after a take_signal() and then looks at its stop flag, so a stop is never
// lost.
class ReadyWatcher {
 public:
  explicit ReadyWatcher(const Wakeup& wake);
  ~ReadyWatcher();
  ReadyWatcher(const ReadyWatcher&) = delete;
  ReadyWatcher& operator=(const ReadyWatcher&) = delete;

  void watch(std::shared_ptr<Outstanding> o);
  // The connection ended: what is still watched is abandoned. No notify() happens after this returns.
  void forget_all();
  // True when the watcher fired the Wakeup since the last call: the caller clears it.
  bool take_signal() { return signalled_.exchange(false); }

 private:
  void run();

  const Wakeup& wake_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Outstanding>> queue_;
  std::uint64_t generation_ = 0;
  bool quit_ = false;
  std::atomic<bool> signalled_{false};
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace carehub::mqtt
