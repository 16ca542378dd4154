#include "web/tls/tls_cert.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace carehub::web {
namespace {

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;
using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

bool exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

Result<CertFiles> ensure_self_signed(const std::string& dir, const std::string& common_name) {
  CertFiles files{dir + "/home-tls.crt", dir + "/home-tls.key"};
  if (exists(files.cert) && exists(files.key)) return files;
  Key key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) return make_error(Errc::internal, "cannot make an EC key");
  Cert cert(X509_new(), X509_free);
  if (!cert) return make_error(Errc::internal, "cannot make a certificate");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  FILE* urandom = std::fopen("/dev/urandom", "rb");
  if (!urandom || std::fread(serial, 1, sizeof serial, urandom) != sizeof serial) {
    if (urandom) std::fclose(urandom);
    return make_error(Errc::io, "cannot read /dev/urandom");
  }
  std::fclose(urandom);
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return make_error(Errc::internal, "cannot sign the certificate");

  const mode_t old = ::umask(077);  // the key is never readable by anyone else, not even for a moment
  File kf(std::fopen(files.key.c_str(), "wb"));
  ::umask(old);
  if (!kf || PEM_write_PrivateKey(kf.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return make_error(Errc::io, "cannot write " + files.key);
  }
  File cf(std::fopen(files.cert.c_str(), "wb"));
  if (!cf || PEM_write_X509(cf.get(), cert.get()) != 1) return make_error(Errc::io, "cannot write " + files.cert);
  return files;
}

Result<std::string> certificate_fingerprint(const std::string& cert_path) {
  File f(std::fopen(cert_path.c_str(), "rb"));
  if (!f) return make_error(Errc::io, "cannot open " + cert_path + ": " + std::strerror(errno));
  Cert cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) return make_error(Errc::invalid_argument, cert_path + ": not a PEM certificate");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &len) != 1) return make_error(Errc::internal, "cannot digest the certificate");
  std::string out;
  char hex[4];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof hex, i ? ":%02X" : "%02X", md[i]);
    out += hex;
  }
  return out;
}

}  // namespace carehub::web
