#pragma once
// Technician sessions: a random 256-bit id (the cookie) and its own CSRF token (the synchronizer token
// every state-changing request must carry). A session ends after `idle` without a request, after `max_age`
// in any case, at logout, or when the table is full and it is the least recently used. Time is the
// injected clock's monotonic time, so tests expire sessions exactly.
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace carehub::web {

struct Session {
  std::string id;
  std::string user;
  std::string csrf;
};

struct SessionOptions {
  std::chrono::seconds idle{15 * 60};
  std::chrono::seconds max_age{12 * 60 * 60};
  std::size_t max_sessions = 32;
};

class SessionStore {
 public:
  SessionStore(const Clock& clock, SessionOptions options = {}) : clock_(clock), options_(options) {}

  Result<Session> create(const std::string& user);
  // The live session with this id, its idle time restarted; nullopt when unknown or expired (then removed).
  std::optional<Session> touch(const std::string& id);
  void remove(const std::string& id);
  std::size_t size() const;
  const SessionOptions& options() const { return options_; }

 private:
  struct Entry {
    Session session;
    std::chrono::steady_clock::time_point created;
    std::chrono::steady_clock::time_point last_used;
  };
  bool expired(const Entry& e, std::chrono::steady_clock::time_point now) const;

  const Clock& clock_;
  const SessionOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> sessions_;
};

}  // namespace carehub::web
