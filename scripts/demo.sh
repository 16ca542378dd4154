#!/usr/bin/env bash
# The main job, on a fresh Debian 12 machine: installs what is missing, builds, starts the local FHIR
# peer and carehubd with config/demo.json (paths moved to a scratch directory), adds sample readings,
# shows them buffered, then synced and visible on the FHIR server, and stops everything cleanly.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

bash scripts/install-deps.sh
echo "== building carehubd and carehubctl"
buildlog=$(mktemp)
if ! { cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAREHUB_WERROR=ON &&
       cmake --build build -j "$(nproc)" --target carehubd carehubctl; } >"$buildlog" 2>&1; then
  cat "$buildlog"; echo "demo: the build failed (above)"; exit 1
fi
rm -f "$buildlog"

work=$(mktemp -d /tmp/carehub-demo-XXXXXX)
peer_pid="" daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  [ -n "$peer_pid" ] && kill -TERM "$peer_pid" 2>/dev/null && wait "$peer_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
ctl() { echo "\$ carehubctl $*"; build/daemon/carehubctl --socket "$work/control.sock" "$@"; }

step "starting the local FHIR server (tests/peers/fhir) on a free loopback port"
coproc PEER { exec node --experimental-websocket tests/peers/fhir/server.mjs --port 0 --quiet 2>"$work/fhir.log"; }
peer_pid=$PEER_PID
read -r -t 60 listening port <&"${PEER[0]}" || { echo "FHIR peer did not start:"; cat "$work/fhir.log"; exit 1; }
[ "$listening" = LISTENING ] || { echo "unexpected peer output: $listening"; exit 1; }
fhir="http://127.0.0.1:$port/fhir/R4"
echo "FHIR server at $fhir"
curl -sf -X PUT -H 'Content-Type: application/fhir+json' "$fhir/Patient/demo-patient" \
  -d '{"resourceType":"Patient","id":"demo-patient","name":[{"family":"Demo","given":["Pat"]}]}' >/dev/null
echo "created Patient/demo-patient"

step "starting carehubd with config/demo.json, first without a FHIR URL (a hub that is offline)"
sed -e "s#/var/lib/carehub/buffer.db#$work/buffer.db#" -e "s#/run/carehub/control.sock#$work/control.sock#" \
    -e "s#\"base_url\": \"http://127.0.0.1:8103/fhir/R4\"#\"base_url\": \"\"#" config/demo.json > "$work/carehubd.json"
build/daemon/carehubctl config check "$work/carehubd.json"
build/daemon/carehubd --config "$work/carehubd.json" 2>"$work/carehubd.log" &
daemon_pid=$!
for _ in $(seq 100); do build/daemon/carehubctl --socket "$work/control.sock" status >/dev/null 2>&1 && break; sleep 0.1; done

step "a patient takes measurements"
ctl measure add --kind blood-pressure --systolic 200 --diastolic 130 --pulse 88 --time "$(date -u +%FT%TZ -d '-6 min')"
ctl measure add --kind blood-pressure --systolic 204 --diastolic 131 --pulse 90 --time "$(date -u +%FT%TZ -d '-2 min')"
echo "\$ carehubctl measure add --json < readings.jsonl   (a thermometer in °F, a scale in lb, an oximeter)"
cat <<JSONL | build/daemon/carehubctl --socket "$work/control.sock" measure add --json
{"kind":"body-temperature","time":"$(date -u +%FT%TZ -d '-5 min')","device":"manual","values":{"value":100.4},"units":{"value":"[degF]"}}
{"kind":"body-weight","time":"$(date -u +%FT%TZ -d '-4 min')","values":{"value":181.2},"units":{"value":"[lb_av]"}}
{"kind":"spo2","time":"$(date -u +%FT%TZ -d '-3 min')","values":{"value":94,"pulse":86}}
JSONL
echo "a bad reading is refused with a reason, and nothing else is affected:"
ctl measure add --kind blood-pressure --systolic 900 --diastolic 130 || true

step "everything is buffered durably while the hub is offline"
ctl measurements
ctl status

step "the technician sets the FHIR URL and reloads (SIGHUP): the backlog syncs"
sed -i "s#\"base_url\": \"\"#\"base_url\": \"$fhir\"#" "$work/carehubd.json"
kill -HUP "$daemon_pid"
for _ in $(seq 100); do
  build/daemon/carehubctl --socket "$work/control.sock" status --json | grep -q '"enabled": true' && break; sleep 0.1
done
ctl sync now --wait 30
ctl measurements
ctl status

step "the same measurement sent again is recognised, not duplicated"
ctl measure add --kind blood-pressure --systolic 200 --diastolic 130 --pulse 88 --time "$(date -u +%FT%TZ -d '-6 min')" || true

step "what the clinician's repository now holds"
curl -sf "$fhir/Observation?subject=Patient/demo-patient&_count=100" |
  jq -r '"\(.entry | length) Observations for Patient/demo-patient:",
         (.entry[].resource | "  \(.effectiveDateTime)  \(.code.coding[0].display): " +
          ([ (if .valueQuantity then "\(.valueQuantity.value) \(.valueQuantity.unit)" else empty end),
             (.component // [] | .[] | "\(.code.coding[0].display)=\(.valueQuantity.value) \(.valueQuantity.unit)") ]
           | join(", ")) +
          "  [identifier \(.identifier[0].value)]")'
curl -sf "$fhir/Device?_count=100" | jq -r '"\(.entry | length) Device(s): " + ([.entry[].resource.identifier[0].value] | join(", "))'

step "stopping carehubd (SIGTERM: flush and exit) and the FHIR server"
kill -TERM "$daemon_pid"; wait "$daemon_pid"; daemon_pid=""
tail -n 3 "$work/carehubd.log"
echo
echo "demo finished."
