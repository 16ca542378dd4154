#pragma once
// The uploader reaches the network only through HttpClient, so tests can replace it and the libcurl
// adapter is the one place a CURLcode exists.
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/counters.hpp"
#include "core/result.hpp"

namespace carehub::sync {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string header(std::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // A response of any status is a value; only transport failures are errors
  // (Errc::unavailable: no connection; Errc::timeout: connect or whole-request timeout).
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
  // Thread-safe: makes the request in progress, and every later one, fail at once (shutdown).
  virtual void cancel() = 0;
};

struct CurlOptions {
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{60000};
  std::string ca_file;     // empty: the system store
  bool verify_tls = true;  // off only by explicit configuration
  // Mutual TLS: the hub's client certificate and key (PEM files; the key may be the same file).
  std::string client_cert_file;
  std::string client_key_file;
  // The most of one answer's body kept, counted after Content-Encoding is decoded (a 1 MB gzip answer
  // can decode to gigabytes). A batch answer for a full bundle is a few hundred KiB at most.
  std::size_t max_response_bytes = 8 * 1024 * 1024;
};

// One reused CURL easy handle: keep-alive across requests. Not thread-safe; one per uploader.
// `counters` (may be null) counts refused answers as sync_response_too_large.
std::unique_ptr<HttpClient> make_curl_client(const CurlOptions& options, Counters* counters = nullptr);

}  // namespace carehub::sync
