// A streamed control response (`alerts.watch`): AlertWatchers fan committed alert events out to
// connections that stay open, and a watcher's end is noticed whether the client or the server goes.
#include <gtest/gtest.h>

#include <future>

#include "daemon/alert_watchers.hpp"
#include "daemon/control_client.hpp"
#include "daemon/control_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::daemon {
namespace {

using namespace std::chrono_literals;

AlertEvent event(std::string id, std::string what) {
  AlertEvent e;
  e.event = std::move(what);
  e.alert.id = std::move(id);
  e.alert.rule = "HF5";
  return e;
}

class AnAlertStream : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ControlServer::listen(
        {dir_.file("ctl.sock"), "", 8, 60000ms},
        [](const Request&, const PeerCred&) -> Result<nlohmann::json> { return nlohmann::json::object(); }, log_,
        counters_,
        {{"watch", [this](const Request&, const PeerCred&, ControlStream& out) -> Result<void> {
            auto sub = watchers_.subscribe(2);
            if (!out.send({{"watching", true}})) return {};
            for (;;) {
              if (out.wait(sub->fd(), 10s) == ControlStream::Wait::closed) {
                ended_.set_value();
                return {};
              }
              std::size_t lost = 0;
              auto events = sub->take(lost);
              if (lost && !out.send({{"lost", lost}})) return {};
              for (const auto& e : events) {
                if (!out.send({{"alert", e.alert.id}, {"event", e.event}})) return {};
              }
            }
          }}});
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
  }

  test::TempDir dir_;
  Logger log_{LogLevel::error, [](LogLevel, std::string_view, std::string_view) {}};
  Counters counters_;
  AlertWatchers watchers_;
  std::promise<void> ended_;
  std::unique_ptr<ControlServer> server_;
};

TEST_F(AnAlertStream, SendsOneLinePerPublishedEventAfterSayingItIsWatching) {
  auto c = ControlClient::connect(dir_.file("ctl.sock"));
  ASSERT_TRUE(c);
  auto first = c->call("watch");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ((*first)["watching"], true);
  EXPECT_EQ(watchers_.count(), 1u);
  watchers_.publish(event("al-1", "alert"));
  watchers_.publish(event("al-1", "acknowledged"));
  auto a = c->next();
  auto b = c->next();
  ASSERT_TRUE(a && b);
  EXPECT_EQ((*a)["event"], "alert");
  EXPECT_EQ((*b)["event"], "acknowledged");
}

TEST_F(AnAlertStream, EndsAndUnsubscribesWhenTheClientHangsUp) {
  auto ended = ended_.get_future();
  {
    auto c = ControlClient::connect(dir_.file("ctl.sock"));
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->call("watch"));
  }
  ASSERT_EQ(ended.wait_for(10s), std::future_status::ready);
  server_->stop();  // joins the connection thread: the subscription is gone by now
  EXPECT_EQ(watchers_.count(), 0u);
}

TEST_F(AnAlertStream, TellsASlowWatcherHowManyEventsItLost) {
  auto c = ControlClient::connect(dir_.file("ctl.sock"));
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->call("watch"));
  // Published while the stream thread may be asleep: a capacity of 2 keeps the newest two.
  for (int i = 0; i < 5; ++i) watchers_.publish(event("al-" + std::to_string(i), "reminder"));
  std::size_t lost = 0, delivered = 0;
  while (delivered + lost < 5) {
    auto line = c->next();
    ASSERT_TRUE(line);
    if (line->contains("lost")) lost += (*line)["lost"].get<std::size_t>();
    else ++delivered;
  }
  EXPECT_EQ(delivered + lost, 5u);
  EXPECT_GE(delivered, 2u);
}

TEST_F(AnAlertStream, EndsWhenTheServerStops) {
  auto ended = ended_.get_future();
  auto c = ControlClient::connect(dir_.file("ctl.sock"));
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->call("watch"));
  server_->stop();
  EXPECT_EQ(ended.wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(c->next().has_value()) << "the client sees the connection close";
}

}  // namespace
}  // namespace carehub::daemon
