#pragma once
// Secrets (tokens, client secrets, passwords) never sit in the main configuration: it names a file. A
// relative name is looked up in systemd's $CREDENTIALS_DIRECTORY (LoadCredential=) when the service has
// one, so the unit, not the config, decides where secrets live.
#include <string>

#include "core/result.hpp"

namespace carehub {

// Reads the first line of the secret `name` (trailing CR/space removed). `credentials_dir` is
// $CREDENTIALS_DIRECTORY or empty; without it a relative name is relative to the working directory.
// Errors name the file, never the content.
Result<std::string> read_secret(const std::string& name, const std::string& credentials_dir);
// read_secret() with $CREDENTIALS_DIRECTORY from the environment.
Result<std::string> read_secret(const std::string& name);

}  // namespace carehub
