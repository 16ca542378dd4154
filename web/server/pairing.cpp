#include "web/server/pairing.hpp"

#include <openssl/evp.h>

#include <cstdio>
#include <fstream>

#include "core/json_check.hpp"
#include "core/time.hpp"
#include "web/server/secrets.hpp"

namespace carehub::web {

Result<std::string> PairingCodes::start() {
  auto n = random_below(1000000);
  if (!n) return n.error();
  char code[8];
  std::snprintf(code, sizeof code, "%06u", static_cast<unsigned>(*n));
  std::lock_guard lock(mu_);
  code_ = code;
  expires_ = clock_.monotonic() + options_.ttl;
  expires_wall_ = clock_.now() + options_.ttl;
  attempts_ = 0;
  return code_;
}

std::optional<PairingCodes::Shown> PairingCodes::current() const {
  std::lock_guard lock(mu_);
  if (code_.empty() || clock_.monotonic() >= expires_) return std::nullopt;
  return Shown{code_, expires_wall_};
}

bool PairingCodes::confirm(const std::string& code) {
  std::lock_guard lock(mu_);
  if (code_.empty()) return false;
  if (clock_.monotonic() >= expires_) {
    code_.clear();
    return false;
  }
  if (constant_time_equal(code, code_)) {
    code_.clear();  // one use
    return true;
  }
  if (++attempts_ >= options_.max_attempts) code_.clear();
  return false;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kDigits[md[i] >> 4]);
    out.push_back(kDigits[md[i] & 0xf]);
  }
  return out;
}

Result<DisplayRegistry> DisplayRegistry::open(std::string path, const Clock& clock) {
  DisplayRegistry r(std::move(path), clock);
  if (r.path_.empty()) return r;
  std::ifstream probe(r.path_);
  if (!probe) return r;  // nothing paired yet
  auto text = read_text_file(r.path_);
  if (!text) return text.error();
  // carehub-web's own file, but it lives on disk: read it through the same bounded parse.
  auto doc = parse_peer_json(*text, r.path_, {8, 1 << 20});
  if (!doc) return doc.error();
  if (!doc->is_array()) return make_error(Errc::invalid_argument, r.path_ + ": expected an array of displays");
  for (const auto& d : *doc) {
    if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string()) continue;
    const auto digest = d["digest"].get<std::string>();
    if (digest.size() != 64) continue;
    r.displays_.push_back({digest.substr(0, 12), digest, d.value("paired", "")});
  }
  return r;
}

DisplayRegistry::DisplayRegistry(DisplayRegistry&& other) noexcept
    : path_(std::move(other.path_)), clock_(other.clock_), displays_(std::move(other.displays_)) {}

Result<std::string> DisplayRegistry::add() {
  auto token = random_hex(32);
  if (!token) return token.error();
  const auto digest = sha256_hex(*token);
  std::lock_guard lock(mu_);
  displays_.push_back({digest.substr(0, 12), digest, format_rfc3339(clock_.now())});
  if (auto saved = save(); !saved) {
    displays_.pop_back();
    return saved.error();
  }
  return token;
}

bool DisplayRegistry::known(const std::string& token) const {
  if (token.size() != 64) return false;
  const auto digest = sha256_hex(token);
  std::lock_guard lock(mu_);
  bool found = false;
  for (const auto& d : displays_) found |= constant_time_equal(d.digest, digest);
  return found;
}

std::vector<DisplayRegistry::Display> DisplayRegistry::list() const {
  std::lock_guard lock(mu_);
  return displays_;
}

Result<bool> DisplayRegistry::revoke(const std::string& id) {
  std::lock_guard lock(mu_);
  const auto before = displays_.size();
  std::erase_if(displays_, [&](const Display& d) { return d.id == id; });
  if (displays_.size() == before) return false;
  if (auto saved = save(); !saved) return saved.error();
  return true;
}

Result<void> DisplayRegistry::save() const {
  if (path_.empty()) return {};
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : displays_) out.push_back({{"digest", d.digest}, {"paired", d.paired}});
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << out.dump(1) << "\n";
    f.flush();
    if (!f) return make_error(Errc::io, "cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) return make_error(Errc::io, "cannot replace " + path_);
  return {};
}

}  // namespace carehub::web
