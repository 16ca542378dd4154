// carehubctl: the technician's command line. Each command group lives in ctl/<group>.cpp and ctl/app.cpp
// lists them. Exit codes: 0 success, 1 carehubd unreachable or failed, 2 bad input.
#include "daemon/ctl/ctl.hpp"

int main(int argc, char** argv) {
  carehub::ctl::Context ctx;
  return carehub::ctl::run(argc, argv, ctx);
}
