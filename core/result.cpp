#include "core/result.hpp"

namespace carehub {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::invalid_argument: return "invalid-argument";
    case Errc::not_found: return "not-found";
    case Errc::io: return "io";
    case Errc::full: return "full";
    case Errc::unavailable: return "unavailable";
    case Errc::timeout: return "timeout";
    case Errc::internal: return "internal";
  }
  return "internal";
}

}  // namespace carehub
