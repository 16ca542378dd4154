#!/usr/bin/env bash
# Self-test of the local FHIR server: starts it on a free loopback port, checks with curl what
# carehub relies on, stops it. Exits non-zero with a message on the first failure.
#   bash tests/peers/fhir/selftest.sh        (runs `npm ci` first if node_modules is missing)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
work="$(mktemp -d)"
server_pid=""
passed=0

cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [[ -s "$work/server.err" ]]; then
    echo "--- server stderr (last 20 lines) ---" >&2
    tail -n 20 "$work/server.err" >&2
  fi
  echo "$passed passed, 1 failed"
  exit 1
}
ok() {
  passed=$((passed + 1))
  echo "ok $passed - $*"
}

# ---- environment ------------------------------------------------------------------------------
command -v node >/dev/null || fail "node not found: install Node.js 20 or newer"
command -v curl >/dev/null || fail "curl not found: apt-get install curl"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if (( node_major < 20 )); then
  fail "Node.js $(node --version) is too old for Medplum 5 (Debian 12's nodejs is 18): install Node.js 20 or 22"
fi
if [[ ! -d node_modules/@medplum/fhir-router ]]; then
  echo "# node_modules missing: running npm ci"
  npm ci --no-audit --no-fund --loglevel=error >&2 || fail "npm ci failed"
fi
node_flags=()
(( node_major < 22 )) && node_flags=(--experimental-websocket) # WebSocket global is built in from 22

# json FILE EXPR: evaluates a JS expression over the parsed JSON file `b`.
json() { node -e 'const b = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(eval(process.argv[2]))' "$1" "$2"; }

# req METHOD PATH [curl args...]: response body in $work/body, status in $status, content type in $ctype.
req() {
  local method="$1" path="$2"
  shift 2
  local meta
  meta="$(curl -sS -o "$work/body" -w '%{http_code} %{content_type}' -X "$method" "$base$path" "$@")" ||
    fail "curl $method $path failed"
  status="${meta%% *}"
  ctype="${meta#* }"
}
FHIR=(-H 'Content-Type: application/fhir+json')

# ---- start ------------------------------------------------------------------------------------
# start_server [server.mjs args...]: starts it on a free port; sets server_pid, port, origin, base.
start_server() {
  node "${node_flags[@]}" server.mjs --port 0 --host 127.0.0.1 "$@" >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  for _ in $(seq 1 300); do
    grep -q '^LISTENING ' "$work/server.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || fail "server exited before listening"
    sleep 0.1
  done
  grep -q '^LISTENING ' "$work/server.out" || fail "no LISTENING line within 30 s"
  [[ "$(wc -l <"$work/server.out")" -eq 1 ]] || fail "stdout must hold exactly one line, got: $(cat "$work/server.out")"
  port="$(awk '{print $2}' "$work/server.out")"
  origin="http://127.0.0.1:$port"
  base="$origin/fhir/R4"
}
# stop_server: SIGTERM, and the exit status must be 0.
stop_server() {
  kill -TERM "$server_pid"
  local rc=0
  wait "$server_pid" || rc=$?
  server_pid=""
  [[ "$rc" == 0 ]] || fail "server exit status after SIGTERM: $rc, wanted 0"
}
start_server
ok "server listening on port $port"

# ---- checks -----------------------------------------------------------------------------------
req GET /metadata
[[ "$status" == 200 ]] || fail "GET /metadata: HTTP $status"
[[ "$ctype" == application/fhir+json* ]] || fail "GET /metadata: Content-Type $ctype"
[[ "$(json "$work/body" 'b.resourceType + " " + b.fhirVersion')" == "CapabilityStatement 4.0.1" ]] ||
  fail "GET /metadata: not an R4 CapabilityStatement"
ok "GET metadata -> 200 CapabilityStatement 4.0.1, application/fhir+json"

req PUT /Patient/selftest-patient "${FHIR[@]}" -d '{"resourceType":"Patient","id":"selftest-patient","name":[{"family":"Selftest"}]}'
[[ "$status" == 201 ]] || fail "PUT Patient (new): HTTP $status $(cat "$work/body")"
req PUT /Patient/selftest-patient "${FHIR[@]}" -d '{"resourceType":"Patient","id":"selftest-patient","name":[{"family":"Selftest"}],"gender":"female"}'
[[ "$status" == 200 ]] || fail "PUT Patient (existing): HTTP $status $(cat "$work/body")"
ok "PUT Patient -> 201 when new, 200 when it exists"

# Device created conditionally in the same bundle; two valid Observations; one without `status`.
cat >"$work/batch.json" <<'EOF'
{"resourceType":"Bundle","type":"batch","entry":[
 {"fullUrl":"urn:uuid:0a4f0a52-6d0b-4c3e-9f1e-3f6c1d7e0001",
  "resource":{"resourceType":"Device","identifier":[{"system":"http://hl7.org/fhir/sid/eui-48/bluetooth","value":"00-1A-7D-DA-71-13"}]},
  "request":{"method":"POST","url":"Device","ifNoneExist":"identifier=http://hl7.org/fhir/sid/eui-48/bluetooth|00-1A-7D-DA-71-13"}},
 {"fullUrl":"urn:uuid:0a4f0a52-6d0b-4c3e-9f1e-3f6c1d7e0002",
  "resource":{"resourceType":"Observation","status":"final",
   "identifier":[{"system":"urn:ietf:rfc:3986","value":"urn:uuid:5c0e8a3e-1111-4d2a-9c57-000000000001"}],
   "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
   "code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},
   "subject":{"reference":"Patient/selftest-patient"},"device":{"reference":"urn:uuid:0a4f0a52-6d0b-4c3e-9f1e-3f6c1d7e0001"},
   "effectiveDateTime":"2026-11-21T10:00:00Z",
   "valueQuantity":{"value":72,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}},
  "request":{"method":"POST","url":"Observation","ifNoneExist":"identifier=urn:ietf:rfc:3986|urn:uuid:5c0e8a3e-1111-4d2a-9c57-000000000001"}},
 {"fullUrl":"urn:uuid:0a4f0a52-6d0b-4c3e-9f1e-3f6c1d7e0003",
  "resource":{"resourceType":"Observation","status":"final",
   "identifier":[{"system":"urn:ietf:rfc:3986","value":"urn:uuid:5c0e8a3e-1111-4d2a-9c57-000000000002"}],
   "code":{"coding":[{"system":"http://loinc.org","code":"8310-5"}]},
   "subject":{"reference":"Patient/selftest-patient"},"device":{"reference":"urn:uuid:0a4f0a52-6d0b-4c3e-9f1e-3f6c1d7e0001"},
   "effectiveDateTime":"2026-11-21T10:01:00Z",
   "valueQuantity":{"value":36.6,"unit":"Cel","system":"http://unitsofmeasure.org","code":"Cel"}},
  "request":{"method":"POST","url":"Observation","ifNoneExist":"identifier=urn:ietf:rfc:3986|urn:uuid:5c0e8a3e-1111-4d2a-9c57-000000000002"}},
 {"fullUrl":"urn:uuid:0a4f0a52-6d0b-4c3e-9f1e-3f6c1d7e0004",
  "resource":{"resourceType":"Observation",
   "identifier":[{"system":"urn:ietf:rfc:3986","value":"urn:uuid:5c0e8a3e-1111-4d2a-9c57-000000000003"}],
   "code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},
   "subject":{"reference":"Patient/selftest-patient"},
   "valueQuantity":{"value":70.1,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}},
  "request":{"method":"POST","url":"Observation","ifNoneExist":"identifier=urn:ietf:rfc:3986|urn:uuid:5c0e8a3e-1111-4d2a-9c57-000000000003"}}
]}
EOF
statuses='b.entry.map(e => e.response.status).join(",")'
req POST "" "${FHIR[@]}" --data-binary @"$work/batch.json"
[[ "$status" == 200 ]] || fail "batch: HTTP $status $(cat "$work/body")"
[[ "$(json "$work/body" 'b.type')" == batch-response ]] || fail "batch: not a batch-response"
got="$(json "$work/body" "$statuses")"
[[ "$got" == "201,201,201,400" ]] || fail "batch: entry statuses $got, wanted 201,201,201,400"
[[ "$(json "$work/body" 'b.entry[3].response.outcome.issue[0].expression[0]')" == Observation.status ]] ||
  fail "batch: the 400 entry's outcome does not name Observation.status"
[[ "$(json "$work/body" 'b.entry[1].resource.device.reference == b.entry[0].response.location')" == true ]] ||
  fail "batch: urn:uuid device reference was not rewritten to the created Device"
ok "batch: Device + 2 Observations -> 201, Observation without status -> 400 with OperationOutcome"
cp "$work/body" "$work/first-response.json"

req POST "" "${FHIR[@]}" --data-binary @"$work/batch.json"
got="$(json "$work/body" "$statuses")"
[[ "$got" == "200,200,200,400" ]] || fail "batch again: entry statuses $got, wanted 200,200,200,400"
[[ "$(json "$work/body" 'b.entry.slice(0,3).map(e => e.response.location).join(" ")')" == \
   "$(json "$work/first-response.json" 'b.entry.slice(0,3).map(e => e.response.location).join(" ")')" ]] ||
  fail "batch again: conditional creates point at other resources than the first time"
curl -sS -o "$work/stats.json" "$origin/__control/stats" || fail "GET /__control/stats failed"
[[ "$(json "$work/stats.json" 'b.resources.Observation + " " + b.resources.Device')" == "2 1" ]] ||
  fail "batch again: stats $(cat "$work/stats.json"), wanted 2 Observations and 1 Device"
ok "same batch again: conditional creates -> 200 with the same locations; still 2 Observations, 1 Device"

req GET "/Observation?identifier=urn:ietf:rfc:3986%7Curn:uuid:5c0e8a3e-1111-4d2a-9c57-000000000001"
[[ "$status" == 200 ]] || fail "identifier search: HTTP $status"
[[ "$(json "$work/body" 'b.total + " " + (b.entry ?? []).length')" == "1 1" ]] ||
  fail "identifier search: wanted exactly 1 match, got $(json "$work/body" 'b.total')"
ok "GET Observation?identifier=system|value -> exactly 1"

observation='{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/selftest-patient"},"effectiveDateTime":"2026-11-21T10:05:00Z","valueQuantity":{"value":64,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}'
printf '%s' "$observation" | gzip -c >"$work/obs.json.gz"
req POST /Observation "${FHIR[@]}" -H 'Content-Encoding: gzip' --data-binary @"$work/obs.json.gz"
[[ "$status" == 201 ]] || fail "gzip POST: HTTP $status $(cat "$work/body")"
[[ "$ctype" == application/fhir+json* ]] || fail "gzip POST: Content-Type $ctype"
ok "POST Observation with Content-Encoding: gzip -> 201"

req POST /Observation -H 'Content-Type: application/json' -d "${observation/selftest-patient/no-such-patient}"
[[ "$status" == 400 ]] || fail "reference to a missing Patient: HTTP $status, wanted 400"
[[ "$(json "$work/body" 'b.resourceType')" == OperationOutcome ]] || fail "missing Patient: no OperationOutcome"
ok "POST Observation with subject Patient/no-such-patient -> 400 OperationOutcome"

# Transactions: more than 8 conditional entries (Medplum's own cap, lifted), Device entry last
# (order must not matter), then the same with one invalid entry: 400 and nothing kept.
transaction() { # transaction FIRST COUNT BAD_INDEX
  node -e '
    const [first, count, bad] = process.argv.slice(1).map(Number);
    const dev = "urn:uuid:7d1f0000-0000-4000-8000-" + String(first).padStart(12, "0");
    const mac = "B8-27-EB-00-" + String(first / 100).padStart(2, "0") + "-01";
    const entry = [];
    for (let n = first; n < first + count; n++) {
      const value = "urn:uuid:7d1f0000-1111-4000-8000-" + String(n).padStart(12, "0");
      const resource = { resourceType: "Observation", status: "final", identifier: [{ system: "urn:ietf:rfc:3986", value }],
        code: { coding: [{ system: "http://loinc.org", code: "8867-4" }] }, subject: { reference: "Patient/selftest-patient" },
        extension: [{ url: "http://hl7.org/fhir/StructureDefinition/observation-gatewayDevice", valueReference: { reference: dev } }],
        valueQuantity: { value: 70, unit: "/min", system: "http://unitsofmeasure.org", code: "/min" } };
      if (n - first === bad) delete resource.code; // required (1..1)
      entry.push({ resource, request: { method: "POST", url: "Observation", ifNoneExist: "identifier=urn:ietf:rfc:3986|" + value } });
    }
    entry.push({ fullUrl: dev, resource: { resourceType: "Device", identifier: [{ system: "http://hl7.org/fhir/sid/eui-48/bluetooth", value: mac }] },
      request: { method: "POST", url: "Device", ifNoneExist: "identifier=http://hl7.org/fhir/sid/eui-48/bluetooth|" + mac } });
    console.log(JSON.stringify({ resourceType: "Bundle", type: "transaction", entry }));' "$@"
}
transaction 100 20 -1 >"$work/tx.json"
req POST "" "${FHIR[@]}" --data-binary @"$work/tx.json"
[[ "$status" == 200 ]] || fail "transaction of 21 conditional creates: HTTP $status $(cat "$work/body")"
[[ "$(json "$work/body" 'b.type + " " + b.entry.filter(e => e.response.status === "201").length')" == "transaction-response 21" ]] ||
  fail "transaction: wanted 21 entries with 201"
ok "transaction with 21 conditional creates, referenced Device last -> 200, all 201"
transaction 200 20 7 >"$work/tx-bad.json"
req POST "" "${FHIR[@]}" --data-binary @"$work/tx-bad.json"
[[ "$status" == 400 ]] || fail "transaction with an invalid entry: HTTP $status, wanted 400"
curl -sS -o "$work/stats.json" "$origin/__control/stats"
[[ "$(json "$work/stats.json" 'b.resources.Observation + " " + b.resources.Device')" == "23 2" ]] ||
  fail "transaction with an invalid entry left resources behind: $(cat "$work/stats.json")"
ok "transaction with one invalid entry -> 400, rolled back (no resource kept)"

req POST "" -H 'Content-Type: text/plain' -d 'hello'
[[ "$status" == 415 ]] || fail "text/plain body: HTTP $status, wanted 415"
ok "unsupported Content-Type -> 415"

curl -sS -o "$work/reset.json" -X POST "$origin/__control/reset" || fail "POST /__control/reset failed"
curl -sS -o "$work/stats.json" "$origin/__control/stats"
[[ "$(json "$work/stats.json" 'b.requests + " " + Object.keys(b.resources).length')" == "0 0" ]] ||
  fail "after reset: $(cat "$work/stats.json")"
ok "control: reset empties the server; stats -> requests 0, no resources"

# Rejection rules: a create of a resource with the identifier gets the rule's status; in a batch,
# only that entry.
curl -sS -o "$work/reject.json" -X POST "$origin/__control/reject" -d '{"identifier":"urn:ietf:rfc:3986|urn:uuid:reject-me","status":422}' ||
  fail "POST /__control/reject failed"
[[ "$(json "$work/reject.json" 'Object.keys(b.rules).join()')" == "urn:ietf:rfc:3986|urn:uuid:reject-me" ]] ||
  fail "reject rule not listed: $(cat "$work/reject.json")"
node -e '
  const obs = (value) => ({ resource: { resourceType: "Observation", status: "final",
      identifier: [{ system: "urn:ietf:rfc:3986", value }], code: { coding: [{ system: "http://loinc.org", code: "8867-4" }] } },
    request: { method: "POST", url: "Observation", ifNoneExist: "identifier=urn:ietf:rfc:3986|" + value } });
  console.log(JSON.stringify({ resourceType: "Bundle", type: "batch", entry: [obs("urn:uuid:keep-me"), obs("urn:uuid:reject-me")] }));' >"$work/reject-batch.json"
req POST "" "${FHIR[@]}" --data-binary @"$work/reject-batch.json"
[[ "$status" == 200 ]] || fail "batch with a rejected entry: HTTP $status $(cat "$work/body")"
got="$(json "$work/body" "$statuses")"
[[ "$got" == "201,422" ]] || fail "batch with a rejected entry: entry statuses $got, wanted 201,422"
[[ "$(json "$work/body" 'b.entry[1].response.outcome.resourceType')" == OperationOutcome ]] || fail "rejected entry: no OperationOutcome"
curl -sS -o "$work/stats.json" "$origin/__control/stats"
[[ "$(json "$work/stats.json" 'b.rejections.rules + " " + b.rejections.rejected')" == "1 1" ]] ||
  fail "rejections in stats: $(cat "$work/stats.json")"
curl -sS -o /dev/null -X POST "$origin/__control/reject" -d '{"clear":true}'
req POST "" "${FHIR[@]}" --data-binary @"$work/reject-batch.json"
[[ "$(json "$work/body" "$statuses")" == "200,201" ]] || fail "after clearing the rules: entry statuses $(json "$work/body" "$statuses")"
ok "reject rule: that batch entry -> 422 with OperationOutcome, the other 201; cleared -> 201"

stop_server
ok "SIGTERM -> server exits 0"

# ---- OAuth2 (a second server, with --auth) -----------------------------------------------------
start_server --auth 'selftest hub:s3cret:x' --token-ttl 60
token_req() { # token_req [curl args...]: token endpoint answer in $work/body, status in $status
  status="$(curl -sS -o "$work/body" -w '%{http_code}' -X POST "$origin/oauth2/token" "$@")" || fail "curl token request failed"
}
# RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined with ":" and base64-encoded.
token_req -H "Authorization: Basic $(printf '%s' 'selftest+hub:s3cret%3Ax' | base64 -w0)" -d grant_type=client_credentials -d scope=system/Observation.write
[[ "$status" == 200 ]] || fail "token (HTTP Basic): HTTP $status $(cat "$work/body")"
[[ "$(json "$work/body" 'b.token_type + " " + b.expires_in + " " + b.scope')" == "Bearer 60 system/Observation.write" ]] ||
  fail "token response: $(cat "$work/body")"
token="$(json "$work/body" 'b.access_token')"
token_req --data-urlencode 'client_id=selftest hub' --data-urlencode 'client_secret=wrong' -d grant_type=client_credentials
[[ "$status" == 401 && "$(json "$work/body" 'b.error')" == invalid_client ]] || fail "wrong secret: HTTP $status $(cat "$work/body")"
token_req --data-urlencode 'client_id=selftest hub' --data-urlencode 'client_secret=s3cret:x' -d grant_type=password
[[ "$status" == 400 && "$(json "$work/body" 'b.error')" == unsupported_grant_type ]] || fail "password grant: HTTP $status $(cat "$work/body")"
ok "token endpoint: Basic -> 200 Bearer (expires_in 60, scope echoed); wrong secret -> 401 invalid_client; password -> 400"

req GET /metadata
[[ "$status" == 401 ]] || fail "FHIR request without a token: HTTP $status, wanted 401"
req GET /metadata -H "Authorization: Bearer $token"
[[ "$status" == 200 ]] || fail "FHIR request with a token: HTTP $status $(cat "$work/body")"
curl -sS -o /dev/null -X POST "$origin/__control/expire-tokens" || fail "POST /__control/expire-tokens failed"
req GET /metadata -H "Authorization: Bearer $token"
[[ "$status" == 401 ]] || fail "FHIR request with a rotated token: HTTP $status, wanted 401"
curl -sS -o "$work/stats.json" "$origin/__control/stats"
[[ "$(json "$work/stats.json" 'b.tokens.issued + " " + b.tokens.rejected_requests')" == "1 2" ]] ||
  fail "token stats: $(cat "$work/stats.json")"
ok "FHIR with auth: no token -> 401, token -> 200, after expire-tokens -> 401"

stop_server
ok "SIGTERM -> the OAuth2 server exits 0"

echo "$passed passed, 0 failed"
