#include "tests/support/temp_dir.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace carehub::test {

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

static std::filesystem::path env_dir(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? v : fallback;
}

std::filesystem::path source_dir() { return env_dir("CAREHUB_SOURCE_DIR", CAREHUB_SOURCE_DIR_DEFAULT); }
std::filesystem::path binary_dir() { return env_dir("CAREHUB_BINARY_DIR", CAREHUB_BINARY_DIR_DEFAULT); }

}  // namespace carehub::test
