#include "web/server/sessions.hpp"

#include "web/server/secrets.hpp"

namespace carehub::web {

bool SessionStore::expired(const Entry& e, std::chrono::steady_clock::time_point now) const {
  return now - e.last_used >= options_.idle || now - e.created >= options_.max_age;
}

Result<Session> SessionStore::create(const std::string& user) {
  auto id = random_hex(32);
  if (!id) return id.error();
  auto csrf = random_hex(32);
  if (!csrf) return csrf.error();
  const auto now = clock_.monotonic();
  std::lock_guard lock(mu_);
  std::erase_if(sessions_, [&](const auto& kv) { return expired(kv.second, now); });
  if (sessions_.size() >= options_.max_sessions) {
    // Full: the session unused longest gives way (a technician who logs in again must get in).
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.last_used < oldest->second.last_used) oldest = it;
    }
    sessions_.erase(oldest);
  }
  Session s{*id, user, *csrf};
  sessions_.emplace(s.id, Entry{s, now, now});
  return s;
}

std::optional<Session> SessionStore::touch(const std::string& id) {
  const auto now = clock_.monotonic();
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (expired(it->second, now)) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_used = now;
  return it->second.session;
}

void SessionStore::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  sessions_.erase(id);
}

std::size_t SessionStore::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace carehub::web
