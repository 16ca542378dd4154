// carehubctl web: what a technician needs of carehub-web at the patient's home without a browser. The
// home network's certificate is self-signed, so the tablet's browser cannot vouch for it: the technician
// compares the fingerprint this prints with the one the browser shows before trusting it (issue 16).
#include <iostream>

#include "daemon/ctl/ctl.hpp"
#include "web/tls/tls_cert.hpp"

namespace carehub::ctl {

// Where carehub-web keeps the certificate it made (its StateDirectory, readable by root only).
inline constexpr const char* kDefaultHomeCertificate = "/var/lib/carehub-web/home-tls.crt";

Runner add_web_commands(CLI::App& app, Context&) {
  auto* web = app.add_subcommand("web", "the web UI (carehub-web)")->require_subcommand(1);
  auto* fingerprint =
      web->add_subcommand("fingerprint", "the SHA-256 fingerprint of the home network's TLS certificate");
  auto cert = std::make_shared<std::string>(kDefaultHomeCertificate);
  fingerprint->add_option("--cert", *cert, "certificate (PEM); carehub-web's own is readable by root only")
      ->capture_default_str();
  return [=]() -> int {
    if (!*fingerprint) return -1;
    auto fp = web::certificate_fingerprint(*cert);
    if (!fp) return fail(fp.error());
    std::cout << "SHA-256 " << *fp << "\n";
    return 0;
  };
}

}  // namespace carehub::ctl
