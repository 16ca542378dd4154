// The buffer encrypted at rest (issue 18): what the store writes with a key, in the file and in its WAL
// while the writer runs, carries no SQLite header and no reading value in clear. Fails if the key is
// dropped anywhere between StoreOptions and SQLCipher: the plaintext header would be there.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "store/buffer_key.hpp"
#include "store/store.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

const std::string kHeader("SQLite format 3\0", 16);
// Strings that appear in every row written below; none may reach the disk in clear.
const std::string kPatientMarker = "Patient/MARKERpatient7c3e";
const std::string kDeviceMarker = "ble-MARKERdevice91f2";
const std::string kValueMarker = "187.654321";

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_readings(StoreWriter& w, int n) {
  for (int i = 0; i < n; ++i) {
    auto r = test::heart_rate(187.654321, from_epoch_ms(1763719200000) + std::chrono::minutes(i),
                              {.device = kDeviceMarker, .patient = kPatientMarker, .source = "ble"});
    auto inserted = w.insert_reading(r, reading_uid(r));
    ASSERT_TRUE(inserted.has_value() && *inserted) << (inserted ? "duplicate" : inserted.error().message);
  }
}

void expect_nothing_in_clear(const std::string& path) {
  const auto bytes = bytes_of(path);
  ASSERT_FALSE(bytes.empty()) << path;
  EXPECT_EQ(bytes.find(kHeader), std::string::npos) << path << " holds a plaintext SQLite header";
  for (const auto& marker : {kPatientMarker, kDeviceMarker, kValueMarker}) {
    EXPECT_EQ(bytes.find(marker), std::string::npos) << path << " holds " << marker << " in clear";
  }
}

TEST(BufferAtRest, NeitherTheFileNorItsWalHoldsAHeaderOrAValueInClear) {
  test::TempDir dir;
  StoreOptions options;
  options.path = dir.file("buffer.db");
  options.key = BufferKey::parse("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "test").value();
  {
    auto w = StoreWriter::open(options);
    ASSERT_TRUE(w.has_value()) << w.error().message;
    write_readings(**w, 200);
    expect_nothing_in_clear(options.path + "-wal");  // the rows live only here until a checkpoint
    auto r = StoreReader::open(options);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ((*r)->counts().value().pending, 200);
  }
  expect_nothing_in_clear(options.path);
}

// The control: the same rows without a key are there in clear, so the test above can fail.
TEST(BufferAtRest, WithoutAKeyTheSameRowsAreInClear) {
  test::TempDir dir;
  StoreOptions options;
  options.path = dir.file("buffer.db");
  {
    auto w = StoreWriter::open(options);
    ASSERT_TRUE(w.has_value()) << w.error().message;
    write_readings(**w, 200);
  }
  const auto bytes = bytes_of(options.path);
  EXPECT_EQ(bytes.substr(0, 16), kHeader);
  EXPECT_NE(bytes.find(kPatientMarker), std::string::npos);
  EXPECT_NE(bytes.find(kValueMarker), std::string::npos);
}

}  // namespace
}  // namespace carehub
