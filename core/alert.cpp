#include "core/alert.hpp"

namespace carehub {

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::info: return "info";
    case Severity::amber: return "amber";
    case Severity::red: return "red";
  }
  return "info";
}

std::string_view to_string(AlertState s) {
  switch (s) {
    case AlertState::open: return "open";
    case AlertState::acknowledged: return "acknowledged";
    case AlertState::closed: return "closed";
  }
  return "open";
}

std::optional<Severity> severity_from_string(std::string_view s) {
  for (auto v : {Severity::info, Severity::amber, Severity::red}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

std::optional<AlertState> alert_state_from_string(std::string_view s) {
  for (auto v : {AlertState::open, AlertState::acknowledged, AlertState::closed}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

}  // namespace carehub
