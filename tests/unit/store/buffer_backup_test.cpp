// Proves store/buffer_backup.cpp and buffer_migration's reencrypt: the backup of an encrypted buffer is a
// consistent, encrypted copy that opens only with the key; a restore swaps the files so that no old WAL
// sits next to the restored buffer and the previous one is kept; a key rotation crashed at any step leaves
// a buffer that opens with the old or the new key and every row (issue 18).
#include "store/buffer_backup.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "store/buffer_migration.hpp"
#include "store/sqlite.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

namespace fs = std::filesystem;
namespace bm = buffer_migration;

const std::string kMarker = "Patient/MARKERbackup3e8b";
constexpr int kReadings = 120;

BufferKey key1() { return BufferKey::parse(std::string(64, 'a'), "k1").value(); }
BufferKey key2() { return BufferKey::parse(std::string(64, 'b'), "k2").value(); }

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Rows of kMarker in the file opened with `key`; -1 when it does not open with it.
int rows(const std::string& path, const BufferKey& key) {
  auto db = sqlite::Database::open(path, false, &key);
  if (!db) return -1;
  auto ok = db->query_text("PRAGMA integrity_check");
  if (!ok || *ok != "ok") return -2;
  auto n = db->query_int("SELECT count(*) FROM readings WHERE patient = '" + kMarker + "'");
  return n ? static_cast<int>(*n) : -3;
}

class BufferBackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options.path = dir.file("buffer.db");
    options.key = key1();
    auto w = StoreWriter::open(options);
    ASSERT_TRUE(w.has_value()) << w.error().message;
    writer = std::move(*w);
    for (int i = 0; i < kReadings; ++i) {
      auto r = test::heart_rate(61, from_epoch_ms(1763719200000) + std::chrono::minutes(i),
                                {.device = "ble-aa", .patient = kMarker, .source = "ble"});
      ASSERT_TRUE(writer->insert_reading(r, reading_uid(r)).value());
    }
  }
  test::TempDir dir;
  StoreOptions options;
  std::unique_ptr<StoreWriter> writer;
};

TEST_F(BufferBackupTest, ABackupWhileTheWriterRunsIsEncryptedWithTheSameKeyAndComplete) {
  const auto out = dir.file("backup.db");
  auto size = backup_buffer(options, out);
  ASSERT_TRUE(size.has_value()) << size.error().message;
  EXPECT_GT(*size, 0);
  EXPECT_FALSE(fs::exists(out + ".part"));
  const auto bytes = bytes_of(out);
  EXPECT_EQ(bytes.find(std::string("SQLite format 3\0", 16)), std::string::npos);
  EXPECT_EQ(bytes.find(kMarker), std::string::npos);
  EXPECT_EQ(rows(out, key1()), kReadings);
  EXPECT_EQ(rows(out, key2()), -1);
  // Never over an existing file.
  auto again = backup_buffer(options, out);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::invalid_argument);
}

TEST_F(BufferBackupTest, ARestoreKeepsThePreviousBufferAndItsWalAndLeavesNoWalBesideTheRestoredOne) {
  const auto out = dir.file("backup.db");
  ASSERT_TRUE(backup_buffer(options, out).has_value());
  // More readings after the backup, then carehubd "stops" (the writer closes: its WAL is checkpointed).
  auto r = test::heart_rate(99, from_epoch_ms(1763719200000) + std::chrono::hours(30),
                            {.device = "ble-aa", .patient = kMarker, .source = "ble"});
  ASSERT_TRUE(writer->insert_reading(r, reading_uid(r)).value());
  writer.reset();
  // A WAL left beside the buffer (as a crash leaves it) must go with it, not stay beside the restored file.
  std::ofstream(options.path + "-wal", std::ios::binary) << std::string(100, 'w');

  const auto k = key1();
  auto before = restore_buffer(options.path, out, &k);
  ASSERT_TRUE(before.has_value()) << before.error().message;
  EXPECT_EQ(*before, options.path + ".before-restore");
  EXPECT_FALSE(fs::exists(options.path + "-wal"));
  EXPECT_TRUE(fs::exists(options.path + ".before-restore-wal"));
  EXPECT_FALSE(fs::exists(options.path + ".restoring"));
  EXPECT_EQ(rows(options.path, key1()), kReadings);  // the reading after the backup is not in it
  EXPECT_EQ(rows(*before, key1()), kReadings + 1);
}

TEST_F(BufferBackupTest, ARestoreWithAKeyTheBackupDoesNotOpenWithChangesNothing) {
  const auto out = dir.file("backup.db");
  ASSERT_TRUE(backup_buffer(options, out).has_value());
  writer.reset();
  const auto original = bytes_of(options.path);
  const auto k = key2();
  auto r = restore_buffer(options.path, out, &k);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(bytes_of(options.path), original);
  EXPECT_FALSE(fs::exists(options.path + ".before-restore"));
}

TEST_F(BufferBackupTest, RekeyingMakesTheBufferOpenOnlyWithTheNewKeyAndARerunChangesNothing) {
  writer.reset();
  auto out = bm::reencrypt(options.path, key1(), key2());
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_TRUE(out->migrated);
  EXPECT_EQ(rows(options.path, key2()), kReadings);
  EXPECT_EQ(rows(options.path, key1()), -1);
  auto again = bm::reencrypt(options.path, key1(), key2());
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_FALSE(again->migrated);
}

TEST_F(BufferBackupTest, ARekeyCrashedAtAnyStepLeavesABufferThatOpensWithOneOfTheKeys) {
  writer.reset();
  const auto pristine = dir.file("pristine.db");
  fs::copy_file(options.path, pristine);
  for (auto at : {bm::Step::start, bm::Step::checkpointed, bm::Step::attached, bm::Step::exported, bm::Step::closed,
                  bm::Step::verified, bm::Step::synced, bm::Step::renamed}) {
    SCOPED_TRACE("crash after step " + std::string(bm::to_string(at)));
    fs::remove(options.path);
    fs::copy_file(pristine, options.path);
    const pid_t pid = ::fork();
    if (pid == 0) {
      bm::Options o;
      o.on_step = [at](bm::Step s) {
        if (s == at) ::_exit(7);
      };
      (void)bm::reencrypt(options.path, key1(), key2(), o);
      ::_exit(1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7) << status;
    const int old_rows = rows(options.path, key1());
    const int new_rows = rows(options.path, key2());
    EXPECT_TRUE(old_rows == kReadings || new_rows == kReadings) << old_rows << " " << new_rows;
    ASSERT_TRUE(bm::reencrypt(options.path, key1(), key2()).has_value());
    EXPECT_EQ(rows(options.path, key2()), kReadings);
  }
}

}  // namespace
}  // namespace carehub
