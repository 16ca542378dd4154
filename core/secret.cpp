#include "core/secret.hpp"

#include <cstdlib>
#include <fstream>

namespace carehub {

Result<std::string> read_secret(const std::string& name, const std::string& credentials_dir) {
  std::string path = name;
  if (!name.empty() && name.front() != '/' && !credentials_dir.empty()) path = credentials_dir + "/" + name;
  std::ifstream in(path);
  if (!in) return make_error(Errc::not_found, "cannot read the secret file " + path);
  std::string secret;
  std::getline(in, secret);
  while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ')) secret.pop_back();
  if (secret.empty()) return make_error(Errc::invalid_argument, "the secret file " + path + " is empty");
  return secret;
}

Result<std::string> read_secret(const std::string& name) {
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");  // NOLINT(concurrency-mt-unsafe): read-only
  return read_secret(name, dir ? dir : "");
}

}  // namespace carehub
