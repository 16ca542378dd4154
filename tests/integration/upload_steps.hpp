#pragma once
// Steps the FHIR upload tests (sync_test.cpp, tls_test.cpp) share: add readings that must all be stored,
// and `sync now --wait` that fails the test with carehubd's log when it does not finish.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/daemon_process.hpp"

namespace carehub::test {

// Adds the readings (reading JSON lines); every one must be stored. Their uids.
inline std::vector<std::string> add_stored(DaemonProcess& d, const std::string& lines) {
  const auto added = d.add(lines);
  EXPECT_EQ(added.exit_code, 0) << added.err;
  const auto uids = added.uids();
  EXPECT_EQ(uids.size(), added.results.size()) << "not every reading was stored";
  return uids;
}

inline bool sync_now(DaemonProcess& d, int seconds = 60) {
  auto r = d.ctl({"sync", "now", "--wait", std::to_string(seconds)});
  if (r.exit_code != 0) ADD_FAILURE() << r.out << r.err << d.log();
  return r.exit_code == 0;
}

}  // namespace carehub::test
