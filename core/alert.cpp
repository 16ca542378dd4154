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

}  // namespace carehub
