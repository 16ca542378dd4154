#include "daemon/control_server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>

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

}  // namespace
}  // namespace carehub::daemon
