// devices.pair with user slots around the BLE source's address-level pairing (issue 14): arguments are
// checked before the source pairs anything, the source gets only what it understands, and each slot is
// bound after the pairing answered. The source is a recording stand-in: the BLE driver's own pairing is
// tested on the BlueZ mock (tests/integration/ble_test.cpp). The commands are reached through the
// command table (daemon/commands/table.hpp), with only the services they use in the context.
#include "daemon/commands/table.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "core/clock.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::daemon {
namespace {

constexpr const char* kDevice = "ble-aa-bb-cc-dd-ee-03";

class PairingWithUsers : public ::testing::Test {
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
    pipeline_->start();
    commands::Context context{*pipeline_, *reader_, reader_mu_, log_, counters_, clock_};
    context.forward = source();
    commands_ = std::make_unique<commands::Table>(std::move(context));
  }
  void TearDown() override {
    commands_.reset();
    if (pipeline_) pipeline_->stop();
  }

  // The BLE source: pairs and registers the device, as its devices.pair does.
  std::function<Result<nlohmann::json>(const std::string&, const nlohmann::json&)> source() {
    return [this](const std::string& cmd, const nlohmann::json& args) -> Result<nlohmann::json> {
      forwarded_.push_back({cmd, args});
      if (cmd != "devices.pair") return nlohmann::json{{"answered_by", "source"}};
      Device d;
      d.id = kDevice;
      d.address = "AA:BB:CC:DD:EE:03";
      d.category = "blood-pressure";
      if (auto r = pipeline_->upsert_device(d).get(); !r) return r.error();
      return nlohmann::json{{"device", {{"id", d.id}, {"address", d.address}}}};
    };
  }

  test::TempDir dir_;
  Logger log_{LogLevel::error};
  Counters counters_;
  std::unique_ptr<StoreWriter> writer_;
  std::unique_ptr<StoreReader> reader_;
  std::mutex reader_mu_;
  SystemClock clock_;  // before the pipeline: its writer thread reads it until the pipeline stops
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<commands::Table> commands_;
  std::vector<std::pair<std::string, nlohmann::json>> forwarded_;
  PeerCred peer_{::getpid(), ::getuid(), ::getgid()};

  Result<nlohmann::json> call(const std::string& cmd, const nlohmann::json& args) {
    return commands_->dispatch({nullptr, cmd, args}, peer_);
  }
};

TEST_F(PairingWithUsers, PairsAtTheAddressLevelThenBindsEachSlot) {
  const nlohmann::json args = {{"address", "AA:BB:CC:DD:EE:03"}, {"category", "blood-pressure"}, {"passkey", 123456},
                               {"users", {{{"user", 1}, {"patient", "Patient/anna"}}, {{"user", 2}, {"patient", "Patient/ben"}}}},
                               {"by", "Tech"}};
  auto r = call("devices.pair", args);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(forwarded_.size(), 1u);
  EXPECT_EQ(forwarded_[0].second, (nlohmann::json{{"address", "AA:BB:CC:DD:EE:03"}, {"category", "blood-pressure"}, {"passkey", 123456}}))
      << "the source sees only what it checks itself";
  ASSERT_EQ((*r)["users"].size(), 2u) << r->dump();
  EXPECT_EQ((*r)["users"][1]["patient"], "Patient/ben");
  EXPECT_EQ((*r)["users"][1]["by"].get<std::string>().rfind("Tech, uid ", 0), 0u);
  std::lock_guard lock(reader_mu_);
  auto stored = reader_->bindings();
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[0].device, kDevice);
  EXPECT_EQ((*stored)[0].user, 1);
  EXPECT_EQ((*stored)[0].patient, "Patient/anna");
}

TEST_F(PairingWithUsers, ABadSlotOrPatientIsRefusedBeforeAnythingIsPaired) {
  for (const auto& users : {nlohmann::json{{{"user", 1}, {"patient", "Patient/anna"}}, {{"user", 1}, {"patient", "Patient/ben"}}},
                            nlohmann::json{{{"user", 255}, {"patient", "Patient/anna"}}},
                            nlohmann::json{{{"user", 1}, {"patient", "anna"}}},
                            nlohmann::json{{{"user", 1}}},
                            nlohmann::json::array()}) {
    auto r = call("devices.pair", {{"address", "AA:BB:CC:DD:EE:03"}, {"category", "blood-pressure"}, {"users", users}});
    ASSERT_FALSE(r) << users.dump();
    EXPECT_EQ(r.error().code, Errc::invalid_argument) << r.error().message;
    EXPECT_NE(r.error().message.find("/args/users"), std::string::npos) << r.error().message;
  }
  EXPECT_TRUE(forwarded_.empty()) << "no device paired with half its users";
  EXPECT_EQ(counters_.snapshot()["control_bad_requests"], 5u);
}

TEST_F(PairingWithUsers, WithoutUsersPairingStaysTheSourcesCommand) {
  const nlohmann::json plain = {{"address", "AA:BB:CC:DD:EE:03"}, {"category", "scale"}};
  ASSERT_TRUE(call("devices.pair", plain));
  ASSERT_TRUE(call("devices.scan", nlohmann::json::object()));
  ASSERT_EQ(forwarded_.size(), 2u);
  EXPECT_EQ(forwarded_[0], (std::pair<std::string, nlohmann::json>{"devices.pair", plain})) << "passed on untouched";
  EXPECT_EQ(forwarded_[1].first, "devices.scan");
  // A user-slot command is the daemon's own: it reaches the store, never the source.
  auto r = call("devices.unbind", {{"device", kDevice}, {"user", 1}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["was_bound"], false) << r->dump();
  EXPECT_EQ(forwarded_.size(), 2u);
}

}  // namespace
}  // namespace carehub::daemon
