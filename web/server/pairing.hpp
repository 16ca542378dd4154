#pragma once
// Pairing a display on the home network: the hub's own screen (loopback) shows a six-digit code that
// lives `ttl` and works once; the person types it on the tablet; the tablet gets a long-lived display
// token (its cookie). Wrong guesses void the code after `max_attempts`, and logins' rate limiter bounds
// guesses per address on top, so 10^6 codes cannot be walked through.
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace carehub::web {

struct PairingOptions {
  std::chrono::seconds ttl{5 * 60};
  int max_attempts = 5;
};

class PairingCodes {
 public:
  PairingCodes(const Clock& clock, PairingOptions options = {}) : clock_(clock), options_(options) {}
  // A new code (replacing any earlier one), shown only on the hub's own screen.
  Result<std::string> start();
  struct Shown {
    std::string code;
    TimePoint expires;
  };
  std::optional<Shown> current() const;
  // True once for the right code within its time; it is then used up.
  bool confirm(const std::string& code);

 private:
  const Clock& clock_;
  const PairingOptions options_;
  mutable std::mutex mu_;
  std::string code_;
  std::chrono::steady_clock::time_point expires_{};
  TimePoint expires_wall_{};
  int attempts_ = 0;
};

// The paired displays: only SHA-256 digests of their tokens are kept (in `path`, JSON, rewritten
// atomically), so the file does not hand out working cookies.
class DisplayRegistry {
 public:
  struct Display {
    std::string id;  // the digest's first 12 hex digits: what the technician sees and revokes
    std::string digest;
    std::string paired;  // RFC 3339
  };
  // Reads `path` when it exists ("" keeps displays in memory only, as tests do).
  static Result<DisplayRegistry> open(std::string path, const Clock& clock);
  DisplayRegistry(DisplayRegistry&& other) noexcept;
  // A new display token (the cookie value); kept as its digest.
  Result<std::string> add();
  bool known(const std::string& token) const;
  std::vector<Display> list() const;
  Result<bool> revoke(const std::string& id);

 private:
  DisplayRegistry(std::string path, const Clock& clock) : path_(std::move(path)), clock_(clock) {}
  Result<void> save() const;  // under mu_
  std::string path_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::vector<Display> displays_;
};

std::string sha256_hex(std::string_view data);

}  // namespace carehub::web
