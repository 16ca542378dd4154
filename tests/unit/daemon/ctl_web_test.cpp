// `carehubctl web fingerprint` (issue 16): the technician compares it with what the tablet's browser shows
// for the home network's self-signed certificate, so it must be the certificate's real SHA-256 fingerprint.
// Checked against an independent implementation: the openssl command line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <regex>
#include <vector>

#include "tests/support/command_line.hpp"
#include "tests/support/temp_dir.hpp"
#include "web/tls/tls_cert.hpp"

namespace carehub::ctl {
namespace {

using ::testing::HasSubstr;

test::CtlRun carehubctl(std::vector<std::string> args) {
  return test::run_carehubctl(std::move(args), [](const std::string&, const nlohmann::json&) -> Result<nlohmann::json> {
    ADD_FAILURE() << "web fingerprint needs no daemon";
    return nlohmann::json::object();
  });
}

std::string openssl_fingerprint(const std::string& cert) {
  std::string out;
  FILE* p = ::popen(("openssl x509 -noout -fingerprint -sha256 -in '" + cert + "'").c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 512> buf{};
  while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
  ::pclose(p);
  const auto eq = out.find('=');  // "sha256 Fingerprint=AB:CD:...\n"
  return eq == std::string::npos ? "" : out.substr(eq + 1, out.find_last_not_of('\n') - eq);
}

TEST(CarehubctlWeb, PrintsTheFingerprintOfTheCertificateTheHubMadeAsOpensslSeesIt) {
  test::TempDir dir;
  auto files = web::ensure_self_signed(dir.path().string(), "hub-test");
  ASSERT_TRUE(files.has_value()) << files.error().message;
  const auto ran = carehubctl({"web", "fingerprint", "--cert", files->cert});
  ASSERT_EQ(ran.rc, 0) << ran.err;
  EXPECT_TRUE(std::regex_match(ran.out, std::regex("SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}\n"))) << ran.out;
  const auto expected = openssl_fingerprint(files->cert);
  ASSERT_FALSE(expected.empty()) << "openssl x509 gave no fingerprint";
  EXPECT_EQ(ran.out, "SHA-256 " + expected + "\n");
}

TEST(CarehubctlWeb, NamesTheFileAndWhyWhenItCannotReadTheCertificate) {
  test::TempDir dir;
  const auto missing = dir.file("nope.crt");
  auto ran = carehubctl({"web", "fingerprint", "--cert", missing});
  EXPECT_EQ(ran.rc, 1);
  EXPECT_THAT(ran.err, HasSubstr(missing));
  EXPECT_THAT(ran.err, HasSubstr("No such file"));
  test::write_file(dir.file("junk.crt"), "not a certificate\n");
  ran = carehubctl({"web", "fingerprint", "--cert", dir.file("junk.crt")});
  EXPECT_NE(ran.rc, 0);
  EXPECT_THAT(ran.err, HasSubstr("not a PEM certificate"));
}

}  // namespace
}  // namespace carehub::ctl
