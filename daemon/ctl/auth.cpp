// carehubctl auth: what a technician registers with the FHIR server's authorization server so the hub can
// authenticate with private_key_jwt (SMART Backend Services, issue 18). The private key is a credential
// only carehubd can read, so carehubd derives the public JWK Set; this prints it, ready to paste into
// Keycloak's client "Keys" tab (JWKS) or a HAPI-based server's client registration.
#include <iostream>

#include "daemon/ctl/ctl.hpp"

namespace carehub::ctl {

Runner add_auth_commands(CLI::App& app, Context& ctx) {
  auto* auth = app.add_subcommand("auth", "how the hub authenticates to the FHIR server")->require_subcommand(1);
  auto* jwks = auth->add_subcommand(
      "jwks", "the hub's public keys as a JWK Set (the current key, and the next one during a rotation)");
  return [=, &ctx]() -> int {
    if (!*auth) return -1;
    if (!*jwks) return -1;
    auto r = ctx.call("auth.jwks");
    if (!r) return fail(r.error());
    std::cout << r->dump(2) << "\n";
    return 0;
  };
}

}  // namespace carehub::ctl
