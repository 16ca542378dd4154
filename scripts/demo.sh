#!/usr/bin/env bash
# The main job, on a fresh Debian 12 machine: installs what is missing, builds, starts the local FHIR
# peer and carehubd with config/demo.json (paths moved to a scratch directory), adds sample readings,
# shows them buffered, then synced and visible on the FHIR server, and stops everything cleanly.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

bash scripts/install-deps.sh
echo "== building carehubd, carehubctl and carehub-web"
buildlog=$(mktemp)
if ! { cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAREHUB_WERROR=ON &&
       cmake --build build -j "$(nproc)" --target carehubd carehubctl carehub-web; } >"$buildlog" 2>&1; then
  cat "$buildlog"; echo "demo: the build failed (above)"; exit 1
fi
rm -f "$buildlog"

work=$(mktemp -d /tmp/carehub-demo-XXXXXX)
peer_pid="" daemon_pid="" web_pid=""
cleanup() {
  [ -n "$web_pid" ] && kill -TERM "$web_pid" 2>/dev/null && wait "$web_pid" 2>/dev/null || true
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
# The buffers are encrypted at rest; each carehubd reads its key as systemd's credential buffer-key
# (LoadCredentialEncrypted= in the unit; docs/operations.md, "The buffer key"): here a random one.
mkdir -p "$work/credentials"
(umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$work/credentials/buffer-key")
export CREDENTIALS_DIRECTORY="$work/credentials"
sed -e "s#/var/lib/carehub/buffer.db#$work/buffer.db#" -e "s#/run/carehub/control.sock#$work/control.sock#" \
    -e "s#\"base_url\": \"http://127.0.0.1:8103/fhir/R4\"#\"base_url\": \"\"#" \
    -e "s#\"file\": \"rules/hf5.json\"#\"file\": \"$here/config/rules/hf5.json\"#" config/demo.json > "$work/carehubd.json"
build/daemon/carehubctl config check "$work/carehubd.json"
build/daemon/carehubd --config "$work/carehubd.json" 2>"$work/carehubd.log" &
daemon_pid=$!
for _ in $(seq 100); do build/daemon/carehubctl --socket "$work/control.sock" status >/dev/null 2>&1 && break; sleep 0.1; done

step "the patient display and technician console (carehub-web, loopback only)"
echo demo | build/web/server/carehub-web --hash-password >"$work/technician.hash"
webport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
build/web/server/carehub-web --socket "$work/control.sock" --listen "127.0.0.1:$webport" --static web/static \
  --i18n web/i18n --uplot web/node_modules/uplot/dist --state-dir "$work" --password-hash-file "$work/technician.hash" \
  2>"$work/carehub-web.log" &
web_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$webport/api/display/session" >/dev/null 2>&1 && break; sleep 0.1; done
echo "the patient display:     http://127.0.0.1:$webport/display/"
echo "the technician console:  http://127.0.0.1:$webport/console/   (login: technician / demo)"
echo "(DEMO_HOLD=1 keeps everything running at the end until you press Enter)"

step "a patient takes measurements"
# Kept, so "the same measurement sent again" below is really the same one (same time to the second).
first_bp_time=$(date -u +%FT%TZ -d '-6 min')
ctl measure add --kind blood-pressure --systolic 200 --diastolic 130 --pulse 88 --time "$first_bp_time"
ctl measure add --kind blood-pressure --systolic 204 --diastolic 131 --pulse 90 --time "$(date -u +%FT%TZ -d '-2 min')"
echo "\$ carehubctl measure add --json < readings.jsonl   (a thermometer in °F, a scale in lb, an oximeter)"
cat <<JSONL | build/daemon/carehubctl --socket "$work/control.sock" measure add --json
{"kind":"body-temperature","time":"$(date -u +%FT%TZ -d '-5 min')","device":"manual","values":{"value":100.4},"units":{"value":"[degF]"}}
{"kind":"body-weight","time":"$(date -u +%FT%TZ -d '-4 min')","values":{"value":181.2},"units":{"value":"[lb_av]"}}
{"kind":"spo2","time":"$(date -u +%FT%TZ -d '-3 min')","values":{"value":94,"pulse":86}}
JSONL
echo "a bad reading is refused with a reason, and nothing else is affected:"
ctl measure add --kind blood-pressure --systolic 900 --diastolic 130 || true

step "decision support at home, offline: the repeat 4 minutes later confirms the extreme blood pressure (HF5)"
ctl alerts
alert=$(build/daemon/carehubctl --socket "$work/control.sock" alerts --json | jq -r 'select(.severity == "red") | .id' | head -n 1)
echo "the patient presses OK on the home display (or over MQTT): the red alert is acknowledged"
ctl alerts ack "$alert"

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
ctl measure add --kind blood-pressure --systolic 200 --diastolic 130 --pulse 88 --time "$first_bp_time" || true

# ---- BLE kit (drivers/ble): a simulated kit on python3-dbusmock's bluez5 template, on a private bus ----
step "a BLE kit: two blood pressure monitors of the same model and a thermometer (simulated BlueZ)"
kit() { /usr/bin/python3 tests/peers/ble/kit.py "$@"; }
ble_pids=""
ble_cleanup() { for p in $ble_pids; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done; ble_pids=""; }
trap 'ble_cleanup; cleanup' EXIT
dbus-daemon --session --nofork --print-address=1 >"$work/ble-bus.addr" 2>"$work/ble-bus.log" &
ble_pids="$! $ble_pids"
for _ in $(seq 100); do [ -s "$work/ble-bus.addr" ] && break; sleep 0.05; done
export DBUS_SYSTEM_BUS_ADDRESS=$(head -n 1 "$work/ble-bus.addr")  # carehubd's "system bus" is the private one
/usr/bin/python3 -m dbusmock --template bluez5 >"$work/ble-mock.log" 2>&1 &
ble_pids="$! $ble_pids"
kit setup A4:C1:38:00:00:01,BP7150,bp A4:C1:38:00:00:02,BP7150,bp A4:C1:38:00:00:03,TH-1,thermo >/dev/null
# A second hub process for the BLE kit, same patient and FHIR server, its own buffer and socket.
cat >"$work/carehubd-ble.json" <<JSON
{"hub": {"id": "hub-demo-0001", "patient": "Patient/demo-patient"},
 "store": {"path": "$work/ble-buffer.db"}, "control": {"socket": "$work/ble-control.sock"},
 "fhir": {"base_url": "$fhir"}, "log": {"level": "info"}, "rules": {"file": "$here/config/rules/hf5.json"},
 "sources": {"ble": {"adapter": "hci0", "device_time": "utc", "reconnect": {"base_ms": 200, "cap_ms": 5000}}}}
JSON
build/daemon/carehubd --config "$work/carehubd-ble.json" 2>"$work/carehubd-ble.log" &
ble_pids="$! $ble_pids"
blectl() { echo "\$ carehubctl $*"; build/daemon/carehubctl --socket "$work/ble-control.sock" "$@"; }
for _ in $(seq 100); do build/daemon/carehubctl --socket "$work/ble-control.sock" status >/dev/null 2>&1 && break; sleep 0.1; done
blectl devices scan --seconds 2
# Monitor 1 is shared: the patient measures as its user 1, the spouse (not a patient) as user 2. Only
# user 1 is bound; the spouse's readings stay unassigned (never judged, never uploaded: issue 14).
blectl devices pair A4:C1:38:00:00:01 --category blood-pressure --user 1 --patient Patient/demo-patient
blectl devices pair A4:C1:38:00:00:02 --category blood-pressure
blectl devices pair A4:C1:38:00:00:03 --category thermometer
for a in 01 02; do kit wait-notifying "A4:C1:38:00:00:$a" 2A35 >/dev/null; done
kit wait-notifying A4:C1:38:00:00:03 2A1C >/dev/null
# A device's memory from before its pairing is not the patient's: these measurements are taken after it
# (the device clock counts whole seconds, so the next second is the first one surely after the pairing).
sleep 1
# A Blood Pressure Measurement with a User ID (flags 0x0E: mmHg, time stamp, pulse, user), MINUTES_AGO.
bp_user() { /usr/bin/python3 -c 'import datetime, struct, sys
s, d, p, ago, u = (float(a) for a in sys.argv[1:])
t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=ago)
print((struct.pack("<BHHH", 0x0E, int(s), int(d), (int(s) + 2 * int(d)) // 3) +
       struct.pack("<HBBBBB", t.year, t.month, t.day, t.hour, t.minute, t.second) + struct.pack("<HB", int(p), int(u))).hex())' "$@"; }
echo "the devices indicate their measurements (the spouse measures as user 2 of monitor 1, monitor 1 resends"
echo "its memory from before the pairing, and sends a corrupt packet):"
kit notify A4:C1:38:00:00:01 2A35 "$(bp_user 142 91 77 0 1)" >/dev/null
kit notify A4:C1:38:00:00:01 2A35 "$(bp_user 210 120 81 0 2)" >/dev/null   # the spouse: raises nothing for the patient
kit notify A4:C1:38:00:00:02 2A35 "$(kit hex-bp 118 76 64 0)" >/dev/null
kit notify A4:C1:38:00:00:03 2A1C "$(kit hex-temp 374 0)" >/dev/null
kit notify A4:C1:38:00:00:01 2A35 "$(bp_user 150 95 80 30 1)" >/dev/null   # older: from memory, before the pairing
kit notify A4:C1:38:00:00:01 2A35 0678 >/dev/null                           # malformed
for _ in $(seq 100); do
  [ "$(build/daemon/carehubctl --socket "$work/ble-control.sock" measurements --json | wc -l)" -ge 5 ] && break; sleep 0.1
done
blectl devices list
blectl measurements
echo "the readings the hub could not attribute with certainty wait for the technician (HF5 judged none of them):"
blectl readings unassigned
spouse=$(build/daemon/carehubctl --socket "$work/ble-control.sock" readings unassigned --json | jq -r 'select(.user == 2) | .uid' | head -n 1)
blectl readings discard "$spouse" --reason "the spouse (user 2), not a patient"
blectl alerts
blectl sync now --wait 30
ble_cleanup
unset DBUS_SYSTEM_BUS_ADDRESS
# ---- end of the BLE kit step ----

# ---- openHAB room climate (drivers/openhab): a simulated openHAB 4 (tests/peers/openhab) on loopback ----
step "room climate from openHAB: the hub follows a (simulated) openHAB's event stream"
oh_pids=""
oh_cleanup() { for p in $oh_pids; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done; oh_pids=""; }
trap 'oh_cleanup; ble_cleanup 2>/dev/null; cleanup' EXIT
cat >"$work/openhab-items.json" <<'JSON'
[{"name":"LivingRoom_Temperature","type":"Number:Temperature","state":"21.5 °C","tags":["Temperature"],"groupNames":[]},
 {"name":"LivingRoom_Humidity","type":"Number:Dimensionless","state":"48 %","tags":["Humidity"],"groupNames":[]},
 {"name":"Bedroom_Temperature","type":"Number:Temperature","state":"65.3 °F","tags":["Temperature"],"groupNames":[]},
 {"name":"Hall_Motion","type":"Switch","state":"OFF","tags":["Motion"],"groupNames":[]},
 {"name":"TV_Power","type":"Switch","state":"ON","tags":[],"groupNames":[]}]
JSON
/usr/bin/python3 tests/peers/openhab/server.py --port 0 --items "$work/openhab-items.json" --alive-interval 10 \
  >"$work/openhab.port" 2>"$work/openhab.log" &
oh_pids="$! $oh_pids"
for _ in $(seq 100); do grep -q LISTENING "$work/openhab.port" 2>/dev/null && break; sleep 0.05; done
openhab="http://127.0.0.1:$(awk '{print $2}' "$work/openhab.port")"
echo "openHAB stand-in at $openhab (5 items; TV_Power is not mapped)"
# A hub process for the home streams, same patient and FHIR server, its own buffer and socket.
cat >"$work/carehubd-openhab.json" <<JSON
{"hub": {"id": "hub-demo-0001", "patient": "Patient/demo-patient"},
 "store": {"path": "$work/openhab-buffer.db"}, "control": {"socket": "$work/openhab-control.sock"},
 "fhir": {"base_url": "$fhir"}, "log": {"level": "info"},
 "sources": {"openhab": {"url": "$openhab",
   "tags": [{"tag": "Temperature", "kind": "room-temperature"}, {"tag": "Humidity", "kind": "room-humidity"},
            {"tag": "Motion", "kind": "motion"}]}}}
JSON
build/daemon/carehubctl config check "$work/carehubd-openhab.json"
build/daemon/carehubd --config "$work/carehubd-openhab.json" 2>"$work/carehubd-openhab.log" &
oh_pids="$! $oh_pids"
ohctl() { echo "\$ carehubctl $*"; build/daemon/carehubctl --socket "$work/openhab-control.sock" "$@"; }
oh_count() { build/daemon/carehubctl --socket "$work/openhab-control.sock" measurements --json 2>/dev/null | wc -l; }
for _ in $(seq 100); do [ "$(oh_count)" -ge 4 ] && break; sleep 0.1; done
echo "connected: the current states came from GET /rest/items (openHAB replays no events)"
echo "the living room warms up, someone walks through the hall, and the openHAB server drops the stream:"
oh_update() { curl -sf -X POST "$openhab/test/update" -d "$1" >/dev/null; }
oh_update '{"item":"LivingRoom_Temperature","state":"22.1 °C"}'
oh_update '{"item":"Hall_Motion","state":"ON","type":"OnOff"}'
curl -sf -X POST "$openhab/test/drop" -d '{}' >/dev/null
oh_update '{"item":"LivingRoom_Humidity","state":"51 %","event":false}'   # changed while disconnected
for _ in $(seq 100); do [ "$(oh_count)" -ge 7 ] && break; sleep 0.1; done
ohctl measurements
echo "\$ carehubctl status --json | jq .sources.openhab"
build/daemon/carehubctl --socket "$work/openhab-control.sock" status --json |
  jq '.sources.openhab | {state, url, connects, readings, last_event, counters}'
ohctl sync now --wait 30
oh_cleanup
# ---- end of the openHAB step ----

step "what the clinician's repository now holds"
curl -sf "$fhir/Observation?subject=Patient/demo-patient&_count=100" |
  jq -r '"\(.entry | length) Observations for Patient/demo-patient:",
         (.entry[].resource | "  \(.effectiveDateTime)  \(.code.coding[0].display): " +
          ([ (if .valueQuantity then "\(.valueQuantity.value) \(.valueQuantity.unit)" elif .valueBoolean != null then "\(.valueBoolean)" else empty end),
             (.component // [] | .[] | "\(.code.coding[0].display)=\(.valueQuantity.value) \(.valueQuantity.unit)") ]
           | join(", ")) +
          "  [identifier \(.identifier[0].value)]")'
curl -sf "$fhir/Device?_count=100" | jq -r '"\(.entry | length) Device(s): " + ([.entry[].resource.identifier[0].value] | join(", "))'
# Alerts arrive as DetectedIssue resources citing their Observations; the acknowledgement is a mitigation.
curl -sf "$fhir/DetectedIssue?patient=Patient/demo-patient&_count=100" |
  jq -r '"\(.entry // [] | length) alert(s) as DetectedIssue:",
         (.entry // [] | .[].resource | "  \(.identifiedDateTime)  \(.severity)  \(.status)  \(.code.coding[0].code): \(.detail)" +
          "  [evidence: \([.evidence[]?.detail[]?.reference] | join(", "))]" +
          (if .mitigation then "  [" + ([.mitigation[].action.coding[0].code] | join(", ")) + "]" else "" end))'

if [ -n "${DEMO_HOLD:-}" ]; then
  echo; echo "the display is still at http://127.0.0.1:$webport/display/ - press Enter to stop"; read -r _
fi

step "stopping carehubd (SIGTERM: flush and exit) and the FHIR server"
kill -TERM "$daemon_pid"; wait "$daemon_pid"; daemon_pid=""
tail -n 3 "$work/carehubd.log"
echo
echo "demo finished."
