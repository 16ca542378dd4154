// The openHAB client's libcurl side against a hostile loopback server (issue 12, defect 3): an item list
// that is a gzip bomb, an event stream whose line never ends, an error answer that never ends. What the
// client holds stays bounded in each case; the item list's limit counts decoded bytes.
#include "drivers/openhab/http.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <optional>
#include <string>

#include "drivers/openhab/sse_parser.hpp"
#include "tests/support/gzip_bomb.hpp"
#include "tests/support/raw_http_server.hpp"

namespace carehub::openhab {
namespace {

using test::RawHttpServer;

constexpr std::size_t kMiB = 1024 * 1024;

std::size_t peak_rss() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<std::size_t>(u.ru_maxrss) * 1024;
}

HttpSettings settings() {
  HttpSettings s;
  s.connect_timeout = std::chrono::seconds(5);
  s.request_timeout = std::chrono::seconds(60);  // not what ends any of these
  return s;
}

constexpr std::string_view kStreamHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";

TEST(AnOpenhabHttpStream, RefusesAGzipItemListThatDecodesBeyondItsLimit) {
  const std::string bomb = test::gzip_of_zeros(256 * kMiB);  // ~256 KiB on the wire
  RawHttpServer server([&](RawHttpServer::Connection& c) {
    if (c.path().starts_with("/rest/events")) {
      c.send(kStreamHead);
      c.send(": ping\n\n");
      return c.hold();
    }
    c.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: " +
           std::to_string(bomb.size()) + "\r\n\r\n");
    c.send(bomb);
  });
  std::optional<carehub::Result<std::string>> snapshot;
  StreamHandlers h;
  h.on_open = [] {};
  h.on_data = [](std::string_view) { return true; };
  h.on_snapshot = [&](carehub::Result<std::string> r) { snapshot = std::move(r); };
  h.keep_going = [&] { return !snapshot; };
  HttpStream stream;
  const auto before = peak_rss();
  (void)stream.run(server.url("/rest/events"), server.url("/rest/items"), settings(), 1 * kMiB, h,
                   std::chrono::milliseconds(20));
  ASSERT_TRUE(snapshot.has_value());
  ASSERT_FALSE(*snapshot) << "accepted an item list of " << (*snapshot)->size() << " bytes";
  EXPECT_NE(snapshot->error().message.find("larger than 1048576 bytes"), std::string::npos) << snapshot->error().message;
  EXPECT_LT(peak_rss() - before, 64 * kMiB);
}

TEST(AnOpenhabHttpStream, FeedsAnEndlessEventLineThroughAParserThatHoldsABoundedPartOfIt) {
  RawHttpServer server([&](RawHttpServer::Connection& c) {
    c.send(kStreamHead);
    c.send("data: ");
    const std::string piece(64 * 1024, 'x');
    // Until the client hangs up; 256 MiB is only a guard for the test machine.
    for (std::size_t sent = 0; sent < 256 * kMiB && c.send(piece); sent += piece.size()) {
    }
  });
  SseParser parser;  // the openHAB session's parser, with its default limits
  SseOutput out;
  std::size_t fed = 0;
  std::size_t errors = 0;
  StreamHandlers h;
  h.on_open = [] {};
  h.on_data = [&](std::string_view bytes) {
    out.clear();
    parser.feed(bytes, out);
    fed += bytes.size();
    errors += out.errors.size();
    EXPECT_TRUE(out.events.empty());
    return fed < 32 * kMiB;  // far past every limit: enough
  };
  h.on_snapshot = [](carehub::Result<std::string>) {};
  h.keep_going = [] { return true; };
  HttpStream stream;
  const auto before = peak_rss();
  const auto ended = stream.run(server.url("/rest/events"), "", settings(), kMiB, h, std::chrono::milliseconds(20));
  ASSERT_FALSE(ended);
  EXPECT_GE(fed, 32 * kMiB);
  EXPECT_EQ(errors, 1u);  // reported once, then skipped up to the line's end
  EXPECT_EQ(parser.stats().discarded_events, 1u);
  EXPECT_LT(peak_rss() - before, 16 * kMiB);
}

TEST(AnOpenhabHttpStream, KeepsOnlyTheStartOfAnErrorAnswerThatGoesOnAndOn) {
  RawHttpServer server([&](RawHttpServer::Connection& c) {
    c.send("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
    const std::string piece(64 * 1024, 'e');
    for (std::size_t sent = 0; sent < 64 * kMiB && c.send(piece); sent += piece.size()) {
    }
  });
  StreamHandlers h;
  h.on_open = [] {};
  h.on_data = [](std::string_view) { return true; };
  h.on_snapshot = [](carehub::Result<std::string>) {};
  h.keep_going = [] { return true; };
  HttpStream stream;
  const auto before = peak_rss();
  const auto ended = stream.run(server.url("/rest/events"), server.url("/rest/items"), settings(), kMiB, h,
                                std::chrono::milliseconds(20));
  ASSERT_FALSE(ended);
  EXPECT_NE(ended.error().message.find("HTTP 503 from GET /rest/events"), std::string::npos) << ended.error().message;
  EXPECT_LT(ended.error().message.size(), 512u);
  EXPECT_LT(peak_rss() - before, 16 * kMiB);
}

}  // namespace
}  // namespace carehub::openhab
