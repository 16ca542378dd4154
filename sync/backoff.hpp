#pragma once
// The backoff formula lives in core/backoff.hpp (the drivers reconnect with it too); sync keeps its names.
#include "core/backoff.hpp"

namespace carehub::sync {

using carehub::BackoffPolicy;
using carehub::backoff_delay;

}  // namespace carehub::sync
