#pragma once
// Request-body coding for the uploader: gzip when it pays and the server reads it, plain otherwise.
//
// Many servers and gateways (Tomcat, nginx without gunzip, several FHIR servers) cannot read
// `Content-Encoding: gzip` and answer 400, 411, 413 or 422 rather than RFC 7694's 415. Any such refusal
// of a compressed body is therefore retried once, at once, with the same body plain; when that goes
// through, gzip is off for this server from then on (automatic mode), so no refusal of the coding can
// ever be taken for a refusal of the readings inside.
#include <functional>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "sync/http_client.hpp"

namespace carehub::sync {

enum class Compression {
  off,
  // gzip request bodies until the server refuses one that it then takes plain; plain for this run.
  automatic,
  on,  // always gzip (a refusal is then a failure to back off from, never a reason to dead-letter)
};

// Below this, compressing costs more than the bytes it saves.
inline constexpr std::size_t kGzipMin = 1024;

class BodyCoding {
 public:
  explicit BodyCoding(Compression mode) : mode_(mode), gzip_(mode != Compression::off) {}

  using Send = std::function<Result<HttpResponse>(HttpRequest)>;
  struct Sent {
    Result<HttpResponse> response;
    bool compressed = false;  // the answer is to a gzip body (the coding may be what was refused)
  };
  // Sends `plain` (its body uncoded) through `send`, gzipped when that is on and the body large enough.
  Sent send(const HttpRequest& plain, const Send& send);

  bool gzip() const { return gzip_; }
  // Set once a refused gzip body went through plain: "HTTP 400 to a gzip body; plain accepted".
  const std::string& refusal() const { return refusal_; }

 private:
  Compression mode_;
  bool gzip_;
  std::string refusal_;
};

// A whole-request answer that could be a refusal of the body's coding: any 4xx but the ones about
// credentials (401, 407) or load and time (408, 429).
bool may_refuse_coding(long status);

}  // namespace carehub::sync
