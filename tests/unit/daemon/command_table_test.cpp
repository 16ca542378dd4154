// The control command table (daemon/commands/table.hpp): a name no entry and no source answers gets the
// same "unknown command" answer as before the table, naming the known commands from the entries
// themselves; a devices.* command without the BLE source is "unavailable", not unknown.
#include "daemon/commands/table.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "core/clock.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::daemon {
namespace {

class ACommandTable : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.path = dir_.file("buffer.db");
    auto w = StoreWriter::open(o);
    ASSERT_TRUE(w) << w.error().message;
    writer_ = std::move(*w);
    auto r = StoreReader::open(o);
    ASSERT_TRUE(r) << r.error().message;
    reader_ = std::move(*r);
    pipeline_ = std::make_unique<Pipeline>(*writer_, clock_, log_, counters_, PipelineOptions{});
    commands::Context context{*pipeline_, *reader_, reader_mu_, log_, counters_, clock_};
    // No source configured: what the daemon's forward answers then.
    context.forward = [this](const std::string& cmd, const nlohmann::json&) -> Result<nlohmann::json> {
      return commands::Table::not_served(cmd, counters_);
    };
    table_ = std::make_unique<commands::Table>(std::move(context));
  }

  Result<nlohmann::json> call(const std::string& cmd) {
    return table_->dispatch({nullptr, cmd, nlohmann::json::object()}, {::getpid(), ::getuid(), ::getgid()});
  }

  test::TempDir dir_;
  Logger log_{LogLevel::error};
  Counters counters_;
  SystemClock clock_;
  std::unique_ptr<StoreWriter> writer_;
  std::unique_ptr<StoreReader> reader_;
  std::mutex reader_mu_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<commands::Table> table_;
};

TEST_F(ACommandTable, AnswersAnUnknownCommandNamingTheKnownOnes) {
  auto r = call("statuss");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  // Word for word the answer of the hand-written list the table replaced.
  EXPECT_EQ(r.error().message,
            "unknown command \"statuss\" (known: status, measure.add, measurements, sync.now, sync.status, "
            "sync.dead, sync.retry-dead, alerts, alerts.ack, alerts.close, alerts.watch, config.check, config.reload, "
            "readings.unassigned, readings.assign, readings.discard, auth.jwks, devices.bindings, "
            "devices.unbind, consent.show, consent.set, audit.list, buffer.backup, and devices.* of the BLE source)");
  EXPECT_EQ(counters_.snapshot()["control_bad_requests"], 1u);
}

TEST_F(ACommandTable, SaysADevicesCommandNeedsTheBleSource) {
  auto r = call("devices.scan");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::unavailable);
  EXPECT_EQ(r.error().message, "\"devices.scan\" needs the BLE source, and none is configured (/sources)");
  EXPECT_EQ(counters_.snapshot()["control_bad_requests"], 0u);
}

TEST_F(ACommandTable, ServesTheAlertWatchAsAStreamNotAsARequest) {
  const auto streams = table_->streams();
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams.begin()->first, "alerts.watch");
  auto r = call("alerts.watch");  // as a request it is not answered: the control server routes it to the stream
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace carehub::daemon
