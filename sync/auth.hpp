#pragma once
// Credentials for the FHIR server: a static bearer token, or OAuth2 client credentials (RFC 6749 §4.4)
// against the gateway's token endpoint (Keycloak), cached until shortly before they expire. The client
// authenticates with a shared secret (client_secret_basic) or, recommended, with a signed JWT
// (private_key_jwt, RFC 7523, SMART Backend Services; sync/jwt.hpp) so no secret leaves the hub. Secrets
// arrive as values read from files by the daemon; they are never logged.
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "sync/http_client.hpp"
#include "sync/jwt.hpp"

namespace carehub::sync {

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // The current access token (fetched when there is none or it is about to expire).
  virtual Result<std::string> token() = 0;
  // The server just answered 401 to `rejected`: a new token, unless the cached one is already newer.
  virtual Result<std::string> refresh(const std::string& rejected) = 0;
  virtual void cancel() {}
};

class StaticToken final : public TokenSource {
 public:
  explicit StaticToken(std::string token) : token_(std::move(token)) {}
  Result<std::string> token() override { return token_; }
  // A static token cannot be renewed: the 401 stands, and the operator must rotate it.
  Result<std::string> refresh(const std::string&) override {
    return make_error(Errc::unavailable, "the server refused the configured bearer token (HTTP 401)");
  }

 private:
  std::string token_;
};

struct ClientCredentials {
  std::string token_url;
  std::string client_id;
  std::string client_secret;
  std::string scope;  // optional
  // Renew this long before expiry, so a token never expires between fetching it and the server reading it.
  std::chrono::seconds early{30};
  // Set: private_key_jwt instead of the secret. Asked at each token request, so a rotated key is used
  // from the next token on.
  SigningKeySource signing_key = nullptr;
};

class OAuth2ClientCredentials final : public TokenSource {
 public:
  OAuth2ClientCredentials(ClientCredentials creds, std::unique_ptr<HttpClient> http, const Clock& clock);
  Result<std::string> token() override;
  Result<std::string> refresh(const std::string& rejected) override;
  void cancel() override { http_->cancel(); }

 private:
  Result<std::string> fetch();

  const ClientCredentials creds_;
  std::unique_ptr<HttpClient> http_;
  const Clock& clock_;
  std::mutex mu_;
  std::string token_;
  std::chrono::steady_clock::time_point renew_at_{};
};

// Parses a token endpoint's answer (RFC 6749 §5.1 / §5.2): the token and its lifetime, or an error that
// names the endpoint's error code and description.
// The longest token lifetime taken as said (expires_in beyond it, up to 1e308, reads as this): renewing
// once a day costs nothing, and the bound keeps the double-to-integer conversion defined.
inline constexpr std::chrono::seconds kMaxTokenLifetime{24 * 3600};
struct TokenResponse {
  std::string access_token;
  std::chrono::seconds expires_in{0};  // 0: the endpoint did not say
};
// `invalid_client_hint` ends the message of an invalid_client refusal (what the operator should check).
Result<TokenResponse> parse_token_response(long status, const std::string& body,
                                           std::string_view invalid_client_hint = "check the client id and secret");

// application/x-www-form-urlencoded escaping (RFC 6749 appendix B).
std::string form_encode(std::string_view s);

}  // namespace carehub::sync
