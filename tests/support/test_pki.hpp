#pragma once
// A throwaway PKI for TLS tests, made with the openssl CLI (Debian's openssl package) in a test's TempDir:
// a CA, a server certificate for 127.0.0.1 and localhost, a client certificate for mutual TLS, and an
// unrelated second CA with a client certificate of its own (what an impostor would present). P-256 keys:
// generated in milliseconds, so every test makes its own instead of sharing files across tests.
#include <string>

#include "tests/support/temp_dir.hpp"

namespace carehub::test {

class TestPki {
 public:
  // Writes everything under <dir>/pki. Throws std::runtime_error with openssl's stderr if a step fails.
  explicit TestPki(const TempDir& dir);

  // PEM files. Keys are unencrypted; each certificate file holds the certificate alone (no chain).
  std::string ca_cert;      // the CA a client trusts (/fhir/ca_file) and the proxy requires (--client-ca)
  std::string server_cert;  // CN=localhost, subjectAltName IP:127.0.0.1 and DNS:localhost, serverAuth
  std::string server_key;
  std::string client_cert;  // CN=hub-test, signed by ca_cert, clientAuth
  std::string client_key;
  std::string other_ca_cert;      // an unrelated CA: nothing above trusts it
  std::string other_client_cert;  // CN=hub-test too, but signed by other_ca_cert
  std::string other_client_key;
};

}  // namespace carehub::test
