#include "core/source.hpp"

namespace carehub {
namespace {

template <typename T>
std::future<Result<T>> refuse(std::string_view what) {
  std::promise<Result<T>> p;
  p.set_value(make_error(Errc::invalid_argument, "this reading sink keeps no registry: cannot " + std::string(what)));
  return p.get_future();
}

}  // namespace

std::future<Result<void>> ReadingSink::bind_user(UserBinding) { return refuse<void>("bind a user slot"); }

std::future<Result<bool>> ReadingSink::unbind_user(std::string, int) { return refuse<bool>("unbind a user slot"); }

}  // namespace carehub
