#pragma once
// Control-socket watchers of alerts (`carehubctl alerts watch`): an AlertPublisher that copies each
// committed event into every subscriber's bounded queue and wakes it through an eventfd the
// connection's thread polls beside its socket. publish() never blocks the pipeline's writer thread: a
// watcher that falls more than `capacity` events behind loses the oldest and is told how many.
#include <cstddef>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <vector>

#include "daemon/unique_fd.hpp"
#include "rules/publisher.hpp"

namespace carehub::daemon {

class AlertWatchers final : public rules::AlertPublisher {
 public:
  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    int fd() const { return wake_.get(); }  // readable while events are queued
    // Takes everything queued; `lost` is how many were dropped since the last take.
    std::vector<AlertEvent> take(std::size_t& lost);

   private:
    friend class AlertWatchers;
    Subscription(AlertWatchers& owner, std::size_t capacity, UniqueFd wake);
    void push(const AlertEvent& e);
    AlertWatchers& owner_;
    const std::size_t capacity_;
    UniqueFd wake_;
    std::mutex mu_;
    std::deque<AlertEvent> queue_;
    std::size_t lost_ = 0;
  };

  AlertWatchers() = default;
  AlertWatchers(const AlertWatchers&) = delete;
  AlertWatchers& operator=(const AlertWatchers&) = delete;

  // nullptr when no eventfd can be made (the caller reports it).
  std::unique_ptr<Subscription> subscribe(std::size_t capacity = 1000);
  void publish(const AlertEvent& event) override;
  std::size_t count() const;

 private:
  void remove(Subscription* s);
  mutable std::mutex mu_;
  std::list<Subscription*> subscribers_;
};

}  // namespace carehub::daemon
