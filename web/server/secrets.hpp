#pragma once
// Random tokens and password hashes for carehub-web: session ids, CSRF tokens, display cookies and
// pairing codes all come from the kernel's CSPRNG (getrandom), never from a seeded PRNG.
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace carehub::web {

// `bytes` random bytes as lowercase hex (32 bytes: a 256-bit session id).
Result<std::string> random_hex(std::size_t bytes);
// A number in [0, bound) without modulo bias (pairing codes).
Result<std::uint32_t> random_below(std::uint32_t bound);

// A slow hash for the technician password: yescrypt through libcrypt (the scheme Debian uses for
// /etc/shadow), with a fresh random salt. The credential file holds this string, never the password.
Result<std::string> hash_password(std::string_view password);
// True when `password` matches `hash` (a crypt(3) string: $y$, $gy$, $7$, $2b$, $6$). A hash the
// library cannot read (or "*", "!") matches nothing.
bool verify_password(std::string_view password, const std::string& hash);

// Compares without an early exit, so a token cannot be guessed byte by byte from response times.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace carehub::web
