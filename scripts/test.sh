#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is missing, builds with warnings as
# errors, runs every test with ctest, then the short reliability run (label `reliability`: 20 SIGKILL
# cycles, an outage, a full disk, mosquitto restarts; scripts/reliability.sh runs the long one). Then the
# same suite again under AddressSanitizer+UBSan, the threaded unit tests under ThreadSanitizer, and the
# fuzz targets for a short time.
#   CAREHUB_QUICK=1   skip the sanitizer and fuzz passes (a fast local loop)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
jobs=$(nproc)

bash scripts/install-deps.sh

build() {  # build DIR [cmake options...]
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAREHUB_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

echo "== build and test (build/)"
build build
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 300 -LE 'fuzz|reliability'
echo "== reliability, short run (build/)"
# Alone, not beside the other tests: its kill moments and its memory readings assume an unloaded machine.
CAREHUB_RELIABILITY_CYCLES=${CAREHUB_RELIABILITY_CYCLES:-20} \
  ctest --test-dir build --output-on-failure --timeout 300 -L reliability

if [ "${CAREHUB_QUICK:-0}" != 1 ]; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)"
  build build-asan -DCAREHUB_SANITIZE=ON -DCAREHUB_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 600 -LE 'fuzz|reliability'

  echo "== ThreadSanitizer over the threaded unit tests (build-tsan/)"
  # The pipeline's writer thread, the control server, the uploader and the sources' threads.
  tsan_tests="core/core_test daemon/daemon_test sync/sync_test rules/rules_test drivers/mqtt/mqtt_test
              drivers/openhab/openhab_client_test"
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAREHUB_WERROR=ON -DCAREHUB_SANITIZE=thread \
    -DCAREHUB_BENCH=OFF >/dev/null
  cmake --build build-tsan -j "$jobs" --target $(for t in $tsan_tests; do basename "$t"; done)
  for t in $tsan_tests; do
    echo "-- $t"
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" "build-tsan/tests/unit/$t" --gtest_brief=1
  done

  echo "== fuzz targets, ${CAREHUB_FUZZ_SECONDS:-10} s each (build-fuzz/)"
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCAREHUB_FUZZ=ON -DCAREHUB_BENCH=OFF \
    -DCAREHUB_WERROR=ON -DCAREHUB_FUZZ_SECONDS="${CAREHUB_FUZZ_SECONDS:-10}" -DCMAKE_BUILD_TYPE=Debug >/dev/null
  cmake --build build-fuzz -j "$jobs" --target carehub_fuzzers
  ctest --test-dir build-fuzz --output-on-failure -j "$jobs" -L fuzz
fi
echo "== all tests passed"
