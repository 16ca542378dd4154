// The control server's stop as carehubd's stop needs it (defect 10 of issue 12): reading ends at once, an
// answer the daemon is finishing when the stop begins (a `sync now --wait` told "carehubd is stopping")
// still reaches its client, and a client that never reads its answer cannot hold the stop up.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstring>
#include <future>
#include <thread>

#include "daemon/control_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::daemon {
namespace {

using namespace std::chrono_literals;

class AStoppingControlServer : public ::testing::Test {
 protected:
  void listen(ControlServer::Handler handler, std::map<std::string, ControlServer::StreamHandler> streams = {}) {
    auto s = ControlServer::listen({dir_.file("ctl.sock"), "", 16, std::chrono::milliseconds(60000)}, std::move(handler),
                                   log_, counters_, std::move(streams));
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
  }

  UniqueFd connect_and_send(const std::string& request_line) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const auto path = dir_.file("ctl.sock");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::send(fd.get(), request_line.data(), request_line.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request_line.size()));
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

TEST_F(AStoppingControlServer, StillSendsTheAnswerOfACommandThatFinishesWhileItStops) {
  std::promise<void> entered;
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> watching;
  listen(
      [&](const Request&, const PeerCred&) -> Result<nlohmann::json> {
        entered.set_value();
        released.wait();  // as carehubd's stop wakes a waiting `sync now --wait`
        return make_error(Errc::unavailable, "carehubd is stopping");
      },
      {{"watch", [&](const Request&, const PeerCred&, ControlStream& stream) -> Result<void> {
          watching.set_value();
          while (stream.wait(-1, 60s) != ControlStream::Wait::closed) {
          }
          // The stop has reached every connection (the busy one was accepted first): only now does the
          // busy command finish.
          release.set_value();
          return {};
        }}});
  auto busy = connect_and_send(R"({"id":1,"cmd":"sync.now"})" "\n");
  entered.get_future().wait();
  auto watcher = connect_and_send(R"({"id":2,"cmd":"watch"})" "\n");
  watching.get_future().wait();

  auto stopped = std::async(std::launch::async, [&] { server_->stop(); });
  const auto answer = read_line(busy.get());
  EXPECT_NE(answer.find("carehubd is stopping"), std::string::npos) << "answer: \"" << answer << "\"";
  EXPECT_EQ(stopped.wait_for(10s), std::future_status::ready);
}

TEST_F(AStoppingControlServer, IsNotHeldUpByAClientThatNeverReadsItsAnswer) {
  // Guards the grace above: an answer far larger than the socket buffers, to a client that never reads.
  std::promise<void> answering;
  listen([&](const Request&, const PeerCred&) -> Result<nlohmann::json> {
    answering.set_value();
    return nlohmann::json{{"blob", std::string(16 << 20, 'x')}};
  });
  auto silent = connect_and_send(R"({"id":1,"cmd":"status"})" "\n");
  answering.get_future().wait();

  auto stopped = std::async(std::launch::async, [&] { server_->stop(); });
  EXPECT_EQ(stopped.wait_for(10s), std::future_status::ready);
}

}  // namespace
}  // namespace carehub::daemon
