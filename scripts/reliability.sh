#!/usr/bin/env bash
# The long reliability run (tests/reliability): 200+ SIGKILL cycles under load, a larger outage backlog,
# the full disk and the size cap, mosquitto restarted under load. CI runs the short version through
# ctest (label `reliability`, 20 cycles) as part of scripts/test.sh.
#   CAREHUB_RELIABILITY_CYCLES=N           crash cycles (default 200)
#   CAREHUB_RELIABILITY_SEED=S             replay a run (every scenario prints its seed)
#   CAREHUB_RELIABILITY_OUTAGE_READINGS=N  the outage's backlog (default 100000)
#   CAREHUB_RELIABILITY_ROUNDS=N           run the whole suite N times (default 1), new seeds each time
#   CAREHUB_BUILD_DIR=DIR                  build directory (default build-reliability)
#   CAREHUB_HOSTILE_ROUNDS=N               hostile-peer rounds per scenario (default 25; CI runs 1)
# The disk-full scenario mounts a small tmpfs: run as root (or it is skipped, and store_test's SQLite
# page-limit test is what covers SQLITE_FULL).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
dir=${CAREHUB_BUILD_DIR:-build-reliability}
export CAREHUB_RELIABILITY_CYCLES=${CAREHUB_RELIABILITY_CYCLES:-200}
export CAREHUB_RELIABILITY_OUTAGE_READINGS=${CAREHUB_RELIABILITY_OUTAGE_READINGS:-100000}
rounds=${CAREHUB_RELIABILITY_ROUNDS:-1}

if [ "${CAREHUB_SKIP_DEPS:-0}" != 1 ]; then bash scripts/install-deps.sh; fi
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAREHUB_WERROR=ON -DCAREHUB_BENCH=OFF >/dev/null
cmake --build "$dir" -j "$(nproc)" --target reliability_test hostile_test carehubd carehubctl

log="$dir/reliability-$(date -u +%Y%m%dT%H%M%SZ).log"
echo "== reliability: $CAREHUB_RELIABILITY_CYCLES crash cycles, outage of $CAREHUB_RELIABILITY_OUTAGE_READINGS readings, $rounds round(s); log $log"
for round in $(seq 1 "$rounds"); do
  echo "== round $round"
  # Scenario lines ("[reliability] ...") carry the seeds and the counts; carehubd's own log is in the output
  # of a failing test only.
  set +e
  "$dir/tests/reliability/reliability_test" --gtest_color=no 2>&1 | tee -a "$log" |
    grep -E '^\[reliability\]|^\[ +(OK|FAILED|SKIPPED) +\]|^\[ +PASSED|FAILED TEST'
  status=${PIPESTATUS[0]}
  set -e
  [ "$status" = 0 ] || { echo "== reliability FAILED in round $round (see $log)"; exit 1; }
done
# The hostile peers (tests/hostile): every scenario for many rounds, a new seed per run (printed; replay it
# with CAREHUB_HOSTILE_SEED=S and --gtest_filter='*/<scenario>').
CAREHUB_HOSTILE_ROUNDS=${CAREHUB_HOSTILE_ROUNDS:-25} CAREHUB_HOSTILE_SEED=${CAREHUB_HOSTILE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')} \
  "$dir/tests/hostile/hostile_test" --gtest_color=no 2>&1 | tee -a "$log" | grep -E '^\[hostile\].*(result=|FAILED)|^\[ +(OK|FAILED) +\]|FAILED TEST' ||
  { echo "== hostile peers FAILED (see $log)"; exit 1; }
echo "== reliability passed"
