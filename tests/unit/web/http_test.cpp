// carehub-web over real HTTP against a stand-in carehubd: a real ControlServer on a temp socket whose
// handler answers like carehubd and records what it was asked. Every request here comes from loopback;
// the refusal of non-loopback plain HTTP is the pure transport_allowed() rule (input_test.cpp), applied
// by guard() before routing.
#include <httplib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <future>
#include <gtest/gtest.h>

#include "daemon/control_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "web/server/secrets.hpp"
#include "web/server/web_server.hpp"

namespace carehub::web {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class CarehubWeb : public ::testing::Test {
 protected:
  void SetUp() override {
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    ASSERT_TRUE(start_daemon());
    auto hash = hash_password("s3cret-pass");
    ASSERT_TRUE(hash);
    WebOptions o;
    o.listen_port = 0;
    o.password_hash = *hash;
    o.threads = 8;
    bridge_ = std::make_unique<DaemonBridge>(BridgeOptions{dir_.file("ctl.sock")}, hub_, clock_, log_, counters_);
    auto w = WebServer::create(o, {clock_, log_, counters_, hub_, *bridge_});
    ASSERT_TRUE(w) << w.error().message;
    web_ = std::move(*w);
    ASSERT_TRUE(web_->bind());
    bridge_->start();
    web_->start();
    cli_ = std::make_unique<httplib::Client>("127.0.0.1", web_->plain_port());
    cli_->set_read_timeout(10, 0);
  }

  // A stand-in carehubd on ctl.sock (again after a "restart").
  bool start_daemon() {
    auto s = daemon::ControlServer::listen(
        {dir_.file("ctl.sock"), "", 32, 60000ms},
        [this](const daemon::Request& r, const daemon::PeerCred&) -> Result<json> {
          std::lock_guard lock(mu_);
          asked_.push_back({{"cmd", r.cmd}, {"args", r.args}});
          if (r.cmd == "status") return json{{"patient", "Patient/p1"}, {"devices", json::array()}};
          if (r.cmd == "alerts") {
            return json{{"alerts", json::array({{{"id", "a1"}, {"state", "open"}, {"event", "alert"}, {"patient", "Patient/p1"},
                                                  {"audience", "both"}, {"notify", true}, {"text", "Seek care"},
                                                  {"requires_ack", true}, {"acknowledged", nullptr}}})}};
          }
          if (r.cmd == "measurements") return json{{"readings", json::array()}};
          if (r.cmd == "alerts.ack") return json{{"id", r.args["id"]}, {"acknowledged_by", r.args["by"]}};
          if (r.cmd == "sync.retry-dead") return json{{"requeued", 2}};
          return make_error(Errc::invalid_argument, "unknown command \"" + r.cmd + "\"");
        },
        log_, counters_,
        {{"alerts.watch", [this](const daemon::Request&, const daemon::PeerCred&, daemon::ControlStream& st) -> Result<void> {
            if (!st.send({{"watching", true}})) return {};
            for (;;) {
              if (st.wait(wake_, 5000ms) == daemon::ControlStream::Wait::closed) return {};
              std::uint64_t n = 0;
              if (::read(wake_, &n, sizeof n) == sizeof n &&
                  !st.send({{"event", "alert"}, {"alert", "a1"}, {"severity", "red"}, {"text", "Seek care"}})) {
                return {};
              }
            }
          }}});
    if (!s) return false;
    daemon_ = std::move(*s);
    return true;
  }

  void TearDown() override {
    if (web_) web_->stop();
    if (bridge_) bridge_->stop();
    if (daemon_) daemon_->stop();
    if (wake_ >= 0) ::close(wake_);
  }

  int asked(const std::string& cmd) {
    std::lock_guard lock(mu_);
    return static_cast<int>(std::count_if(asked_.begin(), asked_.end(), [&](const json& a) { return a["cmd"] == cmd; }));
  }
  json last(const std::string& cmd) {
    std::lock_guard lock(mu_);
    for (auto it = asked_.rbegin(); it != asked_.rend(); ++it) {
      if ((*it)["cmd"] == cmd) return (*it)["args"];
    }
    return nullptr;
  }
  httplib::Result post(const std::string& path, const json& body, httplib::Headers h = {}) {
    return cli_->Post(path.c_str(), h, body.dump(), "application/json");
  }
  static std::string code(const httplib::Result& r) { return json::parse(r->body)["error"]["code"]; }

  // Logs in; returns the session cookie and CSRF token as headers for the next requests.
  httplib::Headers login() {
    auto r = post("/api/tech/login", {{"user", "technician"}, {"password", "s3cret-pass"}});
    EXPECT_EQ(r->status, 200) << r->body;
    const auto set = r->get_header_value("Set-Cookie");
    EXPECT_NE(set.find("HttpOnly"), std::string::npos);
    EXPECT_NE(set.find("SameSite=Strict"), std::string::npos);
    const auto cookie = set.substr(0, set.find(';'));
    return {{"Cookie", cookie}, {"X-CSRF-Token", json::parse(r->body)["csrf"].get<std::string>()}};
  }

  test::TempDir dir_;
  Logger log_{LogLevel::error, [](LogLevel, std::string_view, std::string_view) {}};
  Counters counters_;
  ManualClock clock_{*parse_rfc3339("2026-12-05T10:00:00Z")};
  EventHub hub_{clock_};
  int wake_ = -1;
  std::mutex mu_;
  std::vector<json> asked_;
  std::unique_ptr<daemon::ControlServer> daemon_;
  std::unique_ptr<DaemonBridge> bridge_;
  std::unique_ptr<WebServer> web_;
  std::unique_ptr<httplib::Client> cli_;
};

TEST_F(CarehubWeb, TheTechnicianApiWithoutASessionIsRefused) {
  auto r = cli_->Get("/api/tech/status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(code(r), "unauthorized");
  auto p = post("/api/tech/sync/retry", json::object());
  EXPECT_EQ(p->status, 401);
  EXPECT_EQ(asked("status"), 0);
  EXPECT_EQ(asked("sync.retry-dead"), 0);
}

TEST_F(CarehubWeb, AStateChangeNeedsTheSessionsCsrfTokenAndOurOrigin) {
  auto h = login();
  auto cookie_only = httplib::Headers{{"Cookie", h.find("Cookie")->second}};
  EXPECT_EQ(code(post("/api/tech/sync/retry", json::object(), cookie_only)), "csrf");
  auto forged = cookie_only;
  forged.emplace("X-CSRF-Token", std::string(64, 'a'));
  EXPECT_EQ(code(post("/api/tech/sync/retry", json::object(), forged)), "csrf");
  auto foreign = h;
  foreign.emplace("Origin", "http://evil.example");
  EXPECT_EQ(code(post("/api/tech/sync/retry", json::object(), foreign)), "csrf");
  EXPECT_EQ(asked("sync.retry-dead"), 0);
  auto ok = post("/api/tech/sync/retry", json::object(), h);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(json::parse(ok->body)["requeued"], 2);
  EXPECT_EQ(asked("sync.retry-dead"), 1);
  EXPECT_EQ(last("sync.retry-dead")["web_user"], "technician") << "who, for carehubd's audit trail (issue 18)";
  auto status = cli_->Get("/api/tech/status", cookie_only);  // reading needs only the session
  EXPECT_EQ(status->status, 200);
}

TEST_F(CarehubWeb, LoginsAreRateLimitedPerAddressEvenForTheRightPassword) {
  for (int i = 0; i < 5; ++i) {
    auto r = post("/api/tech/login", {{"user", "technician"}, {"password", "wrong"}});
    EXPECT_EQ(r->status, 401) << i;
    EXPECT_EQ(code(r), "login-failed");
  }
  auto locked = post("/api/tech/login", {{"user", "technician"}, {"password", "s3cret-pass"}});
  EXPECT_EQ(locked->status, 429);
  EXPECT_EQ(locked->get_header_value("Retry-After"), "1");
  clock_.advance(1s);
  EXPECT_EQ(post("/api/tech/login", {{"user", "technician"}, {"password", "s3cret-pass"}})->status, 200);
  EXPECT_EQ(post("/api/tech/login", {{"user", "someone"}, {"password", "s3cret-pass"}})->status, 401);
}

TEST_F(CarehubWeb, AnIdleSessionExpires) {
  auto h = login();
  EXPECT_EQ(cli_->Get("/api/tech/session", h)->status, 200);
  clock_.advance(15min);
  EXPECT_EQ(cli_->Get("/api/tech/session", h)->status, 401);
}

TEST_F(CarehubWeb, ThePatientsOkAcknowledgesAsThePatientOnTheDisplay) {
  auto s = cli_->Get("/api/display/session");
  ASSERT_EQ(s->status, 200);
  EXPECT_EQ(json::parse(s->body)["kind"], "local");
  const std::string csrf = json::parse(s->body)["csrf"];
  EXPECT_EQ(code(post("/api/display/alerts/a1/ack", json::object())), "csrf");
  auto r = post("/api/display/alerts/a1/ack", json::object(), {{"X-CSRF-Token", csrf}});
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(last("alerts.ack"), (json{{"id", "a1"}, {"by", "patient (display)"}}));
}

TEST_F(CarehubWeb, ATechnicianAcknowledgesForThePatientOnlyWithAReason) {
  auto h = login();
  auto none = post("/api/tech/alerts/a1/ack", json::object(), h);
  EXPECT_EQ(none->status, 400);
  EXPECT_NE(json::parse(none->body)["error"]["message"].get<std::string>().find("/reason"), std::string::npos);
  EXPECT_EQ(asked("alerts.ack"), 0);
  auto r = post("/api/tech/alerts/a1/ack", {{"reason", "phoned her, she is fine"}}, h);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto args = last("alerts.ack");
  EXPECT_EQ(args["by"], "technician (technician, for the patient)");
  EXPECT_EQ(args["reason"], "phoned her, she is fine");
  EXPECT_EQ(args["web_user"], "technician") << "the login carehubd's audit trail records (issue 18)";
}

TEST_F(CarehubWeb, BadBodiesAreRefusedNamingWhatWasWrong) {
  auto h = login();
  auto big = post("/api/tech/alerts/a1/ack", {{"reason", std::string(70000, 'x')}}, h);
  EXPECT_EQ(big->status, 413);
  auto deep = cli_->Post("/api/tech/alerts/a1/ack", h, "{\"a\":" + std::string(30, '[') + std::string(30, ']') + "}",
                         "application/json");
  EXPECT_EQ(deep->status, 400);
  EXPECT_NE(deep->body.find("nesting deeper than 16"), std::string::npos) << deep->body;
  auto text = cli_->Post("/api/tech/sync/retry", h, "{}", "text/plain");
  EXPECT_EQ(text->status, 400);
  EXPECT_NE(text->body.find("Content-Type"), std::string::npos);
}

TEST_F(CarehubWeb, TheHomeScreenShowsTheRedAlert) {
  auto r = cli_->Get("/api/display/home");
  ASSERT_EQ(r->status, 200) << r->body;
  const auto home = json::parse(r->body);
  EXPECT_EQ(home["red_alert"]["id"], "a1");
  EXPECT_FALSE(home["ok"]);
  EXPECT_EQ(cli_->Get("/api/display/series?kind=blood-pressure&days=0")->status, 400);
  EXPECT_EQ(cli_->Get("/api/display/series?kind=steps")->status, 400);
  EXPECT_EQ(cli_->Get("/api/display/series?kind=body-weight")->status, 200);
  // The series' own question (the readings poller asks `measurements` too, with after_seq).
  json series;
  {
    std::lock_guard lock(mu_);
    for (const auto& a : asked_) {
      if (a["cmd"] == "measurements" && a["args"].contains("from")) series = a["args"];
    }
  }
  EXPECT_EQ(series["kind"], "body-weight");
  EXPECT_EQ(series["from"], "2026-11-05T10:00:00Z");
}

TEST_F(CarehubWeb, APairingCodeIsShownOnTheHubAndWorksOnce) {
  EXPECT_TRUE(json::parse(cli_->Get("/api/pair/code")->body)["code"].is_null());
  ASSERT_EQ(post("/api/pair/request", json::object())->status, 200);
  const std::string shown = json::parse(cli_->Get("/api/pair/code")->body)["code"];
  auto paired = post("/api/pair/confirm", {{"code", shown}});
  ASSERT_EQ(paired->status, 204) << paired->body;
  EXPECT_NE(paired->get_header_value("Set-Cookie").find("carehub_display="), std::string::npos);
  EXPECT_EQ(code(post("/api/pair/confirm", {{"code", shown}})), "pairing-failed");
}

TEST_F(CarehubWeb, AnAlertReachesTheBrowserOverServerSentEvents) {
  std::string got;
  auto r = cli_->Get("/api/events", [&](const char* data, std::size_t n) {
    got.append(data, n);
    if (got.find("event: hello") != std::string::npos && got.find("triggered") == std::string::npos) {
      got += "triggered";  // subscribed: now carehubd commits an alert
      std::uint64_t one = 1;
      EXPECT_EQ(::write(wake_, &one, sizeof one), static_cast<ssize_t>(sizeof one));
    }
    return got.find("event: alert") == std::string::npos;
  });
  EXPECT_EQ(got.rfind("retry: 2000\n\n", 0), 0u) << got;
  EXPECT_NE(got.find("\"alert\":\"a1\""), std::string::npos) << got;
}

TEST_F(CarehubWeb, WithCarehubdGoneTheApiSaysSo) {
  daemon_->stop();
  daemon_.reset();
  auto r = cli_->Get("/api/display/home");
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(code(r), "daemon-unavailable");
}

TEST_F(CarehubWeb, TheLiveStreamSaysWhenCarehubdRestartsAndCarriesOnAfterwards) {
  std::string got;
  enum { connecting, up, down, back } phase = connecting;
  auto r = cli_->Get("/api/events", [&](const char* data, std::size_t n) {
    got.append(data, n);
    const bool reachable = got.rfind("\"daemon\":true") != std::string::npos || got.rfind("\"reachable\":true") != std::string::npos;
    if (phase == connecting && reachable) {
      phase = up;
      daemon_->stop();  // carehubd goes away: the bridge's stream ends
      daemon_.reset();
    } else if (phase == up && got.find("\"reachable\":false") != std::string::npos) {
      phase = down;
      EXPECT_TRUE(start_daemon());  // carehubd is back on the same socket path
      clock_.advance(1s);             // past the bridge's backoff (250 ms), on its own clock
    } else if (const auto again = got.rfind("\"reachable\":true");
               phase == down && again != std::string::npos && again > got.find("\"reachable\":false")) {
      phase = back;
      std::uint64_t one = 1;  // and an alert committed now reaches the page
      EXPECT_EQ(::write(wake_, &one, sizeof one), static_cast<ssize_t>(sizeof one));
    }
    return phase != back || got.find("event: alert") == std::string::npos;
  });
  EXPECT_EQ(phase, back) << got;
  EXPECT_NE(got.find("event: alert"), std::string::npos) << got;
}

}  // namespace
}  // namespace carehub::web
