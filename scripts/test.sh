#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is missing, then three build trees.
#   build/       g++, RelWithDebInfo, warnings as errors: every test (ctest), then alone the short
#                reliability run (label `reliability`: SIGKILL cycles, an outage, a full disk, broker
#                restarts) and the short hostile-peer run (label `hostile`: adversarial openHAB, MQTT,
#                FHIR and control-socket peers against the real carehubd).
#   build-san/   clang with AddressSanitizer + UBSan and libFuzzer coverage: the same tests again, then
#                every fuzz target for a short time. One tree serves both, so nothing is compiled twice.
#   build-tsan/  g++ with ThreadSanitizer: the threaded unit tests and every daemon integration test.
# A sanitizer report anywhere (also in a carehubd child whose exit a test did not check) fails the run:
# reports go to files under the tree's sanitizer-reports/ and are checked after each pass.
# Each stage's time is printed at the end (also when a stage fails).
#   CAREHUB_QUICK=1   skip the sanitizer and fuzz passes (a fast local loop)
#   scripts/reliability.sh runs the long reliability and hostile-peer runs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
jobs=$(nproc)

stage_name=""
stage_start=$SECONDS
stage_times=()
stage() {  # stage NAME: ends the running stage (recording its time) and starts the next
  if [ -n "$stage_name" ]; then stage_times+=("$(printf '%5d s  %s' $((SECONDS - stage_start)) "$stage_name")"); fi
  stage_name=$1
  stage_start=$SECONDS
  [ -z "$stage_name" ] || echo "== $stage_name"
}
print_times() {
  local status=$?
  stage ""
  echo "== stage times (total $SECONDS s)"
  printf '%s\n' "${stage_times[@]}"
  return $status
}
trap print_times EXIT

build() {  # build DIR [cmake options...]
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DCAREHUB_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

# Fails if any sanitizer report was written under DIR (and shows them).
no_sanitizer_reports() {
  local dir=$1
  if compgen -G "$dir/*" >/dev/null; then
    echo "sanitizer reports in $dir:" >&2
    head -c 20000 "$dir"/* >&2
    return 1
  fi
}

stage "install dependencies"
bash scripts/install-deps.sh

stage "build (build/)"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
stage "tests (build/)"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 300 -LE 'fuzz|reliability|hostile|systemd'
# Alone, not beside the other tests: their kill moments and memory readings assume an unloaded machine.
stage "reliability, short run (build/)"
CAREHUB_RELIABILITY_CYCLES=${CAREHUB_RELIABILITY_CYCLES:-20} \
  ctest --test-dir build --output-on-failure --timeout 300 -L reliability
stage "hostile peers, short run (build/)"
ctest --test-dir build --output-on-failure --timeout 600 -L hostile
# A booted Debian 12 container (systemd-nspawn, needs root): the .deb under a real systemd. Alone: it
# boots a whole system. The first run on a machine makes the cached container root (about 2 minutes).
stage "the hub under a real systemd (build/)"
ctest --test-dir build --output-on-failure --timeout 900 -L systemd

if [ "${CAREHUB_QUICK:-0}" != 1 ]; then
  stage "build with AddressSanitizer + UBSan + fuzzing (build-san/)"
  build build-san -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DCAREHUB_FUZZ=ON -DCAREHUB_BENCH=OFF \
    -DCAREHUB_FUZZ_SECONDS="${CAREHUB_FUZZ_SECONDS:-10}"
  stage "tests under AddressSanitizer + UBSan (build-san/)"
  reports="$here/build-san/sanitizer-reports"
  rm -rf "$reports" && mkdir -p "$reports"
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$reports/asan" \
  LSAN_OPTIONS="suppressions=$here/tests/lsan.supp" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan" \
    ctest --test-dir build-san --output-on-failure -j "$jobs" --timeout 600 -LE 'fuzz|reliability|hostile|systemd'
  no_sanitizer_reports "$reports"
  stage "fuzz targets, ${CAREHUB_FUZZ_SECONDS:-10} s each (build-san/)"
  ctest --test-dir build-san --output-on-failure -j "$jobs" -L fuzz

  stage "build with ThreadSanitizer (build-tsan/)"
  # The pipeline's writer thread, the control server, the uploader and the sources' threads, and the
  # daemon itself (reload, sync now, stop) driven by the integration tests.
  tsan_tests="core/core_test store/store_test daemon/daemon_test sync/sync_test rules/rules_test drivers/mqtt/mqtt_test
              drivers/openhab/openhab_client_test"
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAREHUB_WERROR=ON -DCAREHUB_SANITIZE=thread \
    -DCAREHUB_BENCH=OFF >/dev/null
  integration_targets=$(sed -n 's/^carehub_test(\([a-z_]*\)$/\1/p' tests/integration/CMakeLists.txt)
  cmake --build build-tsan -j "$jobs" --target carehubd carehubctl \
    $(for t in $tsan_tests; do basename "$t"; done) $integration_targets
  stage "threaded unit tests and daemon integration tests under ThreadSanitizer (build-tsan/)"
  reports="$here/build-tsan/sanitizer-reports"
  rm -rf "$reports" && mkdir -p "$reports"
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$here/tests/tsan.supp log_path=$reports/tsan"
  for t in $tsan_tests; do
    echo "-- $t"
    "build-tsan/tests/unit/$t" --gtest_brief=1
  done
  ctest --test-dir build-tsan --output-on-failure -j "$jobs" --timeout 600 -L integration
  unset TSAN_OPTIONS
  no_sanitizer_reports "$reports"
fi
stage ""
echo "== all tests passed"
