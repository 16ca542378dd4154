// `auth.*` (carehubctl auth, issue 18): the public keys a technician registers with the authorization server
// so the hub can authenticate with a signed JWT (private_key_jwt). Only carehubd can read the private key
// (a credential in $CREDENTIALS_DIRECTORY), so the daemon derives the public half and answers it.
#include "daemon/commands/groups.hpp"
#include "sync/jwt.hpp"

namespace carehub::daemon::commands {
namespace {

// The current key and, during a rotation, the next one: the server learns the next key before the hub
// signs with it.
Result<nlohmann::json> jwks(const Context& ctx, const nlohmann::json&, const PeerCred&) {
  const auto config = ctx.config();
  if (config->oauth2_private_key_file.empty()) {
    return make_error(Errc::unavailable, "the hub signs no JWT: /fhir/oauth2/private_key_file is not set "
                                         "(docs/operations.md, \"Authenticating the hub\")");
  }
  return sync::jwks_from_files({config->oauth2_private_key_file, config->oauth2_next_private_key_file});
}

constexpr Command kCommands[] = {
    {"auth.jwks", jwks},
};

}  // namespace

std::span<const Command> auth_commands() { return kCommands; }

}  // namespace carehub::daemon::commands
