#pragma once
// gzip bodies for hostile-peer tests: a few hundred KiB on the wire that inflate to hundreds of MiB.
// Header-only; the test target links ZLIB::ZLIB.
#include <zlib.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace carehub::test {

// `decoded` zero bytes as one gzip member: about 1 KiB on the wire per MiB decoded.
inline std::string gzip_of_zeros(std::size_t decoded) {
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
  const std::string zeros(1024 * 1024, '\0');
  std::string out;
  char buf[65536];
  std::size_t left = decoded;
  int flush = Z_NO_FLUSH;
  while (flush != Z_FINISH) {
    const std::size_t n = std::min(left, zeros.size());
    left -= n;
    flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      deflate(&z, flush);
      out.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return out;
}

// `text` as one gzip member.
inline std::string gzip_of(const std::string& text) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
  std::string out(compressBound(static_cast<uLong>(text.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate");
  return out;
}

}  // namespace carehub::test
