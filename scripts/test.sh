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
#
# Build time (issue 17: the whole run on a 2-core machine within 25 minutes). Compiling is most of the run,
# so each tree compiles only what it runs, once, and as cheaply as its purpose allows:
#   - the product's code keeps its tree's optimisation: -O2 in build/ (RelWithDebInfo: the tree the .deb is
#     made from), -O0 under ASan (clang; -O1 compiles slower), -O1 under TSan (TSan checks the accesses
#     left after optimisation; -O1 leaves more of them than -O2 and compiles ~30 % faster);
#   - line tables only (-g1, clang's -gline-tables-only) instead of full -g everywhere: sanitizer reports,
#     backtraces and gdb's `bt` still name file and line, and the .deb is stripped anyway (CPACK_STRIP_FILES,
#     checked by packaging.deb), so it is the same package; full -g cost ~25 % of g++'s compile time;
#   - the code under tests/ (tests, their support, benchmarks) at -Og (CAREHUB_TEST_COMPILE_OPTIONS): with
#     -g1, about 45 % of the compile time of -O2 -g; the tests check the product, not their own optimisation;
#   - one precompiled header (GoogleTest, GoogleMock, nlohmann/json, std) shared by every test executable
#     of a tree (CAREHUB_PCH): about a second per test file. Plain configures build without it, so a missing
#     include is still caught there;
#   - unity batches (CAREHUB_UNITY): a target compiles as batches of up to 16 of its files, so the heavy
#     headers (nlohmann/json, CLI11, GoogleTest, httplib) are parsed and their inline code generated once
#     per batch, not once per file: libraries and test executables in every tree, so the .deb build/ makes
#     is built from the batches its tests ran. conventions.unity_names checks that no batch changes what
#     a name means (docs/testing.md);
#   - the two sanitizer trees build in the background at the lowest priority, one after the other, from the
#     end of build/'s compile on: the stages that run meanwhile leave much of the CPU idle (the reliability,
#     hostile-peer and systemd stages mostly wait on their peers, deadlines and a booting container; the
#     tests wait on theirs), and a nice 19 compile takes only what they leave (the kernel gives a nice 0
#     task ~70 times its share). Each sanitizer stage first waits for what is left of its tree's build;
#   - the sanitizer trees do not configure the reliability and hostile-peer tests (run only in build/),
#     the TSan tree builds only the binaries and tests it runs, and no source is compiled twice in a tree;
#   - the hostile-peer scenarios (independent: their own peers, ports and carehubd) run two per core:
#     they mostly wait on their peers' deadlines. The reliability run and the systemd container stay alone.
#   - clang's tree links with lld when it is installed (install-deps.sh): ASan binaries are large and
#     GNU ld took ~3.5 times as long to link them.
# Measured (before/after in the same conditions) and what was not done: docs/testing.md.
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
  if [ -n "${bg_pid:-}" ]; then kill -- "-$bg_pid" 2>/dev/null || true; fi
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

# Test code only, after the build type's flags (so these win); see the header.
test_flags=(-DCAREHUB_PCH=ON "-DCAREHUB_TEST_COMPILE_OPTIONS=-Og -g1")

stage "build (build/)"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" "${test_flags[@]}" \
  -DCAREHUB_UNITY=all
# The two sanitizer trees compile in the background, one after the other, at the lowest priority, while
# the stages below run (see the header): build-san/ first, then build-tsan/. build-san/.status holds
# build-san's exit code once it is done, and the lock on build-san/.building is held until then.
bg_pid=""
if [ "${CAREHUB_QUICK:-0}" != 1 ]; then
  lld=()
  if command -v ld.lld >/dev/null; then lld=(-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld); fi
  # The pipeline's writer thread, the control server, the uploader and the sources' threads, and the
  # daemon itself (reload, sync now, stop) driven by the integration tests.
  tsan_tests="core/core_test store/store_test daemon/daemon_test sync/sync_test rules/rules_test drivers/mqtt/mqtt_test
              drivers/openhab/openhab_client_test"
  integration_targets=$(sed -n 's/^carehub_test(\([a-z_]*\)\( .*\)\{0,1\}$/\1/p' tests/integration/CMakeLists.txt)
  mkdir -p build-san build-tsan
  rm -f build-san/.status
  bg_start=$SECONDS
  exec 9>build-san/.building
  flock 9
  set -m  # its own process group, so an early exit stops the whole compile (print_times)
  ( renice -n 19 -p "$BASHPID" >/dev/null
    status=0
    build build-san -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-gline-tables-only -DCMAKE_CXX_COMPILER=clang++ \
      "${lld[@]}" -DCAREHUB_FUZZ=ON -DCAREHUB_BENCH=OFF -DCAREHUB_FUZZ_SECONDS="${CAREHUB_FUZZ_SECONDS:-10}" \
      -DCAREHUB_PCH=ON -DCAREHUB_UNITY=all >build-san/build.log 2>&1 || status=$?
    echo "$status $((SECONDS - bg_start))" >build-san/.status
    exec 9>&-  # build-san/ is done: the stage waiting for it may go on
    [ "$status" = 0 ] || exit "$status"
    cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
      -DCAREHUB_WERROR=ON -DCAREHUB_SANITIZE=thread -DCAREHUB_BENCH=OFF "${test_flags[@]}" -DCAREHUB_UNITY=all >/dev/null
    cmake --build build-tsan -j "$jobs" --target carehubd carehubctl \
      $(for t in $tsan_tests; do basename "$t"; done) $integration_targets
  ) >build-tsan/build.log 2>&1 &
  bg_pid=$!
  set +m
  exec 9>&-  # the background job holds the lock now
fi

stage "tests (build/)"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 300 -LE 'fuzz|reliability|hostile|systemd'
# Alone, not beside the other tests: their kill moments and memory readings assume an unloaded machine
# (the background compile runs at nice 19 and yields the CPU to them).
stage "reliability, short run (build/)"
CAREHUB_RELIABILITY_CYCLES=${CAREHUB_RELIABILITY_CYCLES:-20} \
  ctest --test-dir build --output-on-failure --timeout 300 -L reliability
stage "hostile peers, short run (build/)"
ctest --test-dir build --output-on-failure -j $((2 * jobs)) --timeout 600 -L hostile
# A booted Debian 12 container (systemd-nspawn, needs root): the .deb under a real systemd. Alone: it
# boots a whole system. The first run on a machine makes the cached container root (about 2 minutes).
stage "the hub under a real systemd (build/)"
ctest --test-dir build --output-on-failure --timeout 900 -L systemd

if [ "${CAREHUB_QUICK:-0}" != 1 ]; then
  stage "build with AddressSanitizer + UBSan + fuzzing (build-san/), what the stages before left of it"
  flock build-san/.building true  # until build-san/ is done
  read -r san_status san_seconds <build-san/.status
  echo "build-san/ took $san_seconds s, in the background (log: build-san/build.log)"
  tail -n 3 build-san/build.log
  if [ "$san_status" != 0 ]; then tail -n 200 build-san/build.log >&2; exit "$san_status"; fi
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

  stage "build with ThreadSanitizer (build-tsan/), what the stages before left of it"
  tsan_status=0
  wait "$bg_pid" || tsan_status=$?
  bg_pid=""
  echo "build-san/ and build-tsan/ took $((SECONDS - bg_start)) s, in the background (log: build-tsan/build.log)"
  tail -n 3 build-tsan/build.log
  if [ "$tsan_status" != 0 ]; then tail -n 200 build-tsan/build.log >&2; exit "$tsan_status"; fi
  # Every integration test is built: one left out would be skipped silently (ctest names it *_NOT_BUILT,
  # without the label the run below selects).
  if ctest --test-dir build-tsan/tests/integration -N | grep _NOT_BUILT; then
    echo "integration tests not built in build-tsan/: add them to the targets above" >&2
    exit 1
  fi
  stage "threaded unit tests and daemon integration tests under ThreadSanitizer (build-tsan/)"
  reports="$here/build-tsan/sanitizer-reports"
  rm -rf "$reports" && mkdir -p "$reports"
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$here/tests/tsan.supp log_path=$reports/tsan"
  python3 tests/conventions/unity_names.py build-tsan  # its batches, as ctest does in the other two trees
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
