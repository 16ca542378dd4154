// The libcurl adapter against a hostile loopback server (issue 12, defect 3): a FHIR server or token
// endpoint may answer with a gzip bomb, a body that never ends or headers that never end. The client holds
// at most the configured number of decoded bytes, fails the request with a clear error and counts it.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <string>

#include "core/counters.hpp"
#include "sync/http_client.hpp"
#include "tests/support/raw_http_server.hpp"

namespace carehub::sync {
namespace {

using test::RawHttpServer;

constexpr std::size_t kMiB = 1024 * 1024;

// `decoded` zero bytes as one gzip member: about 1 KiB on the wire per MiB decoded.
std::string gzip_of_zeros(std::size_t decoded) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
  const std::string zeros(kMiB, '\0');
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

std::string gzip_of(const std::string& text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(compressBound(static_cast<uLong>(text.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

void answer_gzip(RawHttpServer::Connection& c, const std::string& gz) {
  c.send("HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Encoding: gzip\r\nContent-Length: " +
         std::to_string(gz.size()) + "\r\n\r\n");
  c.send(gz);
}

// The peak resident set of this process, in bytes (what an OOM killer or a 4 GB RSS report sees).
std::size_t peak_rss() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<std::size_t>(u.ru_maxrss) * 1024;
}

class ACurlHttpClient : public ::testing::Test {
 protected:
  std::unique_ptr<HttpClient> client(std::size_t max_response_bytes = CurlOptions{}.max_response_bytes) {
    CurlOptions options;
    options.connect_timeout = std::chrono::seconds(5);
    options.request_timeout = std::chrono::seconds(60);  // far beyond what the cap needs: not what ends it
    options.max_response_bytes = max_response_bytes;
    return make_curl_client(options, &counters_);
  }
  static HttpRequest post(const RawHttpServer& server) {
    HttpRequest r;
    r.url = server.url("/fhir");
    r.headers = {{"Content-Type", "application/fhir+json"}};
    r.body = R"({"resourceType":"Bundle","type":"batch"})";
    return r;
  }
  Counters counters_;
};

TEST_F(ACurlHttpClient, FailsCleanlyOnAGzipAnswerThatDecodesFarBeyondTheCap) {
  const std::string bomb = gzip_of_zeros(256 * kMiB);  // ~256 KiB on the wire
  RawHttpServer server([&](RawHttpServer::Connection& c) { answer_gzip(c, bomb); });
  const auto before = peak_rss();
  auto r = client()->send(post(server));
  ASSERT_FALSE(r) << "accepted a body of " << r->body.size() << " bytes";
  EXPECT_EQ(r.error().code, Errc::full);
  EXPECT_NE(r.error().message.find("response larger than 8 MiB (decoded): aborted"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(counters_.snapshot()["sync_response_too_large"], 1u);
  EXPECT_LT(peak_rss() - before, 64 * kMiB);  // the cap plus libcurl's buffers, not the 256 MiB decoded
}

TEST_F(ACurlHttpClient, FailsCleanlyOnABodyThatNeverEnds) {
  std::atomic<std::size_t> sent{0};
  RawHttpServer server([&](RawHttpServer::Connection& c) {
    c.send("HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nConnection: close\r\n\r\n");
    const std::string piece(64 * 1024, 'x');
    // Until the client hangs up; 256 MiB is only a guard for the test machine should it never do so.
    while (sent < 256 * kMiB && c.send(piece)) sent += piece.size();
  });
  auto r = client()->send(post(server));
  ASSERT_FALSE(r) << "accepted a body of " << r->body.size() << " bytes";
  EXPECT_EQ(r.error().code, Errc::full);
  EXPECT_NE(r.error().message.find("response larger than 8 MiB (decoded): aborted"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(counters_.snapshot()["sync_response_too_large"], 1u);
}

TEST_F(ACurlHttpClient, AcceptsAnAnswerOfExactlyTheCapAndRefusesOneByteMore) {
  std::string body;
  RawHttpServer server([&](RawHttpServer::Connection& c) { answer_gzip(c, gzip_of(body)); });
  auto http = client(1000);
  body = std::string(1000, 'a');
  auto ok = http->send(post(server));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body.size(), 1000u);
  body = std::string(1001, 'a');
  auto refused = http->send(post(server));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("response larger than 1000 bytes (decoded): aborted"), std::string::npos)
      << refused.error().message;
}

TEST_F(ACurlHttpClient, ServesTheNextRequestAfterAnAbortedOne) {
  const std::string bomb = gzip_of_zeros(64 * kMiB);
  int calls = 0;
  RawHttpServer server([&](RawHttpServer::Connection& c) {
    if (calls++ == 0) return answer_gzip(c, bomb);
    answer_gzip(c, gzip_of(R"({"resourceType":"Bundle"})"));
  });
  auto http = client();
  ASSERT_FALSE(http->send(post(server)));
  auto r = http->send(post(server));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, R"({"resourceType":"Bundle"})");
}

TEST_F(ACurlHttpClient, FailsCleanlyOnHeadersThatNeverEnd) {
  RawHttpServer server([&](RawHttpServer::Connection& c) {
    c.send("HTTP/1.1 200 OK\r\n");
    const std::string line = "X-Padding: " + std::string(1000, 'p') + "\r\n";
    for (int i = 0; i < 1024 * 1024 && c.send(line); ++i) {
    }
  });
  auto r = client()->send(post(server));
  ASSERT_FALSE(r) << "accepted " << r->headers.size() << " headers";
  EXPECT_NE(r.error().message.find("header"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace carehub::sync
