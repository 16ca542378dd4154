#include "core/thread_name.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace carehub {
namespace {

std::string name_in_a_thread(std::string_view name) {
  std::string seen;
  std::thread t([&] {
    name_this_thread(name);
    char buf[64] = {};
    if (::pthread_getname_np(::pthread_self(), buf, sizeof buf) == 0) seen = buf;
  });
  t.join();
  return seen;
}

TEST(NameThisThread, NamesTheCallingThread) { EXPECT_EQ(name_in_a_thread("writer"), "writer"); }

TEST(NameThisThread, CutsANameLongerThanLinuxKeeps) {
  // pthread_setname_np refuses 16 bytes or more (ERANGE) and would leave the thread unnamed.
  EXPECT_EQ(name_in_a_thread("alerts-mqtt-out-longer"), "alerts-mqtt-out");
}

}  // namespace
}  // namespace carehub
