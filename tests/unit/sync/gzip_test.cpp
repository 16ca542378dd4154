#include "sync/gzip.hpp"

#include <gtest/gtest.h>

#include "tests/unit/sync/fake_fhir_server.hpp"

namespace carehub::sync {
namespace {

TEST(Gzip, CompressesToAGzipStreamThatInflatesBack) {
  std::string text;
  for (int i = 0; i < 500; ++i) text += R"({"resourceType":"Observation","status":"final"},)";
  auto z = gzip_compress(text);
  ASSERT_TRUE(z.has_value());
  ASSERT_GE(z->size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>((*z)[0]), 0x1f);  // RFC 1952 magic
  EXPECT_EQ(static_cast<unsigned char>((*z)[1]), 0x8b);
  EXPECT_LT(z->size(), text.size() / 10);
  HttpRequest req;
  req.headers = {{"Content-Encoding", "gzip"}};
  req.body = *z;
  EXPECT_EQ(test::request_body(req), text);
}

TEST(Gzip, CompressesAnEmptyBody) {
  auto z = gzip_compress("");
  ASSERT_TRUE(z.has_value());
  HttpRequest req;
  req.headers = {{"Content-Encoding", "gzip"}};
  req.body = *z;
  EXPECT_EQ(test::request_body(req), "");
}

}  // namespace
}  // namespace carehub::sync
