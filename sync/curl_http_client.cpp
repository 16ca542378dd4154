#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>

#include "net/curl_global.hpp"
#include "sync/http_client.hpp"

namespace carehub::sync {

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

namespace {

// Headers kept per answer: far above what a FHIR server or token endpoint sends (libcurl itself refuses
// more than 300 KiB of them), so only a peer that never stops sending them meets it.
constexpr std::size_t kMaxHeaderBytes = 256 * 1024;

// What one transfer received, and why it was cut short if we cut it.
struct Received {
  HttpResponse* response = nullptr;
  std::size_t max_body = 0;
  std::size_t header_bytes = 0;
  bool body_too_large = false;
  bool headers_too_large = false;
};

// "8 MiB" for whole MiB, bytes otherwise: the limit as an operator would write it.
std::string size_text(std::size_t bytes) {
  constexpr std::size_t kMiB = 1024 * 1024;
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  return std::to_string(bytes) + " bytes";
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Received*>(user);
  const std::size_t bytes = size * n;
  // libcurl hands over the body after Content-Encoding is decoded: this counts what we would hold, so a
  // small gzip answer that inflates to gigabytes is stopped at the cap, not at its wire size.
  if (bytes > r->max_body - r->response->body.size()) {
    r->body_too_large = true;
    return 0;  // a short count aborts the transfer (CURLE_WRITE_ERROR)
  }
  r->response->body.append(data, bytes);
  return bytes;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Received*>(user);
  r->header_bytes += size * n;
  if (r->header_bytes > kMaxHeaderBytes) {
    r->headers_too_large = true;
    return 0;
  }
  HttpResponse* response = r->response;
  std::string_view line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
    response->headers.emplace_back(std::move(name), std::string(value));
  } else if (line.starts_with("HTTP/")) {
    response->headers.clear();  // a new response (after 100-continue or redirect)
  }
  return size * n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(user)->load() ? 1 : 0;  // non-zero aborts the transfer
}

class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient(const CurlOptions& options, Counters* counters) : options_(options), counters_(counters) {
    curl_.reset(curl_easy_init());
  }

  void cancel() override { cancelled_ = true; }

  Result<HttpResponse> send(const HttpRequest& request) override {
    if (cancelled_) return make_error(Errc::unavailable, "http: cancelled (shutting down)");
    if (!curl_) return make_error(Errc::internal, "curl: cannot create a handle");
    CURL* c = curl_.get();
    curl_easy_reset(c);  // keeps the connection cache: keep-alive survives
    HttpResponse response;
    Received received{&response, options_.max_response_bytes};
    struct SlistFree {
      void operator()(curl_slist* l) const { curl_slist_free_all(l); }
    };
    std::unique_ptr<curl_slist, SlistFree> headers;
    for (const auto& [k, v] : request.headers) {
      headers.reset(curl_slist_append(headers.release(), (k + ": " + v).c_str()));
    }
    headers.reset(curl_slist_append(headers.release(), "Expect:"));  // no 100-continue round trip
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method != "GET") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &received);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &received);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM-based DNS timeouts
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &cancelled_);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // accept any compression curl supports
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.client_cert_file.empty()) {  // mutual TLS
      curl_easy_setopt(c, CURLOPT_SSLCERT, options_.client_cert_file.c_str());
      curl_easy_setopt(c, CURLOPT_SSLKEY, options_.client_key_file.c_str());
    }
    // libcurl's own words name the cause ("SSL certificate problem: unable to get local issuer
    // certificate", "OpenSSL SSL_read: ... alert certificate required"): curl_easy_strerror() does not.
    char detail[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
    const CURLcode rc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
    if (received.body_too_large || received.headers_too_large) {
      // The request may well have been processed: the caller retries as after any failure (conditional
      // create makes that safe), and the counter shows a server or a proxy answering with too much.
      if (counters_) counters_->add("sync_response_too_large");
      const std::string what = received.body_too_large
                                   ? "response larger than " + size_text(options_.max_response_bytes) + " (decoded)"
                                   : "response headers larger than " + size_text(kMaxHeaderBytes);
      return make_error(Errc::full, "http: " + request.method + " " + request.url + ": " + what + ": aborted");
    }
    if (rc != CURLE_OK) {
      const Errc code = rc == CURLE_OPERATION_TIMEDOUT ? Errc::timeout : Errc::unavailable;
      std::string why = curl_easy_strerror(rc);
      if (detail[0] != '\0' && why != detail) why += " (" + std::string(detail) + ")";
      return make_error(code, std::string("http: ") + request.method + " " + request.url + ": " + why);
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
  }

 private:
  struct CurlFree {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
  };
  CurlOptions options_;
  Counters* counters_;
  std::atomic<bool> cancelled_{false};
  net::CurlGlobal global_;  // before curl_: libcurl is initialised before the handle is made
  std::unique_ptr<CURL, CurlFree> curl_;
};

}  // namespace

std::unique_ptr<HttpClient> make_curl_client(const CurlOptions& options, Counters* counters) {
  return std::make_unique<CurlHttpClient>(options, counters);
}

}  // namespace carehub::sync
