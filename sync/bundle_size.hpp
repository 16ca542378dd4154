#pragma once
// How many readings and alerts one request carries: the configured most at first, halved when a bundle
// was too large for the server (413) or too slow for the link (a timeout), doubled back towards the
// configured most after kGrowAfter full bundles in a row went through. Pure; the uploader only reports.
#include <cstddef>

namespace carehub::sync {

class BundleSize {
 public:
  static constexpr int kGrowAfter = 5;

  explicit BundleSize(std::size_t configured);  // 0 counts as 1

  std::size_t current() const { return current_; }
  // A request carrying `items` was too large or too slow: the next ones carry half as many. False (and
  // nothing changes) when it carried one: there is nothing left to halve.
  bool shrink(std::size_t items);
  // A request carrying `items` went through. Only a full one counts towards growing back (alerts sent
  // on their own say nothing about the size the server takes). True when the size grew.
  bool went_through(std::size_t items);

 private:
  std::size_t configured_;
  std::size_t current_;
  int good_ = 0;  // full bundles in a row at this size
};

}  // namespace carehub::sync
