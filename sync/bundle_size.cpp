#include "sync/bundle_size.hpp"

#include <algorithm>

namespace carehub::sync {

BundleSize::BundleSize(std::size_t configured)
    : configured_(std::max<std::size_t>(1, configured)), current_(configured_) {}

bool BundleSize::shrink(std::size_t items) {
  if (items <= 1) return false;
  current_ = std::max<std::size_t>(1, items / 2);
  good_ = 0;
  return true;
}

bool BundleSize::went_through(std::size_t items) {
  if (items == 0 || items < current_ || current_ >= configured_ || ++good_ < kGrowAfter) return false;
  current_ = std::min(configured_, current_ * 2);
  good_ = 0;
  return true;
}

}  // namespace carehub::sync
