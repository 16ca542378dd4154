#pragma once
// A fresh directory under /tmp for one test, removed with everything in it when the test ends; and the
// small file helpers tests use around it. The one TempDir of the test tree (unit and integration tests
// alike): defined here, inline, so a unit test uses it without linking tests/support.
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace carehub::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/carehub-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Writes `text` to `path` (replacing it).
void write_file(const std::string& path, const std::string& text);
// The whole file, or "" when it cannot be read (a peer's log that was never written).
std::string read_file(const std::string& path);

// The source tree and the build tree (CAREHUB_SOURCE_DIR / CAREHUB_BINARY_DIR override).
std::filesystem::path source_dir();
std::filesystem::path binary_dir();

}  // namespace carehub::test
