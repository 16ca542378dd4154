// Proves store/buffer_key.cpp and the keyed open in store/sqlite.cpp: the credential's shape, a wrong or
// missing key refused at open (never an empty buffer), a new buffer created encrypted (issue 18).
#include "store/buffer_key.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

const std::string kHex1 = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
const std::string kHex2 = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

BufferKey key_of(const std::string& hex) { return BufferKey::parse(hex, "test").value(); }

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

TEST(BufferKeyParse, AcceptsSixtyFourHexDigitsWithOrWithoutATrailingNewline) {
  EXPECT_TRUE(BufferKey::parse(kHex1, "k").has_value());
  EXPECT_TRUE(BufferKey::parse(kHex1 + "\n", "k").has_value());
  EXPECT_TRUE(BufferKey::parse(kHex1 + "\r\n", "k").has_value());
  EXPECT_EQ(key_of(kHex1).sqlcipher_form(), "x'" + kHex1 + "'");
}

TEST(BufferKeyParse, RefusesAnyOtherShapeNamingWhereButNeverTheText) {
  for (const std::string& bad : std::vector<std::string>{kHex1.substr(1), kHex1 + "0", std::string(), kHex1 + "\n\n",
                                kHex1.substr(0, 63) + "g", "passphrase-" + kHex1.substr(11)}) {
    auto k = BufferKey::parse(bad, "credential buffer-key");
    ASSERT_FALSE(k.has_value()) << bad;
    EXPECT_EQ(k.error().code, Errc::invalid_argument);
    EXPECT_NE(k.error().message.find("credential buffer-key must be 64 hex digits (a raw 256-bit key)"),
              std::string::npos)
        << k.error().message;
    if (bad.size() > 8) {
      EXPECT_EQ(k.error().message.find(bad.substr(0, 8)), std::string::npos);
    }
  }
}

TEST(BufferKeyRead, ReadsARelativeNameFromTheCredentialsDirectory) {
  test::TempDir dir;
  write(dir.file("buffer-key"), kHex2 + "\n");
  auto k = BufferKey::read("buffer-key", dir.path().string());
  ASSERT_TRUE(k.has_value()) << k.error().message;
  EXPECT_EQ(*k, key_of(kHex2));
  auto absolute = BufferKey::read(dir.file("buffer-key"), "/nonexistent");
  ASSERT_TRUE(absolute.has_value()) << absolute.error().message;
}

TEST(BufferKeyRead, AMissingCredentialIsNotFoundAndAMalformedOneInvalid) {
  test::TempDir dir;
  auto missing = BufferKey::read("buffer-key", dir.path().string());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_NE(missing.error().message.find(dir.file("buffer-key")), std::string::npos);
  write(dir.file("buffer-key"), kHex2 + kHex2);
  auto malformed = BufferKey::read("buffer-key", dir.path().string());
  ASSERT_FALSE(malformed.has_value());
  EXPECT_EQ(malformed.error().code, Errc::invalid_argument);
}

TEST(KeyedOpen, ANewBufferIsCreatedEncryptedAndOpensOnlyWithItsKey) {
  test::TempDir dir;
  const auto path = dir.file("buffer.db");
  const auto k1 = key_of(kHex1);
  {
    auto db = sqlite::Database::open(path, /*create=*/true, &k1);
    ASSERT_TRUE(db.has_value()) << db.error().message;
    ASSERT_TRUE(db->exec("CREATE TABLE t(x); INSERT INTO t VALUES (42)").has_value());
  }
  EXPECT_NE(bytes_of(path).substr(0, 16), std::string("SQLite format 3\0", 16));
  {
    auto db = sqlite::Database::open(path, /*create=*/false, &k1);
    ASSERT_TRUE(db.has_value()) << db.error().message;
    EXPECT_EQ(db->query_int("SELECT x FROM t").value(), 42);
  }
  const auto before = bytes_of(path);
  const auto k2 = key_of(kHex2);
  for (const BufferKey* wrong : {&k2, static_cast<const BufferKey*>(nullptr)}) {
    auto db = sqlite::Database::open(path, /*create=*/true, wrong);
    ASSERT_FALSE(db.has_value());
    EXPECT_EQ(db.error().code, Errc::invalid_argument);
    EXPECT_NE(db.error().message.find(wrong ? "does not open with the buffer key" : "needs its key"), std::string::npos)
        << db.error().message;
  }
  EXPECT_EQ(bytes_of(path), before);  // a refused open changes nothing
}

TEST(KeyedOpen, AKeyOnAPlaintextBufferIsRefusedNotTreatedAsEmpty) {
  test::TempDir dir;
  const auto path = dir.file("buffer.db");
  {
    auto db = sqlite::Database::open(path, /*create=*/true);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(db->exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)").has_value());
  }
  const auto k1 = key_of(kHex1);
  auto db = sqlite::Database::open(path, /*create=*/true, &k1);
  ASSERT_FALSE(db.has_value());
  EXPECT_EQ(db.error().code, Errc::invalid_argument);
  EXPECT_EQ(bytes_of(path).substr(0, 16), std::string("SQLite format 3\0", 16));
}

TEST(KeyedOpen, TheStoreRefusesAWrongKeyWithInvalidArgumentAndCreatesNoFile) {
  test::TempDir dir;
  StoreOptions options;
  options.path = dir.file("buffer.db");
  options.key = key_of(kHex1);
  ASSERT_TRUE(StoreWriter::open(options).has_value());
  const auto before = bytes_of(options.path);
  options.key = key_of(kHex2);
  auto w = StoreWriter::open(options);
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, Errc::invalid_argument);
  auto r = StoreReader::open(options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(bytes_of(options.path), before);
}

}  // namespace
}  // namespace carehub
