#include "tests/support/test_pki.hpp"

#include <filesystem>
#include <stdexcept>
#include <vector>

#include "tests/support/child_process.hpp"

namespace carehub::test {
namespace {

// openssl's own stderr names what it could not do; ours adds which step it was.
void openssl(const std::string& step, std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  const auto r = run_process(args);
  if (r.exit_code != 0) {
    throw std::runtime_error("TestPki: " + step + ": openssl " + args[1] + " exited " + std::to_string(r.exit_code) +
                             ": " + r.err);
  }
}

// A new P-256 key and a self-signed CA certificate for it.
void make_ca(const std::string& step, const std::string& subject, const std::string& cert, const std::string& key) {
  openssl(step, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                 "-out", cert, "-days", "2", "-subj", subject, "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
}

// A new P-256 key and a certificate for it signed by the CA, with the extensions in `extensions` (an
// x509v3 extension file's text).
void make_leaf(const std::string& step, const std::filesystem::path& dir, const std::string& name,
               const std::string& subject, const std::string& extensions, const std::string& ca_cert,
               const std::string& ca_key) {
  const auto file = [&](const std::string& suffix) { return (dir / (name + suffix)).string(); };
  openssl(step, {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", file(".key"),
                 "-out", file(".csr"), "-subj", subject});
  write_file(file(".ext"), extensions);
  // A serial file per leaf (created with a random serial): no file shared between steps or CAs.
  openssl(step, {"x509", "-req", "-in", file(".csr"), "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
                 "-CAserial", file(".srl"), "-out", file(".pem"), "-days", "2", "-extfile", file(".ext")});
}

}  // namespace

TestPki::TestPki(const TempDir& dir) {
  const auto pki = dir.path() / "pki";
  std::filesystem::create_directories(pki);
  const auto file = [&](const std::string& name) { return (pki / name).string(); };
  ca_cert = file("ca.pem");
  server_cert = file("server.pem");
  server_key = file("server.key");
  client_cert = file("client.pem");
  client_key = file("client.key");
  other_ca_cert = file("other-ca.pem");
  other_client_cert = file("other-client.pem");
  other_client_key = file("other-client.key");

  const std::string ca_key = file("ca.key");
  const std::string other_ca_key = file("other-ca.key");
  make_ca("the test CA", "/CN=carehub test CA", ca_cert, ca_key);
  // Both names a client may dial: carehub's tests use 127.0.0.1, which only an IP SAN matches.
  make_leaf("the server certificate", pki, "server", "/CN=localhost",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
            ca_cert, ca_key);
  const std::string client_ext = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";
  make_leaf("the client certificate", pki, "client", "/CN=hub-test", client_ext, ca_cert, ca_key);
  make_ca("the unrelated CA", "/CN=unrelated CA", other_ca_cert, other_ca_key);
  make_leaf("the unrelated client certificate", pki, "other-client", "/CN=hub-test", client_ext, other_ca_cert,
            other_ca_key);
}

}  // namespace carehub::test
