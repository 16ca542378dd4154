// The libcurl adapter against a hostile loopback server (issue 12, defect 3): a FHIR server or token
// endpoint may answer with a gzip bomb, a body that never ends or headers that never end. The client holds
// at most the configured number of decoded bytes, fails the request with a clear error and counts it.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <string>

#include "core/counters.hpp"
#include "sync/http_client.hpp"
#include "tests/support/gzip_bomb.hpp"
#include "tests/support/raw_http_server.hpp"

namespace carehub::sync {
namespace {

using test::gzip_of;
using test::gzip_of_zeros;
using test::RawHttpServer;

constexpr std::size_t kMiB = 1024 * 1024;

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
  // Ours, before libcurl's own limit (300 KiB in 7.88) would end it less clearly.
  EXPECT_NE(r.error().message.find("response headers larger than 262144 bytes: aborted"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(counters_.snapshot()["sync_response_too_large"], 1u);
}

}  // namespace
}  // namespace carehub::sync
