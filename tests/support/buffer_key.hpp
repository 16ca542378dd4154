#pragma once
// The buffer key of every carehubd the tests start (issue 18: the buffer is encrypted at rest and
// carehubd exits 2 without a key). Written beside the buffer as systemd's credential buffer-key would hold
// it, and named by /store/key_file; a test that opens the buffer itself passes test_buffer_key() in
// StoreOptions::key.
#include <string>

#include "store/buffer_key.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::test {

inline constexpr const char* kBufferKeyHex = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

// Writes <dir>/buffer-key and returns its path, for /store/key_file.
inline std::string write_buffer_key(const TempDir& dir) {
  write_file(dir.file("buffer-key"), std::string(kBufferKeyHex) + "\n");
  return dir.file("buffer-key");
}

inline BufferKey test_buffer_key() { return BufferKey::parse(kBufferKeyHex, "the tests' buffer key").value(); }

}  // namespace carehub::test
