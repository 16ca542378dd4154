# shellcheck shell=bash
# Runtime checks (sourced by systemd_test.sh): carehubd at work inside its sandbox, under systemd.
# A technician (group carehub) adds a reading with carehubctl and another user is refused; a mosquitto
# in the container delivers an MQTT reading; the FHIR peer (node, inside the container's network)
# receives the upload, authenticated with a client secret that only LoadCredential= hands over; the
# buffer is in StateDirectory=, the socket in RuntimeDirectory=; BlueZ (python3-dbusmock's bluez5 on
# the container's system bus, under bluez's own D-Bus policy) answers the daemon.

fhir_port=8090  # carehub-web has 8080
fhir_secret=""
mqtt_secret=""

# readings_count: every reading in the buffer, asked over the control socket as the technician.
readings_count() { ct_as tech carehubctl measurements --json --limit 10000 | grep -c . || true; }
# fhir_stat JQ: one value from the FHIR peer's counters.
fhir_stat() { ct_net curl -sf "http://127.0.0.1:$fhir_port/__control/stats" | jq -r "$1"; }
observations_at_least() { [ "$(fhir_stat '.resources.Observation // 0')" -ge "$1" ]; }
reading_of_kind() { ct_as tech carehubctl measurements --json --limit 10000 | grep -F "\"$1\"" >/dev/null; }

write_config() {  # the configured hub: FHIR with OAuth2, MQTT from the local broker, BLE on hci0
  ct_in sh -c "cat >$config" <<EOF
{
  "hub": { "id": "hub-0042", "patient": "Patient/12345" },
  "store": { "path": "/var/lib/carehub/buffer.db", "synchronous": "full" },
  "control": { "socket": "/run/carehub/control.sock", "group": "carehub" },
  "fhir": {
    "base_url": "http://127.0.0.1:$fhir_port/fhir/R4",
    "retry_base_ms": 100, "retry_cap_ms": 1000,
    "oauth2": { "token_url": "http://127.0.0.1:$fhir_port/oauth2/token", "client_id": "hub-0042",
                "client_secret_file": "fhir-client-secret" }
  },
  "rules": { "file": "rules/hf5.json" },
  "sources": {
    "ble": { "adapter": "hci0" },
    "mqtt": { "broker": "tcp://127.0.0.1:1883", "username": "hub-0042", "password_file": "mqtt-password",
              "subscriptions": [ { "topic": "home/living/temperature", "format": "number",
                                   "kind": "room-temperature", "unit": "Cel" } ] }
  },
  "metrics": { "textfile": "/var/lib/prometheus/node-exporter/carehub.prom", "interval_s": 10 },
  "log": { "level": "info" }
}
EOF
}

runtime_checks() {
  phase "runtime: the FHIR peer, the secret, BlueZ and the full configuration"
  fhir_secret=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  ct_in systemd-run --quiet --unit=fhir-peer --service-type=exec /usr/local/bin/node --experimental-websocket \
    /srv/peers/fhir/server.mjs --port "$fhir_port" --quiet --no-check-references --auth "hub-0042:$fhir_secret"
  wait_for 60 "the FHIR peer listens" fhir_stat .requests
  # The kit's patient, as the clinic registers it (the uploader holds readings for an unknown patient).
  local token
  token=$(ct_net curl -sf -u "hub-0042:$fhir_secret" -d grant_type=client_credentials \
    "http://127.0.0.1:$fhir_port/oauth2/token" | jq -r .access_token)
  check "Patient/12345 registered on the FHIR peer" ct_net curl -sf -o /dev/null -X PUT \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/fhir+json' \
    -d '{"resourceType":"Patient","id":"12345"}' "http://127.0.0.1:$fhir_port/fhir/R4/Patient/12345"
  # The secrets go where the unit's LoadCredential= takes them from: root only, never in the config.
  ct_in sh -c 'umask 077 && cat >/etc/credstore/carehub.fhir-client-secret' <<<"$fhir_secret"
  # mosquitto with a password only (no anonymous clients): the MQTT password is the second credential.
  mqtt_secret=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  ct_in mosquitto_passwd -c -b /etc/mosquitto/passwd hub-0042 "$mqtt_secret"
  ct_in mosquitto_passwd -b /etc/mosquitto/passwd sensor sensor-pass
  ct_in chown mosquitto /etc/mosquitto/passwd
  ct_in sh -c 'printf "listener 1883 127.0.0.1\nallow_anonymous false\npassword_file /etc/mosquitto/passwd\n" >/etc/mosquitto/conf.d/carehub-test.conf'
  ct_in systemctl restart mosquitto
  ct_in sh -c 'umask 077 && cat >/etc/credstore/carehub.mqtt-password' <<<"$mqtt_secret"
  # BlueZ: the bluez5 template claims org.bluez on the system bus (not Type=dbus: bluez's own
  # bluetooth.service has BusName=org.bluez, and two units cannot share one). The kit waits for the name.
  ct_in systemd-run --quiet --unit=bluez-mock --service-type=exec /usr/bin/python3 -m dbusmock --template bluez5
  check "the bluez5 mock owns org.bluez" ct_in python3 /srv/peers/ble/kit.py wait-bluez 30 >/dev/null
  # node_exporter's textfile directory, writable by carehub as operations.md says (ReadWritePaths=-…).
  ct_in mkdir -p /var/lib/prometheus/node-exporter
  ct_in chgrp carehub /var/lib/prometheus/node-exporter
  ct_in chmod 0775 /var/lib/prometheus/node-exporter
  write_config
  check "the full configuration passes carehubctl config check" ct_in carehubctl config check "$config"
  check "systemctl restart carehubd" ct_in systemctl restart carehubd
  check "active (running) again" test "$(unit_prop carehubd SubState)" = running

  phase "runtime: sandbox paths and the credential"
  check "buffer in StateDirectory (/var/lib/carehub/buffer.db, carehub)" \
    test "$(ct_in stat -c %U /var/lib/carehub/buffer.db)" = carehub
  check "socket in RuntimeDirectory (/run/carehub/control.sock carehub:carehub 660)" \
    test "$(ct_in stat -c '%F %U:%G %a' /run/carehub/control.sock)" = "socket carehub:carehub 660"
  check "the secrets reached the service as credentials" \
    ct_in test -f /run/credentials/carehubd.service/fhir-client-secret -a -f /run/credentials/carehubd.service/mqtt-password
  check_not "the daemon's user cannot read the credential store itself" \
    ct_as carehub cat /etc/credstore/carehub.fhir-client-secret

  # The sandbox is in force on the running process, not only written in the unit.
  local main
  main=$(unit_prop carehubd MainPID)
  check "no new privileges, seccomp filter, no capabilities" \
    test "$(ct_in grep -E '^(NoNewPrivs|Seccomp|CapEff|CapBnd):' "/proc/$main/status" | awk '{print $2}' | xargs)" = \
      "0000000000000000 0000000000000000 1 2"
  check_not "ProtectSystem=strict: /usr is read-only in its mount namespace" \
    ct_in nsenter -t "$main" -m touch /usr/carehub-write-probe
  check "ProtectSystem=strict: its StateDirectory is writable there" \
    ct_in nsenter -t "$main" -m sh -c 'touch /var/lib/carehub/.probe && rm /var/lib/carehub/.probe'

  wait_for 30 "metrics written through ReadWritePaths= (/var/lib/prometheus/node-exporter/carehub.prom)" \
    ct_in test -s /var/lib/prometheus/node-exporter/carehub.prom

  phase "runtime: carehubctl for the carehub group only"
  ct_in useradd --no-create-home --groups carehub tech
  ct_in useradd --no-create-home other
  check "a technician (group carehub) adds a reading" \
    ct_as tech carehubctl measure add --kind body-weight --value 72.5
  local err
  if err=$(ct_as other carehubctl measure add --kind body-weight --value 99 2>&1); then
    fail "another user is refused"
  else
    pass "another user is refused ($(head -1 <<<"$err"))"
  fi
  check "only the technician's reading is in the buffer" test "$(readings_count)" = 1

  phase "runtime: MQTT from the container's mosquitto (password from LoadCredential=)"
  check "mosquitto runs" test "$(unit_prop mosquitto ActiveState)" = active
  wait_for 30 "carehubd logged in to the broker (mqtt connected)" journal_has carehubd 'mqtt: event=connected'
  ct_in mosquitto_pub -h 127.0.0.1 -u sensor -P sensor-pass -t home/living/temperature -m 21.5 -q 1
  wait_for 30 "the MQTT reading is in the buffer" reading_of_kind room-temperature

  phase "runtime: upload to the FHIR peer"
  check "carehubctl sync now --wait 30" ct_as tech carehubctl sync now --wait 30
  check "the peer has both readings as Observations" observations_at_least 2
  check "the upload was authorised with a token for the credential's secret" \
    test "$(fhir_stat '.tokens.issued')" -ge 2

  phase "runtime: BlueZ over the system bus (bluez's D-Bus policy, SupplementaryGroups=bluetooth)"
  ct_in python3 /srv/peers/ble/kit.py setup AA:BB:CC:00:00:01,Monitor,bp >"$work/kit.log" 2>&1 ||
    { fail "kit.py setup"; cat "$work/kit.log" >&2; }
  wait_for 30 "carehubd sees BlueZ's adapter" journal_has carehubd 'event=adapter-appeared'
  # The whole path both ways: the technician pairs it, carehubd subscribes (StartNotify reaches BlueZ),
  # the monitor indicates a measurement (PropertiesChanged reaches carehubd), and it is buffered.
  check "carehubctl devices pair (blood-pressure)" \
    ct_as tech carehubctl devices pair AA:BB:CC:00:00:01 --category blood-pressure
  check "carehubd subscribed to the monitor's measurements" \
    ct_in python3 /srv/peers/ble/kit.py wait-notifying AA:BB:CC:00:00:01 2A35 30
  ct_in python3 /srv/peers/ble/kit.py notify AA:BB:CC:00:00:01 2A35 \
    "$(ct_in python3 /srv/peers/ble/kit.py hex-bp 120 80 72 1)"
  wait_for 30 "the monitor's reading is in the buffer" reading_of_kind blood-pressure
  check_not "no D-Bus access denied" journal_has carehubd 'AccessDenied'
}
