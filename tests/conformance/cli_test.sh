#!/usr/bin/env bash
# check.mjs as a command: what it reads (a resource on stdin, files, markdown ```json fences, arrays, searchset
# Bundles opened into their entries), what it prints per failure (source, resource, path, [rule]) and its exit
# codes (0 conformant, 1 a failure, 2 unreadable input or bad usage).
set -u
node=${1:-node}
here=$(cd "$(dirname "$0")" && pwd)
check="$here/check.mjs"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
expect() {  # expect <name> <wanted exit code> <grep pattern for stdout+stderr or ""> -- <command...>
  local name=$1 want=$2 pattern=$3
  shift 4
  "$@" >"$tmp/out" 2>&1
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL $name: exit $got, wanted $want"; cat "$tmp/out"; failures=$((failures + 1)); return
  fi
  if [ -n "$pattern" ] && ! grep -qE -- "$pattern" "$tmp/out"; then
    echo "FAIL $name: output lacks /$pattern/"; cat "$tmp/out"; failures=$((failures + 1)); return
  fi
  echo "ok   $name"
}

good='{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-11-21T08:30:00Z","valueQuantity":{"value":64,"unit":"beats/minute","system":"http://unitsofmeasure.org","code":"/min"}}'
# The same heart rate with a component repeating its code: obs-7.
broken=${good%\}}',"id":"hr-7","component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":1,"unit":"beats/minute","system":"http://unitsofmeasure.org","code":"/min"}}]}'

printf '%s' "$good" >"$tmp/good.json"
printf '%s' "$broken" >"$tmp/broken.json"
printf '# Doc\n\ntext\n\n```json\n%s\n```\n\n```json\n%s\n```\n' "$good" "$broken" >"$tmp/doc.md"
printf '{"resourceType":"Bundle","type":"searchset","entry":[{"resource":%s},{"resource":%s}]}' "$good" "$broken" >"$tmp/search.json"
printf '[%s,%s]' "$good" "$good" >"$tmp/array.json"

expect "a good resource on stdin" 0 "1 resource\(s\) checked, 0 with errors" -- "$node" "$check" <"$tmp/good.json"
expect "a broken file names source, resource, path and rule" 1 "broken.json: Observation/hr-7: error Observation \[obs-7\]" -- "$node" "$check" "$tmp/broken.json"
expect "markdown: every json fence, located by line" 1 "doc.md:9: Observation/hr-7: error Observation \[obs-7\]" -- "$node" "$check" "$tmp/doc.md"
expect "markdown: both fences counted" 1 "2 resource\(s\) checked, 1 with errors" -- "$node" "$check" "$tmp/doc.md"
expect "a searchset is opened into its entries" 1 "2 resource\(s\) checked, 1 with errors" -- "$node" "$check" "$tmp/search.json"
expect "an array of resources" 0 "2 resource\(s\) checked, 0 with errors" -- "$node" "$check" "$tmp/array.json"
expect "warnings only with --warnings" 0 "warning Observation \[dom-6\]" -- "$node" "$check" --warnings "$tmp/good.json"
printf '{"resourceType": ' >"$tmp/bad.json"
expect "unparsable JSON" 2 "bad.json: not JSON" -- "$node" "$check" "$tmp/bad.json"
expect "a missing file" 2 "cannot read" -- "$node" "$check" "$tmp/none.json"
printf '# A doc\n\nno examples\n' >"$tmp/empty.md"
expect "no resource at all is not a pass" 2 "no resource found" -- "$node" "$check" "$tmp/empty.md"
# A required binding to a value set the R4 files cannot enumerate (mimetypes: all of BCP 13) is listed; --strict
# fails on it.
unbindable='{"resourceType":"Binary","contentType":"text/plain"}'
printf '%s' "$unbindable" >"$tmp/unbindable.json"
expect "not evaluated is listed" 0 "not evaluated: .*binding" -- "$node" "$check" "$tmp/unbindable.json"
expect "--strict fails on what was not evaluated" 1 "not evaluated" -- "$node" "$check" --strict --quiet "$tmp/unbindable.json"
expect "an unknown option" 2 "usage" -- "$node" "$check" --frobnicate
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
