#include "core/time_json.hpp"

namespace carehub {

nlohmann::json optional_time_json(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(format_rfc3339(*t)) : nlohmann::json(nullptr);
}

}  // namespace carehub
