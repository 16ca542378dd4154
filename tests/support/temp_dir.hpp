#pragma once
// A fresh directory under /tmp for one test, removed with everything in it when the test ends.
#include <filesystem>
#include <string>

namespace carehub::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

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
