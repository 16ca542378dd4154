#pragma once
// The built-in drivers, listed explicitly (no registration by static initialisers, which a static
// library link silently drops). Adding a driver = one line in sources.cpp; see docs/adding-a-driver.md.
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/source.hpp"

namespace carehub::daemon {

struct BuiltinSource {
  std::string_view name;  // the key under /sources in carehubd.json
  SourceFactory make;
  std::string_view description;
};

std::span<const BuiltinSource> builtin_sources();

// Builds every configured source (`configs`: name -> its JSON section). Errors carry the JSON path.
Result<std::vector<std::unique_ptr<Source>>> make_sources(const std::map<std::string, nlohmann::json>& configs,
                                                          const SourceContext& context);

// Validates the sections by building the sources against a sink that takes nothing (no I/O happens).
// Returns one "/sources/...: ..." line per problem.
std::vector<std::string> check_sources(const std::map<std::string, nlohmann::json>& configs);

}  // namespace carehub::daemon
