#include "store/buffer_key.hpp"

#include <string.h>  // explicit_bzero

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace carehub {
namespace {

constexpr std::string_view kShape = " must be 64 hex digits (a raw 256-bit key)";

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

void wipe(std::string& s) {
  if (!s.empty()) explicit_bzero(s.data(), s.size());
  s.clear();
}

BufferKey::~BufferKey() { explicit_bzero(hex_.data(), hex_.size()); }

Result<BufferKey> BufferKey::parse(std::string_view text, std::string_view where) {
  if (text.ends_with('\n')) text.remove_suffix(1);
  if (text.ends_with('\r')) text.remove_suffix(1);
  if (text.size() != 64) {
    return make_error(Errc::invalid_argument, std::string(where) + std::string(kShape) + ", found " +
                                                  std::to_string(text.size()) + " characters");
  }
  BufferKey key;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!is_hex(text[i])) {
      return make_error(Errc::invalid_argument, std::string(where) + std::string(kShape) +
                                                    ", found a character that is not one at position " +
                                                    std::to_string(i + 1));
    }
    key.hex_[i] = text[i];
  }
  return key;
}

Result<BufferKey> BufferKey::read(const std::string& name, const std::string& credentials_dir) {
  std::string path = name;
  if (!name.empty() && name.front() != '/' && !credentials_dir.empty()) path = credentials_dir + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::not_found, "cannot read the buffer key " + path);
  // At most one byte more than a valid key with CR LF: a larger file is refused without reading it all.
  std::string text(67, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  auto key = parse(text, "the buffer key " + path);
  wipe(text);
  return key;
}

Result<BufferKey> BufferKey::read(const std::string& name) {
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");  // NOLINT(concurrency-mt-unsafe): read-only
  return read(name, dir ? dir : "");
}

std::string BufferKey::sqlcipher_form() const {
  std::string s;
  s.reserve(67);
  s += "x'";
  s.append(hex_.data(), hex_.size());
  s += '\'';
  return s;
}

bool BufferKey::operator==(const BufferKey& o) const { return hex_ == o.hex_; }

}  // namespace carehub
