#pragma once
// Names the calling thread, so that `top -H`, `perf report --sort comm` and /proc/<pid>/task/*/comm tell
// carehubd's threads apart (issue 15's per-thread CPU was read from thread ids matched by hand). Linux
// keeps 15 bytes of a name: a longer one is cut. Best effort: a refused name changes nothing else.
#include <pthread.h>

#include <string>
#include <string_view>

namespace carehub {

inline void name_this_thread(std::string_view name) {
  const std::string kept(name.substr(0, 15));
  (void)::pthread_setname_np(::pthread_self(), kept.c_str());
}

}  // namespace carehub
