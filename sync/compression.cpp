#include "sync/compression.hpp"

#include "sync/gzip.hpp"

namespace carehub::sync {

bool may_refuse_coding(long status) {
  return status >= 400 && status < 500 && status != 401 && status != 407 && status != 408 && status != 429;
}

BodyCoding::Sent BodyCoding::send(const HttpRequest& plain, const Send& send) {
  if (!gzip_ || plain.body.size() < kGzipMin) return {send(plain), false};
  auto z = gzip_compress(plain.body);
  if (!z) return {send(plain), false};  // zlib failed (memory): plain still works
  HttpRequest zipped = plain;
  zipped.headers.emplace_back("Content-Encoding", "gzip");
  zipped.body = std::move(*z);
  auto resp = send(std::move(zipped));
  if (!resp || !may_refuse_coding(resp->status) || mode_ == Compression::on) return {std::move(resp), true};
  // The same request plain, once. Only its success says the coding was the problem: a plain refusal
  // is about the content, and gzip stays on for the next request.
  const long zipped_status = resp->status;
  auto again = send(plain);
  if (again && again->status >= 200 && again->status < 300) {
    gzip_ = false;
    refusal_ = "HTTP " + std::to_string(zipped_status) + " to a gzip body; the same body plain was accepted";
  }
  return {std::move(again), false};
}

}  // namespace carehub::sync
