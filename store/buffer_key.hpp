#pragma once
// The key of the buffer encrypted at rest (issue 18, docs/design/encrypted-buffer.md "The key"): a raw
// 256-bit key written as 64 hex digits, read from the systemd credential `buffer-key`
// (LoadCredentialEncrypted=), or for tests from a file the configuration names. The key itself is never
// in the configuration, never in a message and never in a log; memory holding it is wiped when freed.
#include <array>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace carehub {

class BufferKey {
 public:
  // Exactly 64 hex digits, an optional trailing newline (CR LF too). Anything else is
  // Errc::invalid_argument naming `where` (a file, a credential), never the text.
  static Result<BufferKey> parse(std::string_view text, std::string_view where);
  // Reads `name`: absolute, or relative to `credentials_dir` ($CREDENTIALS_DIRECTORY) when that is set,
  // else relative to the working directory. Missing: Errc::not_found; malformed: Errc::invalid_argument.
  static Result<BufferKey> read(const std::string& name, const std::string& credentials_dir);
  // read() with $CREDENTIALS_DIRECTORY from the environment.
  static Result<BufferKey> read(const std::string& name);

  BufferKey(const BufferKey& o) : hex_(o.hex_) {}
  BufferKey& operator=(const BufferKey& o) = default;
  ~BufferKey();

  // SQLCipher's raw-key form, x'<64 hex digits>', for sqlite3_key and ATTACH … KEY. The caller wipes
  // every copy it makes (wipe()).
  std::string sqlcipher_form() const;
  bool operator==(const BufferKey& o) const;

 private:
  BufferKey() = default;
  std::array<char, 64> hex_{};
};

// Overwrites `s` in a way the compiler may not drop (explicit_bzero), then clears it.
void wipe(std::string& s);

}  // namespace carehub
