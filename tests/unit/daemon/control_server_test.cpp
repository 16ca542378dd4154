#include "daemon/control_server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "daemon/control_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::daemon {
namespace {

class AControlServer : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ControlServer::listen(
        {dir_.file("ctl.sock"), "", 32, std::chrono::milliseconds(60000)},
        [](const Request& r, const PeerCred& peer) -> Result<nlohmann::json> {
          if (r.cmd == "echo") return nlohmann::json{{"args", r.args}, {"uid", peer.uid}};
          return make_error(Errc::invalid_argument, "unknown command \"" + r.cmd + "\"");
        },
        log_, counters_);
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
  }

  UniqueFd raw_connect(const std::string& name = "ctl.sock") {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const auto path = dir_.file(name);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    return fd;
  }

  static std::string read_line(int fd) {
    std::string out;
    char c;
    while (::recv(fd, &c, 1, 0) == 1 && c != '\n') out += c;
    return out;
  }

  test::TempDir dir_;
  Logger log_{LogLevel::error, [](LogLevel, std::string_view, std::string_view) {}};
  Counters counters_;
  std::unique_ptr<ControlServer> server_;
};

TEST_F(AControlServer, AnswersARequestWithItsResult) {
  auto c = ControlClient::connect(dir_.file("ctl.sock"));
  ASSERT_TRUE(c);
  auto r = c->call("echo", {{"a", 1}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["args"]["a"], 1);
  EXPECT_EQ((*r)["uid"], ::geteuid());
}

TEST_F(AControlServer, CreatesTheSocketWithMode0660) {
  struct stat st {};
  ASSERT_EQ(::stat(dir_.file("ctl.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(AControlServer, AnswersMalformedRequestsWithAnErrorAndKeepsTheConnection) {
  auto fd = raw_connect();
  const std::string garbage = "{\"cmd\":\nnot json at all\n{\"cmd\":\"echo\"}\n";
  ASSERT_EQ(::send(fd.get(), garbage.data(), garbage.size(), MSG_NOSIGNAL), static_cast<ssize_t>(garbage.size()));
  EXPECT_NE(read_line(fd.get()).find("request is not valid JSON"), std::string::npos);
  EXPECT_NE(read_line(fd.get()).find("request is not valid JSON"), std::string::npos);
  EXPECT_NE(read_line(fd.get()).find("\"ok\":true"), std::string::npos);
  EXPECT_EQ(counters_.snapshot()["control_bad_requests"], 2u);
}

TEST_F(AControlServer, ClosesAConnectionThatSendsAnOversizeRequestAndKeepsServingOthers) {
  auto fd = raw_connect();
  const std::string big(kMaxRequestBytes + 10, 'x');
  std::size_t sent = 0;
  while (sent < big.size()) {
    const auto n = ::send(fd.get(), big.data() + sent, big.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close before reading it all
    sent += static_cast<std::size_t>(n);
  }
  EXPECT_NE(read_line(fd.get()).find("larger than"), std::string::npos);
  auto c = ControlClient::connect(dir_.file("ctl.sock"));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->call("echo"));
}

TEST_F(AControlServer, ReportsHandlerErrorsAsErrorResponses) {
  auto c = ControlClient::connect(dir_.file("ctl.sock"));
  ASSERT_TRUE(c);
  auto r = c->call("nope");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(r.error().message, "unknown command \"nope\"");
}

TEST_F(AControlServer, SurvivesClientsThatHangUpMidRequest) {
  for (int i = 0; i < 20; ++i) {
    auto fd = raw_connect();
    ::send(fd.get(), "{\"cmd\":\"ec", 10, MSG_NOSIGNAL);
  }  // each closed half-way
  auto c = ControlClient::connect(dir_.file("ctl.sock"));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->call("echo"));
}

TEST_F(AControlServer, RefusesToStartWhereAnotherServerListens) {
  auto second = ControlServer::listen({dir_.file("ctl.sock"), ""}, nullptr, log_, counters_);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("already listening"), std::string::npos);
}

TEST_F(AControlServer, ReplacesAStaleSocketLeftByAKilledDaemon) {
  server_->stop();
  // A bound socket nobody listens on: what a SIGKILLed daemon leaves behind.
  UniqueFd stale(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const auto path = dir_.file("ctl.sock");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(stale.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  stale.reset();
  auto again = ControlServer::listen({path, ""}, [](const Request&, const PeerCred&) -> Result<nlohmann::json> {
    return nlohmann::json::object();
  }, log_, counters_);
  ASSERT_TRUE(again) << again.error().message;
}

TEST_F(AControlServer, TurnsAwayClientsBeyondItsConnectionLimit) {
  auto small = ControlServer::listen({dir_.file("small.sock"), "", 4, std::chrono::milliseconds(60000)},
                                     [](const Request&, const PeerCred&) -> Result<nlohmann::json> {
                                       return nlohmann::json::object();
                                     },
                                     log_, counters_);
  ASSERT_TRUE(small) << small.error().message;
  std::vector<UniqueFd> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(raw_connect("small.sock"));
    // A completed round trip proves the server took this connection before the next one.
    const std::string ping = "{\"cmd\":\"echo\"}\n";
    ::send(held.back().get(), ping.data(), ping.size(), MSG_NOSIGNAL);
    EXPECT_NE(read_line(held.back().get()).find("\"ok\":true"), std::string::npos);
  }
  auto extra = raw_connect("small.sock");
  EXPECT_NE(read_line(extra.get()).find("too many control connections"), std::string::npos);
  EXPECT_EQ(counters_.snapshot()["control_busy"], 1u);
}

// Issue 12, defect 10: a client that dribbles a request a byte at a time must not hold a slot for longer
// than the request deadline, however regularly its bytes arrive (the idle timeout restarts on each one).
class AControlServerWithARequestDeadline : public AControlServer {
 protected:
  static constexpr std::size_t kSlots = 16;
  static constexpr auto kDeadline = std::chrono::milliseconds(300);

  void SetUp() override {
    ControlServerOptions o{dir_.file("deadline.sock"), "", kSlots, std::chrono::milliseconds(60000)};
    o.request_timeout = kDeadline;
    auto s = ControlServer::listen(o, [](const Request&, const PeerCred&) -> Result<nlohmann::json> {
      return nlohmann::json{{"pong", true}};
    }, log_, counters_);
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
  }

  // A socket whose reads give up after `timeout`, so a test that fails does so in bounded time.
  UniqueFd connect_with_timeout(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto fd = raw_connect("deadline.sock");
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
  }

  static bool send_text(int fd, std::string_view text) {
    return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT) == static_cast<ssize_t>(text.size());
  }

  // An honest carehubctl that retries while every slot is taken: true once it got its answer, within 10 s.
  bool honest_client_served(std::string& last_error) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < give_up) {
      auto c = ControlClient::connect(dir_.file("deadline.sock"));
      if (!c) {
        last_error = c.error().message;
        return false;
      }
      auto r = c->call("echo");
      if (r && (*r)["pong"] == true) return true;
      if (!r) last_error = r.error().message;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll interval
    }
    return false;
  }
};

TEST_F(AControlServerWithARequestDeadline, DropsAClientThatDribblesItsRequestAndSaysWhy) {
  auto fd = connect_with_timeout();
  std::atomic<bool> stop{false};
  // One byte every 20 ms: never silent for long, never done.
  std::thread dribbler([&] {
    const std::string request = R"({"cmd":"echo","args":{"padding":")" + std::string(10000, 'p');
    for (std::size_t i = 0; i < request.size() && !stop; ++i) {
      if (!send_text(fd.get(), request.substr(i, 1))) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the client's pace, not a synchronisation
    }
  });
  const auto line = read_line(fd.get());  // returns on the server's answer or after the 5 s receive timeout
  stop = true;
  dribbler.join();
  EXPECT_NE(line.find("request not complete within 300 ms"), std::string::npos) << line;
  EXPECT_EQ(counters_.snapshot()["control_request_timeouts"], 1u);
}

TEST_F(AControlServerWithARequestDeadline, DropsAClientThatConnectsAndSaysNothing) {
  auto fd = connect_with_timeout();
  const auto line = read_line(fd.get());
  EXPECT_NE(line.find("request not complete within 300 ms"), std::string::npos) << line;
}

TEST_F(AControlServerWithARequestDeadline, ServesAnHonestClientWhileSixteenSlowOnesTryToHoldEverySlot) {
  std::vector<UniqueFd> slow;
  for (std::size_t i = 0; i < kSlots; ++i) {
    slow.push_back(connect_with_timeout());
    // A completed round trip proves the server gave this client a slot before the next one connects.
    ASSERT_TRUE(send_text(slow.back().get(), "{\"cmd\":\"echo\"}\n"));
    ASSERT_NE(read_line(slow.back().get()).find("\"ok\":true"), std::string::npos);
  }
  std::atomic<bool> stop{false};
  std::thread dribbler([&] {
    while (!stop) {
      for (auto& fd : slow) send_text(fd.get(), "{");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the clients' pace
    }
  });
  // The honest client retries while the slots are full; it must get its answer within a bounded wait.
  std::string last_error;
  const bool served = honest_client_served(last_error);
  stop = true;
  dribbler.join();
  EXPECT_TRUE(served) << "last answer: " << last_error;
  // A slot came free by the request deadline or, when none was idle, by giving way the one held longest.
  auto counts = counters_.snapshot();
  EXPECT_GE(counts["control_request_timeouts"] + counts["control_evicted"], 1u);
}

TEST_F(AControlServerWithARequestDeadline, KeepsServingAClientThatSendsWholeRequestsInTime) {
  auto fd = connect_with_timeout();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(send_text(fd.get(), "{\"cmd\":\"echo\"}\n"));
    EXPECT_NE(read_line(fd.get()).find("\"ok\":true"), std::string::npos);
  }
  EXPECT_EQ(counters_.snapshot()["control_request_timeouts"], 0u);
}

// Found by the hostile-peer harness (ctl_slow_clients): 16 clients pipeline requests with large answers and
// never read them. Each slot's thread then sat in a blocking send for ever (never idle, so never evicted)
// and carehubctl was locked out for as long as they stayed connected. An answer not taken within the
// deadline now drops its client.
TEST_F(AControlServerWithARequestDeadline, DropsClientsThatNeverReadTheirAnswersSoAnHonestOneIsServed) {
  // Answers as large as `measurements --limit 100000` can be, so a few of them fill the socket.
  server_.reset();
  ControlServerOptions o{dir_.file("deadline.sock"), "", kSlots, std::chrono::milliseconds(60000)};
  o.request_timeout = kDeadline;
  auto s = ControlServer::listen(o, [](const Request&, const PeerCred&) -> Result<nlohmann::json> {
    return nlohmann::json{{"pong", true}, {"rows", std::string(256 * 1024, 'r')}};
  }, log_, counters_);
  ASSERT_TRUE(s) << s.error().message;
  server_ = std::move(*s);
  std::vector<UniqueFd> deaf;
  for (std::size_t i = 0; i < kSlots; ++i) {
    deaf.push_back(connect_with_timeout());
    for (int k = 0; k < 8; ++k) ASSERT_TRUE(send_text(deaf.back().get(), "{\"cmd\":\"echo\"}\n"));
  }
  std::string last_error;
  const bool served = honest_client_served(last_error);
  EXPECT_TRUE(served) << "last answer: " << last_error;
  EXPECT_GE(counters_.snapshot()["control_unsent_answers"], 1u);
}

// Also from the harness: 16 clients that each ask again and again (a whole request well within the
// deadline every time, so never idle and never late) held every slot. With none idle, the connection held
// longest gives way.
TEST_F(AControlServerWithARequestDeadline, GivesTheSlotHeldLongestToANewClientWhenNoneIsIdle) {
  std::vector<UniqueFd> busy;
  for (std::size_t i = 0; i < kSlots; ++i) {
    busy.push_back(connect_with_timeout());
    ASSERT_TRUE(send_text(busy.back().get(), "{\"cmd\":\"echo\"}\n"));
    ASSERT_NE(read_line(busy.back().get()).find("\"ok\":true"), std::string::npos);
  }
  std::atomic<bool> stop{false};
  std::thread asker([&] {
    while (!stop) {
      for (auto& fd : busy) send_text(fd.get(), "{\"cmd\":\"echo\"}\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the clients' pace
    }
  });
  std::string last_error;
  const bool served = honest_client_served(last_error);
  stop = true;
  asker.join();
  EXPECT_TRUE(served) << "last answer: " << last_error;
  EXPECT_GE(counters_.snapshot()["control_evicted"], 1u);
}

// Also from the harness: a finished connection was closed only when a later client connected, so a client
// that half-closed after its request and waited for the end of its answer waited for ever.
TEST_F(AControlServerWithARequestDeadline, EndsAConnectionItHasFinishedWithoutWaitingForTheNextClient) {
  auto fd = connect_with_timeout();
  ASSERT_TRUE(send_text(fd.get(), "{\"id\":1,\"cmd\":\"echo\"}\n"));
  ::shutdown(fd.get(), SHUT_WR);
  EXPECT_NE(read_line(fd.get()).find("\"ok\":true"), std::string::npos);
  char c;
  // 0: the server ended the stream; -1 (EAGAIN) would be the 5 s receive timeout of a connection left open.
  EXPECT_EQ(::recv(fd.get(), &c, 1, 0), 0);
}

// The same hold on every slot without dribbling: 16 clients each ask one thing, then say nothing for the
// idle timeout (and could ask again just before it runs out). When the slots are full, the one idle longest
// (beyond the request deadline) gives way to a new client.
TEST_F(AControlServerWithARequestDeadline, ClosesTheLongestIdleConnectionWhenFullToServeANewClient) {
  std::vector<UniqueFd> idle;
  for (std::size_t i = 0; i < kSlots; ++i) {
    idle.push_back(connect_with_timeout());
    ASSERT_TRUE(send_text(idle.back().get(), "{\"cmd\":\"echo\"}\n"));
    ASSERT_NE(read_line(idle.back().get()).find("\"ok\":true"), std::string::npos);
  }
  std::string last_error;
  const bool served = honest_client_served(last_error);
  EXPECT_TRUE(served) << "last answer: " << last_error;
  EXPECT_GE(counters_.snapshot()["control_evicted"], 1u);
  // An idle client was closed to make room: it reads the end of the stream at once (the server shut it down
  // before serving the new client). Which one is the server's clock's call: each one's idle time starts when
  // its serving thread has sent the answer, and under load client 2's thread may get there before client 1's.
  std::size_t ended = 0;
  for (const auto& fd : idle) {
    char c;
    ended += ::recv(fd.get(), &c, 1, MSG_DONTWAIT) == 0;
  }
  EXPECT_GE(ended, 1u) << "no idle client was closed";
}

}  // namespace
}  // namespace carehub::daemon
