#include "sync/auth.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/json_check.hpp"

namespace carehub::sync {
namespace {

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string string_member(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string form_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
    else if (c == ' ') out += '+';
    else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<TokenResponse> parse_token_response(long status, const std::string& body, std::string_view invalid_client_hint) {
  // The one safe parse: a deep or 1e999 answer is an error, never an exception or a deep DOM.
  auto parsed = parse_peer_json(body, "token response");
  const nlohmann::json j = parsed ? std::move(*parsed) : nlohmann::json();
  if (status < 200 || status >= 300) {
    std::string what = "token endpoint answered HTTP " + std::to_string(status);
    if (j.is_object() && !string_member(j, "error").empty()) {
      what += ": " + string_member(j, "error");
      if (auto d = string_member(j, "error_description"); !d.empty()) what += " (" + d + ")";
      if (string_member(j, "error") == "invalid_client") what += "; " + std::string(invalid_client_hint);
    }
    return make_error(Errc::unavailable, what);
  }
  if (!parsed) return make_error(Errc::unavailable, "token endpoint: " + parsed.error().message);
  if (!j.is_object()) return make_error(Errc::unavailable, "token endpoint answered something that is not JSON");
  TokenResponse t;
  t.access_token = string_member(j, "access_token");
  if (t.access_token.empty()) return make_error(Errc::unavailable, "token endpoint answer has no access_token");
  const auto type = string_member(j, "token_type");
  if (!type.empty() && type != "Bearer" && type != "bearer") {
    return make_error(Errc::unavailable, "token endpoint issued a \"" + type + "\" token, not a Bearer token");
  }
  if (auto it = j.find("expires_in"); it != j.end() && it->is_number() && it->get<double>() > 0) {
    // Clamped while still a double: converting 1e300 to an integer is undefined behaviour. Rounded up, so
    // 0.5 s stays a (short) lifetime instead of reading as "the endpoint did not say".
    const double seconds = std::ceil(std::min(it->get<double>(), static_cast<double>(kMaxTokenLifetime.count())));
    t.expires_in = std::chrono::seconds(static_cast<std::chrono::seconds::rep>(seconds));
  }
  return t;
}

OAuth2ClientCredentials::OAuth2ClientCredentials(ClientCredentials creds, std::unique_ptr<HttpClient> http,
                                                 const Clock& clock)
    : creds_(std::move(creds)), http_(std::move(http)), clock_(clock) {}

Result<std::string> OAuth2ClientCredentials::token() {
  std::lock_guard lock(mu_);
  if (!token_.empty() && clock_.monotonic() < renew_at_) return token_;
  return fetch();
}

Result<std::string> OAuth2ClientCredentials::refresh(const std::string& rejected) {
  std::lock_guard lock(mu_);
  if (!token_.empty() && token_ != rejected) return token_;
  return fetch();
}

Result<std::string> OAuth2ClientCredentials::fetch() {
  HttpRequest req;
  req.method = "POST";
  req.url = creds_.token_url;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  req.body = "grant_type=client_credentials";
  if (!creds_.scope.empty()) req.body += "&scope=" + form_encode(creds_.scope);
  const bool jwt = static_cast<bool>(creds_.signing_key);
  if (jwt) {
    // private_key_jwt (RFC 7523 §2.2, SMART Backend Services): a fresh assertion per request, since its
    // jti may be used once and it lives only minutes.
    auto key = creds_.signing_key();
    token_.clear();
    if (!key) return make_error(key.error().code, "private_key_jwt: " + key.error().message);
    auto assertion = client_assertion(*key, creds_.client_id, creds_.token_url, clock_.now(), random_jti());
    if (!assertion) return assertion.error();
    req.body += "&client_assertion_type=" + form_encode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
                "&client_assertion=" + *assertion;
  } else {
    // client_secret_basic (RFC 6749 §2.3.1): id and secret form-encoded, then Base64.
    req.headers.emplace_back("Authorization",
                             "Basic " + base64(form_encode(creds_.client_id) + ":" + form_encode(creds_.client_secret)));
  }
  auto resp = http_->send(req);
  token_.clear();
  if (!resp) return make_error(resp.error().code, "token endpoint " + creds_.token_url + ": " + resp.error().message);
  auto parsed = parse_token_response(resp->status, resp->body,
                                     jwt ? "check the client id and that the server holds this hub's public key "
                                           "(carehubctl auth jwks)"
                                         : "check the client id and secret");
  if (!parsed) return make_error(parsed.error().code, parsed.error().message + " (" + creds_.token_url + ")");
  token_ = parsed->access_token;
  // Without expires_in, keep it until the server refuses it.
  const auto life = parsed->expires_in.count() > 0 ? parsed->expires_in : std::chrono::hours(24 * 365);
  renew_at_ = clock_.monotonic() + (life > 2 * creds_.early ? life - creds_.early : life / 2);
  return token_;
}

}  // namespace carehub::sync
