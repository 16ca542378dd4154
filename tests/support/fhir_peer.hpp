#pragma once
// The local FHIR server (tests/peers/fhir) on a free loopback port, started for one test and stopped
// with it, plus the look-ups tests make against it and the test controls it offers (OAuth2 tokens,
// rejection rules). See tests/peers/fhir/README.md.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace carehub::test {

struct FhirPeerOptions {
  int port = 0;  // 0 picks a free one; a fixed port lets a test restart the peer where carehubd expects it
  // Both non-empty: OAuth2 on (--auth id:secret): POST /oauth2/token issues tokens and every FHIR request
  // needs one.
  std::string client_id;
  std::string client_secret;
  int token_ttl_s = 300;
  std::vector<std::string> extra_args;  // more server.mjs arguments, e.g. --no-check-references
  // Modes that behave like real servers (server.mjs --help):
  bool no_gzip = false;             // 400 to a Content-Encoding: gzip body (Tomcat, nginx without gunzip)
  bool refuse_numeric_ids = false;  // PUT Type/<digits> of a missing resource: 400 (HAPI-0960)
  bool hl7_invariants = false;      // every write also passes conformance.mjs, else 422
  bool check_references = true;     // subject/device/patient/author/extension references must exist (HAPI-1094)
};

// "Basic <base64>" for an OAuth2 client (RFC 6749 §2.3.1: id and secret form-urlencoded, then joined).
std::string basic_authorization(const std::string& client_id, const std::string& client_secret);

class FhirPeer {
 public:
  // Starts the server with port 0 and reads the port it prints. Throws with the server's log on failure.
  // `port` = 0 picks a free one; a fixed port lets a test restart the peer where carehubd expects it.
  explicit FhirPeer(const std::string& log_file, int port = 0);
  FhirPeer(const std::string& log_file, const FhirPeerOptions& options);
  ~FhirPeer();
  FhirPeer(const FhirPeer&) = delete;
  FhirPeer& operator=(const FhirPeer&) = delete;

  int port() const { return port_; }
  std::string base_url() const;   // http://127.0.0.1:<port>/fhir/R4
  std::string token_url() const;  // http://127.0.0.1:<port>/oauth2/token (404 unless auth is on)
  void stop();

  // Look-ups. With auth on they fetch a token themselves (it counts in stats().tokens.issued) and keep it
  // until expire_tokens(); a token that expired by its lifetime is replaced once, on its 401.
  nlohmann::json get(const std::string& path_and_query);  // GET <base>/<path>, parsed
  // How many resources of `type` carry identifier `system|value`.
  std::size_t count_by_identifier(const std::string& type, const std::string& system, const std::string& value);
  std::size_t count(const std::string& type);
  void put(const std::string& path, const nlohmann::json& resource);

  // A new access token from the token endpoint with the configured client (HTTP Basic). Throws if refused.
  std::string fetch_token();
  // Every token issued so far stops working at once (rotation); returns how many were still valid.
  int expire_tokens();
  // Moves the peer's token clock forward: tokens expire by their lifetime without a test waiting for it.
  void advance_token_clock(double seconds);
  // Creates (single or in a bundle, plain or conditional) of resources carrying `identifier`
  // ("system|value") answer `status` with an OperationOutcome; in a batch only that entry fails.
  void reject(const std::string& identifier, int status = 422);
  void clear_rejections();
  // The next `count` writing requests that carry a resource of `resource_type` (with the top-level fields
  // of `where`, e.g. {"severity":"high"}) are processed in full and then their connection is closed
  // without an answer (stats()["lost_answers"] counts them).
  void lose_answers(const std::string& resource_type, int count = 1, const nlohmann::json& where = nlohmann::json::object());
  // {"requests","resources":{type:n},"tokens":{"issued","rejected_requests"},"rejections":{"rules","rejected"}}
  nlohmann::json stats();
  void reset();  // deletes every resource and zeroes the counters; tokens and rejection rules stay

 private:
  void start(const std::string& log_file, const FhirPeerOptions& options);
  std::string origin() const;  // http://127.0.0.1:<port>
  nlohmann::json fhir(const std::string& method, const std::string& url, const std::string& body = {});
  nlohmann::json control(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr);

  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
  FhirPeerOptions options_;
  std::optional<std::string> token_;  // the look-ups' token, with auth on
};

}  // namespace carehub::test
