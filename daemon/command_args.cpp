#include "daemon/command_args.hpp"

#include <pwd.h>
#include <unistd.h>

#include <set>

namespace carehub::daemon {
namespace {

bool printable(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

bool valid_patient_reference(const std::string& ref) {
  constexpr std::string_view kPrefix = "Patient/";
  if (!ref.starts_with(kPrefix)) return false;
  const auto id = std::string_view(ref).substr(kPrefix.size());
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> patient_arg(JsonReader& in, const nlohmann::json& args, const std::string& path,
                                       std::string_view key, bool required) {
  auto p = in.string(args, path, key, required);
  if (!p) return std::nullopt;
  if (!valid_patient_reference(*p)) {
    in.fail(json_path(path, key), "expected a reference such as \"Patient/123\" (id: 1-64 of A-Z a-z 0-9 - .), found " +
                                       nlohmann::json(p->substr(0, 80)).dump());
    return std::nullopt;
  }
  return p;
}

std::optional<int> user_arg(JsonReader& in, const nlohmann::json& args, const std::string& path, bool required) {
  auto u = in.integer(args, path, "user", required, kMinUserSlot, kMaxUserSlot);
  if (!u) return std::nullopt;
  return static_cast<int>(*u);
}

std::optional<std::vector<std::string>> uids_arg(JsonReader& in, const nlohmann::json& args) {
  const auto* list = in.array(args, "/args", "uids", true);
  if (!list) return std::nullopt;
  if (list->empty() || list->size() > kMaxUidsPerRequest) {
    in.fail("/args/uids", "expected 1 to " + std::to_string(kMaxUidsPerRequest) + " reading uids, found " +
                              std::to_string(list->size()));
    return std::nullopt;
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto& v = (*list)[i];
    const auto path = json_path("/args/uids", i);
    if (!v.is_string() || v.get_ref<const std::string&>().empty() || v.get_ref<const std::string&>().size() > kMaxUidBytes ||
        !printable(v.get_ref<const std::string&>())) {
      in.fail(path, "expected a reading uid (1-" + std::to_string(kMaxUidBytes) + " printable characters), found " +
                        describe_json(v));
      continue;
    }
    if (!seen.insert(v.get<std::string>()).second) {
      in.fail(path, "\"" + v.get<std::string>() + "\" is listed twice");
      continue;
    }
    out.push_back(v.get<std::string>());
  }
  if (!in.ok()) return std::nullopt;
  return out;
}

std::optional<std::string> text_arg(JsonReader& in, const nlohmann::json& args, std::string_view key, std::size_t max) {
  auto t = in.string(args, "/args", key, false);
  if (!t) return std::nullopt;
  if (t->size() > max || !printable(*t)) {
    in.fail(json_path("/args", key), "expected at most " + std::to_string(max) + " printable characters");
    return std::nullopt;
  }
  return t;
}

std::string who(const PeerCred& peer, const std::string& by) {
  // getpwuid_r: control connections run concurrently, and getpwuid's buffer is shared.
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  std::string account = "uid " + std::to_string(peer.uid);
  if (::getpwuid_r(peer.uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    account += " (" + std::string(found->pw_name) + ")";
  }
  return by.empty() ? account : by + ", " + account;
}

}  // namespace carehub::daemon
