#include "drivers/ble/bluez.hpp"

namespace carehub::ble {
namespace {

template <class T>
const T* find(const Properties& p, const std::string& name) {
  auto it = p.find(name);
  return it == p.end() ? nullptr : std::get_if<T>(&it->second);
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

std::optional<bool> get_bool(const Properties& p, const std::string& name) {
  if (const auto* v = find<bool>(p, name)) return *v;
  return std::nullopt;
}

std::optional<std::int64_t> get_int(const Properties& p, const std::string& name) {
  if (const auto* v = find<std::int64_t>(p, name)) return *v;
  return std::nullopt;
}

std::optional<std::string> get_string(const Properties& p, const std::string& name) {
  if (const auto* v = find<std::string>(p, name)) return *v;
  return std::nullopt;
}

std::vector<std::string> get_strings(const Properties& p, const std::string& name) {
  if (const auto* v = find<std::vector<std::string>>(p, name)) return *v;
  return {};
}

std::optional<std::vector<std::uint8_t>> get_bytes(const Properties& p, const std::string& name) {
  if (const auto* v = find<std::vector<std::uint8_t>>(p, name)) return *v;
  return std::nullopt;
}

bool is_in_progress(const Error& e) {
  return starts_with(e.message, "org.bluez.Error.InProgress") || starts_with(e.message, "org.bluez.Error.Busy");
}

bool is_already_done(const Error& e) {
  return starts_with(e.message, "org.bluez.Error.AlreadyExists") ||
         starts_with(e.message, "org.bluez.Error.AlreadyConnected");
}

}  // namespace carehub::ble
