#pragma once
// The home network's TLS certificate: a configured one, or one made on the hub (self-signed, ECDSA
// P-256, 10 years) the first time the home network is switched on without one. Browsers cannot check a
// self-signed certificate, so the technician compares its SHA-256 fingerprint (printed by
// `carehub-web --fingerprint`, logged at start, shown in the console) when the tablet first connects.
#include <string>

#include "core/result.hpp"

namespace carehub::web {

struct CertFiles {
  std::string cert;
  std::string key;
};

// `dir`/home-tls.crt and home-tls.key: made (key mode 0600) when absent, kept when present.
Result<CertFiles> ensure_self_signed(const std::string& dir, const std::string& common_name);
// "AB:CD:..." SHA-256 of the certificate's DER encoding.
Result<std::string> certificate_fingerprint(const std::string& cert_path);

}  // namespace carehub::web
