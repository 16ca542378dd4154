#pragma once
// The hub's signed JSON Web Tokens (RFC 7515, 7519) for OAuth2 client authentication with private_key_jwt
// (RFC 7523) as the SMART Backend Services profile asks: RS384 or ES384, the key named (kid) by its
// RFC 7638 thumbprint, a client assertion living at most five minutes with a unique jti. No shared secret
// leaves the hub: the server holds only the public key, which the technician registers as a JWK Set.
// The private key stays inside SigningKey; only its public half is ever shown.
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace carehub::sync {

// base64url without padding (RFC 7515 §2), the encoding of every JWT part and JWK number.
std::string base64url(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

class SigningKey {
 public:
  // A PEM private key (PKCS#8 or traditional): RSA of at least 2048 bits signs RS384, EC P-384 signs
  // ES384; anything else is refused, naming `what` (the file) and never the content.
  static Result<SigningKey> from_pem(std::string_view pem, const std::string& what);

  const std::string& algorithm() const { return alg_; }  // "RS384" or "ES384"
  const std::string& kid() const { return kid_; }        // RFC 7638 SHA-256 thumbprint, base64url
  // {kty, n, e | crv, x, y, kid, alg, use:"sig"}: what a server's JWK Set holds for this hub.
  const nlohmann::json& public_jwk() const { return jwk_; }

  // header.payload.signature with the header {alg, kid, typ:"JWT"}; members of `header` are added or
  // replace those (tests forge headers with it). ES384's signature is JOSE's raw r||s, not DER.
  Result<std::string> sign(const nlohmann::json& claims, const nlohmann::json& header = nlohmann::json::object()) const;

 private:
  std::shared_ptr<evp_pkey_st> key_;
  std::string alg_;
  std::string kid_;
  nlohmann::json jwk_;
};

// SMART Backend Services: a client assertion lives at most 5 minutes; 4 leave room for the server's clock.
inline constexpr std::chrono::seconds kAssertionLifetime{240};

// The client assertion for one token request: iss = sub = client_id, aud = the token URL, iat = now,
// exp = now + kAssertionLifetime, jti as given (random_jti() in use; fixed in tests).
Result<std::string> client_assertion(const SigningKey& key, const std::string& client_id, const std::string& token_url,
                                     TimePoint now, const std::string& jti);
std::string random_jti();  // 128 random bits, base64url

// The key named like a secret (core/secret.hpp): a relative name is looked up in systemd's
// $CREDENTIALS_DIRECTORY when there is one. `credentials_dir` empty: relative to the working directory.
Result<SigningKey> read_signing_key(const std::string& name, const std::string& credentials_dir);
Result<SigningKey> read_signing_key(const std::string& name);  // $CREDENTIALS_DIRECTORY from the environment

// Where a token source gets its key. Called at each token request, so a key file replaced (or a reload
// that names another) takes effect at the next token without losing what is buffered.
using SigningKeySource = std::function<Result<SigningKey>()>;
SigningKeySource signing_key_file(std::string name);

// {"keys":[public JWK...]} of the named key files in order (empty names skipped): the current key and,
// during a rotation, the next one, so the server knows the next key before the hub signs with it.
Result<nlohmann::json> jwks_from_files(const std::vector<std::string>& names);

}  // namespace carehub::sync
