#include "sync/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

namespace carehub::sync {
namespace {

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// The reason OpenSSL gave for the last failure, and a clean error queue for whoever comes next.
std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

// A big-endian unsigned number parameter of the key; `width` > 0 pads it to that many bytes (EC
// coordinates and signature halves have a fixed width in JOSE).
std::optional<std::string> big_number(const EVP_PKEY* key, const char* name, int width = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) return std::nullopt;
  const std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(raw, BN_free);
  const int len = width > 0 ? width : BN_num_bytes(bn.get());
  std::string out(static_cast<std::size_t>(len), '\0');
  if (BN_bn2binpad(bn.get(), bytes(out), len) != len) return std::nullopt;
  return out;
}

std::string sha256(std::string_view in) {
  std::string out(32, '\0');
  unsigned int len = 0;
  EVP_Digest(in.data(), in.size(), bytes(out), &len, EVP_sha256(), nullptr);
  return out;
}

// ECDSA's DER SEQUENCE {r, s} as JOSE wants it (RFC 7518 §3.4): r and s, each padded to 48 bytes for P-384.
Result<std::string> der_to_raw(const std::string& der) {
  const unsigned char* p = bytes(der);
  const std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())),
                                                                  ECDSA_SIG_free);
  if (!sig) return make_error(Errc::internal, "ES384 signature is not DER: " + openssl_reason());
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(96, '\0');
  if (BN_bn2binpad(r, bytes(out), 48) != 48 || BN_bn2binpad(s, bytes(out) + 48, 48) != 48) {
    return make_error(Errc::internal, "ES384 signature half longer than 48 bytes");
  }
  return out;
}

}  // namespace

std::string base64url(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(bytes(out), bytes(in), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  std::replace(out.begin(), out.end(), '+', '-');
  std::replace(out.begin(), out.end(), '/', '_');
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string b64(text);
  for (char& c : b64) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
    else if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
  }
  const std::size_t pad = (4 - b64.size() % 4) % 4;
  b64.append(pad, '=');
  std::string out(3 * b64.size() / 4, '\0');
  const int n = EVP_DecodeBlock(bytes(out), bytes(b64), static_cast<int>(b64.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);  // DecodeBlock counts the padding as zero bytes
  return out;
}

Result<SigningKey> SigningKey::from_pem(std::string_view pem, const std::string& what) {
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  // No passphrase callback: OpenSSL's default would prompt on a terminal carehubd does not have.
  pem_password_cb* no_passphrase = [](char*, int, int, void*) { return 0; };
  EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr;
  if (!raw) {
    ERR_clear_error();
    return make_error(Errc::invalid_argument, what + ": no unencrypted PEM private key (want an RSA or EC P-384 key, "
                                                     "e.g. openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384)");
  }
  SigningKey k;
  k.key_.reset(raw, EVP_PKEY_free);
  // RFC 7638: the required members only, in lexicographic order, no whitespace (nlohmann's object is sorted).
  nlohmann::json required;
  if (EVP_PKEY_is_a(raw, "RSA")) {
    if (EVP_PKEY_get_bits(raw) < 2048) {
      return make_error(Errc::invalid_argument, what + ": RSA key of " + std::to_string(EVP_PKEY_get_bits(raw)) +
                                                    " bits; RS384 needs at least 2048");
    }
    auto n = big_number(raw, OSSL_PKEY_PARAM_RSA_N);
    auto e = big_number(raw, OSSL_PKEY_PARAM_RSA_E);
    if (!n || !e) return make_error(Errc::invalid_argument, what + ": cannot read the RSA public key: " + openssl_reason());
    k.alg_ = "RS384";
    required = {{"kty", "RSA"}, {"n", base64url(*n)}, {"e", base64url(*e)}};
  } else if (EVP_PKEY_is_a(raw, "EC")) {
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(raw, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1 ||
        std::string_view(group) != "secp384r1") {
      ERR_clear_error();
      return make_error(Errc::invalid_argument, what + ": EC key on curve " + (group[0] ? group : "(unknown)") +
                                                    "; ES384 needs P-384 (secp384r1)");
    }
    auto x = big_number(raw, OSSL_PKEY_PARAM_EC_PUB_X, 48);
    auto y = big_number(raw, OSSL_PKEY_PARAM_EC_PUB_Y, 48);
    if (!x || !y) return make_error(Errc::invalid_argument, what + ": cannot read the EC public key: " + openssl_reason());
    k.alg_ = "ES384";
    required = {{"kty", "EC"}, {"crv", "P-384"}, {"x", base64url(*x)}, {"y", base64url(*y)}};
  } else {
    return make_error(Errc::invalid_argument, what + ": a " + std::string(EVP_PKEY_get0_type_name(raw)) +
                                                  " key; SMART Backend Services signs with RSA (RS384) or EC P-384 (ES384)");
  }
  k.kid_ = base64url(sha256(required.dump()));
  k.jwk_ = required;
  k.jwk_["kid"] = k.kid_;
  k.jwk_["alg"] = k.alg_;
  k.jwk_["use"] = "sig";
  return k;
}

Result<std::string> SigningKey::sign(const nlohmann::json& claims, const nlohmann::json& header) const {
  nlohmann::json h = {{"alg", alg_}, {"kid", kid_}, {"typ", "JWT"}};
  for (const auto& [name, value] : header.items()) h[name] = value;
  const std::string input = base64url(h.dump()) + "." + base64url(claims.dump());
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t len = 0;
  // An RSA key signs PKCS#1 v1.5 by default, which is RS384; EC gives DER, converted below.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, bytes(input), input.size()) != 1) {
    return make_error(Errc::internal, "cannot sign the JWT: " + openssl_reason());
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), bytes(sig), &len, bytes(input), input.size()) != 1) {
    return make_error(Errc::internal, "cannot sign the JWT: " + openssl_reason());
  }
  sig.resize(len);
  if (alg_ == "ES384") {
    auto raw = der_to_raw(sig);
    if (!raw) return raw.error();
    sig = std::move(*raw);
  }
  return input + "." + base64url(sig);
}

Result<std::string> client_assertion(const SigningKey& key, const std::string& client_id, const std::string& token_url,
                                     TimePoint now, const std::string& jti) {
  const std::int64_t iat = to_epoch_ms(now) / 1000;
  return key.sign({{"iss", client_id},
                   {"sub", client_id},
                   {"aud", token_url},
                   {"iat", iat},
                   {"exp", iat + kAssertionLifetime.count()},
                   {"jti", jti}});
}

std::string random_jti() {
  std::string raw(16, '\0');
  if (RAND_bytes(bytes(raw), static_cast<int>(raw.size())) != 1) std::abort();  // no entropy: nothing safe to do
  return base64url(raw);
}

Result<SigningKey> read_signing_key(const std::string& name, const std::string& credentials_dir) {
  // The same lookup as core/secret.cpp, but the whole file: a PEM has many lines.
  std::string path = name;
  if (!name.empty() && name.front() != '/' && !credentials_dir.empty()) path = credentials_dir + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::not_found, "cannot read the key file " + path);
  constexpr std::streamsize kMaxPem = 64 * 1024;  // an RSA-16384 PEM is ~13 KiB
  std::string pem(static_cast<std::size_t>(kMaxPem), '\0');
  in.read(pem.data(), kMaxPem);
  pem.resize(static_cast<std::size_t>(in.gcount()));
  auto key = SigningKey::from_pem(pem, "the key file " + path);
  OPENSSL_cleanse(pem.data(), pem.size());
  return key;
}

Result<SigningKey> read_signing_key(const std::string& name) {
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");  // NOLINT(concurrency-mt-unsafe): read-only
  return read_signing_key(name, dir ? dir : "");
}

SigningKeySource signing_key_file(std::string name) {
  return [name = std::move(name)] { return read_signing_key(name); };
}

Result<nlohmann::json> jwks_from_files(const std::vector<std::string>& names) {
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& name : names) {
    if (name.empty()) continue;
    auto key = read_signing_key(name);
    if (!key) return key.error();
    const bool seen = std::any_of(keys.begin(), keys.end(), [&](const nlohmann::json& j) { return j["kid"] == key->kid(); });
    if (!seen) keys.push_back(key->public_jwk());
  }
  return nlohmann::json{{"keys", std::move(keys)}};
}

}  // namespace carehub::sync
