#include "web/server/secrets.hpp"

#include <crypt.h>
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace carehub::web {
namespace {

Result<void> fill_random(unsigned char* out, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = ::getrandom(out + done, n - done, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return make_error(Errc::io, std::string("getrandom: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(got);
  }
  return {};
}

}  // namespace

Result<std::string> random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (auto r = fill_random(reinterpret_cast<unsigned char*>(raw.data()), bytes); !r) return r.error();
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char c : raw) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

Result<std::uint32_t> random_below(std::uint32_t bound) {
  if (bound == 0) return make_error(Errc::internal, "random_below(0)");
  // Rejection sampling: values in the last partial range would make some results likelier.
  const std::uint32_t limit = UINT32_MAX - (UINT32_MAX % bound);
  for (;;) {
    std::uint32_t v = 0;
    if (auto r = fill_random(reinterpret_cast<unsigned char*>(&v), sizeof v); !r) return r.error();
    if (v < limit) return v % bound;
  }
}

Result<std::string> hash_password(std::string_view password) {
  if (password.empty()) return make_error(Errc::invalid_argument, "the password is empty");
  if (password.size() > 1024) return make_error(Errc::invalid_argument, "the password is longer than 1024 bytes");
  if (password.find('\0') != std::string_view::npos) {
    return make_error(Errc::invalid_argument, "the password contains a NUL byte");
  }
  std::array<char, 32> entropy{};
  if (auto r = fill_random(reinterpret_cast<unsigned char*>(entropy.data()), entropy.size()); !r) return r.error();
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  // count 0: libcrypt's default cost for yescrypt (about 50 ms here: slow for a guesser, fine for a login).
  if (::crypt_gensalt_rn("$y$", 0, entropy.data(), static_cast<int>(entropy.size()), setting.data(),
                         static_cast<int>(setting.size())) == nullptr) {
    return make_error(Errc::internal, std::string("crypt_gensalt_rn: ") + std::strerror(errno));
  }
  auto data = std::make_unique<crypt_data>();  // 32 KiB: not on the stack
  const std::string pw(password);
  const char* out = ::crypt_r(pw.c_str(), setting.data(), data.get());
  if (out == nullptr || out[0] == '*') return make_error(Errc::internal, "crypt_r could not hash the password");
  return std::string(out);
}

bool verify_password(std::string_view password, const std::string& hash) {
  if (hash.size() < 3 || hash[0] != '$' || password.size() > 1024) return false;
  if (password.find('\0') != std::string_view::npos) return false;
  auto data = std::make_unique<crypt_data>();
  const std::string pw(password);
  const char* out = ::crypt_r(pw.c_str(), hash.c_str(), data.get());
  if (out == nullptr || out[0] == '*') return false;
  return constant_time_equal(out, hash);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace carehub::web
