// carehubd and the buffer encrypted at rest (issue 18): the key comes from the credential `buffer-key`
// (or the file /store/key_file names); without a valid one, or with a key the buffer does not open with,
// carehubd exits 2 and leaves the buffer as it was, never starting an empty one; the plaintext buffer of
// the previous release is encrypted at start with every reading kept.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/time.hpp"
#include "store/store.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/fixtures.hpp"

namespace carehub::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

const std::string kKey1 = "5f4dcc3b5aa765d61d8327deb882cf995f4dcc3b5aa765d61d8327deb882cf99";
const std::string kKey2 = "0f4dcc3b5aa765d61d8327deb882cf995f4dcc3b5aa765d61d8327deb882cf90";
const std::string kHeader("SQLite format 3\0", 16);

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string heart_rate_line(int i) {
  const auto t = std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()) - 1h + std::chrono::seconds(i);
  return json{{"kind", "heart-rate"}, {"time", format_rfc3339(t)}, {"device", "manual"}, {"values", {{"value", 64}}}}
             .dump() +
         "\n";
}

class CarehubdBufferKey : public ::testing::Test {
 protected:
  void SetUp() override {
    d_ = std::make_unique<DaemonProcess>(dir_, "");
    // DaemonProcess names a test key file; here carehubd reads the credential, as under systemd.
    d_->config()["store"].erase("key_file");
  }
  std::string buffer() const { return dir_.file("buffer.db"); }
  TempDir dir_;
  std::unique_ptr<DaemonProcess> d_;
};

TEST_F(CarehubdBufferKey, WithoutTheCredentialItExitsTwoAndCreatesNoBuffer) {
  // No /store/key_file: the credential buffer-key in $CREDENTIALS_DIRECTORY, which has none.
  ASSERT_FALSE(d_->start({{"CREDENTIALS_DIRECTORY", dir_.file("credentials")}}));
  EXPECT_EQ(d_->wait_exit(), 2);
  EXPECT_FALSE(fs::exists(buffer()));
  EXPECT_NE(d_->log().find("buffer key"), std::string::npos) << d_->log();
}

TEST_F(CarehubdBufferKey, AMalformedKeyExitsTwoWithoutNamingTheKey) {
  write(dir_.file("buffer-key"), "correct horse battery staple\n");
  d_->config()["store"]["key_file"] = dir_.file("buffer-key");
  ASSERT_FALSE(d_->start());
  EXPECT_EQ(d_->wait_exit(), 2);
  EXPECT_NE(d_->log().find("must be 64 hex digits"), std::string::npos) << d_->log();
  EXPECT_EQ(d_->log().find("horse"), std::string::npos);
  EXPECT_FALSE(fs::exists(buffer()));
}

TEST_F(CarehubdBufferKey, TheCredentialEncryptsTheBufferAndAnotherKeyIsRefusedWithExitTwo) {
  fs::create_directory(dir_.file("credentials"));
  write(dir_.file("credentials/buffer-key"), kKey1 + "\n");
  const std::map<std::string, std::string> env{{"CREDENTIALS_DIRECTORY", dir_.file("credentials")}};
  ASSERT_TRUE(d_->start(env)) << d_->log();
  auto added = d_->add(heart_rate_line(0) + heart_rate_line(1));
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(added.uids().size(), 2u);
  d_->signal(SIGTERM);
  ASSERT_EQ(d_->wait_exit(), 0);
  const auto before = bytes_of(buffer());
  EXPECT_EQ(before.find(kHeader), std::string::npos);

  write(dir_.file("credentials/buffer-key"), kKey2 + "\n");
  ASSERT_FALSE(d_->start(env));
  EXPECT_EQ(d_->wait_exit(), 2);
  EXPECT_NE(d_->log().find("does not open with the buffer key"), std::string::npos) << d_->log();
  EXPECT_EQ(bytes_of(buffer()), before);

  write(dir_.file("credentials/buffer-key"), kKey1 + "\n");
  ASSERT_TRUE(d_->start(env)) << d_->log();
  EXPECT_EQ(d_->status()["buffer"]["pending"], 2) << d_->status().dump();
}

TEST_F(CarehubdBufferKey, ThePlaintextBufferOfThePreviousReleaseIsEncryptedAtStartWithEveryReading) {
  {
    StoreOptions plain;
    plain.path = buffer();
    auto w = StoreWriter::open(plain);
    ASSERT_TRUE(w.has_value()) << w.error().message;
    for (int i = 0; i < 50; ++i) {
      auto r = test::heart_rate(70, std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()) - 2h +
                                        std::chrono::minutes(i),
                                {.device = "manual", .patient = "Patient/test-patient", .source = "manual"});
      ASSERT_TRUE((*w)->insert_reading(r, reading_uid(r, "hub-test")).value());
    }
  }
  ASSERT_EQ(bytes_of(buffer()).substr(0, 16), kHeader);
  write(dir_.file("buffer-key"), kKey1);
  d_->config()["store"]["key_file"] = dir_.file("buffer-key");
  ASSERT_TRUE(d_->start()) << d_->log();
  EXPECT_EQ(d_->status()["buffer"]["pending"], 50) << d_->status().dump();
  EXPECT_NE(d_->log().find("buffer-encrypted"), std::string::npos) << d_->log();
  EXPECT_TRUE(d_->notified("EXTEND_TIMEOUT_USEC=30000000\nSTATUS=encrypting the buffer"))
      << "systemd is asked to wait for the copy rather than kill carehubd at TimeoutStartSec=";
  EXPECT_EQ(bytes_of(buffer()).substr(0, 16).find("SQLite format 3"), std::string::npos);
}

// /store/encryption off (a development kit, the benchmark's baseline): plaintext SQLite, said at start and
// in status; the same setting on an encrypted buffer is refused with exit 2, the buffer untouched.
TEST_F(CarehubdBufferKey, EncryptionOffKeepsAPlaintextBufferAndRefusesAnEncryptedOne) {
  d_->config()["store"]["encryption"] = "off";
  ASSERT_TRUE(d_->start({{"CREDENTIALS_DIRECTORY", dir_.file("credentials")}})) << d_->log();  // no key needed
  EXPECT_EQ(d_->status()["buffer"]["encrypted"], false) << d_->status().dump();
  EXPECT_NE(d_->log().find("buffer-not-encrypted"), std::string::npos) << d_->log();
  d_->signal(SIGTERM);
  ASSERT_EQ(d_->wait_exit(), 0);
  EXPECT_EQ(bytes_of(buffer()).substr(0, 16), kHeader);

  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(buffer() + suffix);
  write(dir_.file("buffer-key"), kKey1);
  d_->config()["store"].erase("encryption");
  d_->config()["store"]["key_file"] = dir_.file("buffer-key");
  ASSERT_TRUE(d_->start()) << d_->log();
  EXPECT_EQ(d_->status()["buffer"]["encrypted"], true) << d_->status().dump();
  d_->signal(SIGTERM);
  ASSERT_EQ(d_->wait_exit(), 0);
  const auto encrypted = bytes_of(buffer());
  d_->config()["store"]["encryption"] = "off";
  ASSERT_FALSE(d_->start());
  EXPECT_EQ(d_->wait_exit(), 2) << d_->log();
  EXPECT_EQ(bytes_of(buffer()), encrypted);
}

// carehubctl buffer backup while carehubd runs; restore refused while it runs, then done with it stopped.
TEST_F(CarehubdBufferKey, BackupWhileRunningAndRestoreWhileStoppedThroughCarehubctl) {
  write(dir_.file("buffer-key"), kKey1 + "\n");
  d_->config()["store"]["key_file"] = dir_.file("buffer-key");
  ASSERT_TRUE(d_->start()) << d_->log();
  ASSERT_EQ(d_->add(heart_rate_line(0) + heart_rate_line(1) + heart_rate_line(2)).exit_code, 0);
  auto backup = d_->ctl({"buffer", "backup", "--name", "b1.db"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  const auto copy = dir_.file("backups/b1.db");
  EXPECT_NE(backup.out.find(copy), std::string::npos) << backup.out;
  EXPECT_NE(backup.out.find("encrypted with the buffer key"), std::string::npos) << backup.out;
  EXPECT_EQ(bytes_of(copy).find(kHeader), std::string::npos);
  EXPECT_NE(d_->ctl({"buffer", "backup", "--name", "../escape.db"}).exit_code, 0);
  ASSERT_EQ(d_->add(heart_rate_line(3)).exit_code, 0);  // after the backup: not in it
  auto refused = d_->ctl({"buffer", "restore", copy, "--buffer", buffer()});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("carehubd is running"), std::string::npos) << refused.err;

  d_->signal(SIGTERM);
  ASSERT_EQ(d_->wait_exit(), 0);
  auto restored = d_->ctl({"buffer", "restore", copy, "--buffer", buffer(), "--key-file", dir_.file("buffer-key")});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_TRUE(fs::exists(buffer() + ".before-restore"));
  ASSERT_TRUE(d_->start()) << d_->log();
  EXPECT_EQ(d_->status()["buffer"]["pending"], 3) << d_->status().dump();
}

}  // namespace
}  // namespace carehub::test
