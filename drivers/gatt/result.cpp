#include "drivers/gatt/result.hpp"

namespace carehub::gatt {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::truncated:
      return "truncated";
    case ErrorKind::malformed:
      return "malformed";
    case ErrorKind::unsupported:
      return "unsupported";
  }
  return "malformed";
}

}  // namespace carehub::gatt
