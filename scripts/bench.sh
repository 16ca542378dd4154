#!/usr/bin/env bash
# The benchmarks: builds Release (build-bench/), runs tests/bench/*, writes bench-results.json (not
# committed) and regenerates docs/performance.md, each number beside its target or same-run baseline.
#   CAREHUB_BENCH_READINGS=N   buffered readings for the start-up measurement (default 1000000)
#   CAREHUB_BENCH_MIN_TIME=S   Google Benchmark's minimum time per benchmark (default 2)
#   CAREHUB_BUILD_DIR=DIR      build directory (default build-bench)
#   CAREHUB_BENCH_REPORT_ONLY=1  regenerate bench-results.json and the table from the last run's outputs
# Numbers depend on the machine and on what else runs on it: the load average is recorded with them.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
dir=${CAREHUB_BUILD_DIR:-build-bench}
readings=${CAREHUB_BENCH_READINGS:-1000000}
min_time=${CAREHUB_BENCH_MIN_TIME:-2}
out="$dir/bench-out"

if [ "${CAREHUB_BENCH_REPORT_ONLY:-0}" != 1 ]; then
if [ "${CAREHUB_SKIP_DEPS:-0}" != 1 ]; then bash scripts/install-deps.sh; fi
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAREHUB_BENCH=ON -DCAREHUB_WERROR=ON >/dev/null
benches=(ingest_bench gatt_decode_bench openhab_parse_bench rules_bench)
[ -f tests/bench/sync_bench.cpp ] && grep -q sync_bench tests/bench/CMakeLists.txt && benches+=(sync_bench)
cmake --build "$dir" -j "$(nproc)" --target "${benches[@]}" daemon_bench carehubd carehubctl
rm -rf "$out" && mkdir -p "$out"

uptime > "$out/load-before.txt"
for b in "${benches[@]}"; do
  echo "== $b"
  # From the build tree (its disk, not a tmpfs): fsync must cost what it costs there.
  (cd "$dir/tests/bench" && "./$b" --benchmark_min_time="$min_time" --benchmark_format=console \
    --benchmark_out="$here/$out/$b.json" --benchmark_out_format=json)
done
echo "== daemon_bench (footprint, start-up with $readings buffered readings)"
(cd "$dir/tests/bench" && ./daemon_bench --readings "$readings") | tee "$out/daemon_bench.jsonl"
uptime > "$out/load-after.txt"
fi

python3 - "$out" "$readings" <<'PY'
import json, os, platform, subprocess, sys, datetime, glob
out, readings = sys.argv[1], int(sys.argv[2])

def gbench(name):
    p = os.path.join(out, name + '.json')
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return json.load(f)

def find(doc, prefix):
    for b in (doc or {}).get('benchmarks', []):
        if b['name'].startswith(prefix):
            return b
    return None

daemon = {}
with open(os.path.join(out, 'daemon_bench.jsonl')) as f:
    for line in f:
        line = line.strip()
        if line.startswith('{'):
            j = json.loads(line)
            daemon[j['name']] = j

ingest = gbench('ingest_bench')
raw = find(ingest, 'BM_RawSqliteBatchedInsert/1000')
pipe = find(ingest, 'BM_PipelineIngest/1000')
lat = find(ingest, 'BM_PipelineLatencyAt1000PerSecond')
rows = []  # (area, metric, measured, unit, target text, ratio text, ok)

def row(area, metric, value, unit, target=None, ok=None, ratio=None, note=''):
    rows.append({'area': area, 'metric': metric, 'value': value, 'unit': unit, 'target': target,
                 'ratio': ratio, 'ok': ok, 'note': note})

if pipe and raw:
    p, r = pipe['items_per_second'], raw['items_per_second']
    row('ingest', 'durable readings/s, synchronous=FULL (pipeline, producers batch 1,000)', p, '/s', '≥ 100,000/s', p >= 100000, f'{p/100000:.2f}× target')
    row('ingest', 'raw batched SQLite inserts of the same rows (baseline, 1,000 per transaction)', r, '/s', 'baseline', None)
    row('ingest', 'pipeline ÷ raw', 100.0 * p / r, '%', '≥ 50 %', p / r >= 0.5, f'{p/r:.2f}')
seq = find(ingest, 'BM_RawSqliteSequentialUids/1000')
if seq:
    row('ingest', 'raw inserts with sequential uids instead (not the same rows: the cost of the random uid index)', seq['items_per_second'], '/s', None, None)
if lat:
    row('ingest', 'reading → durable latency p50 at 1,000 readings/s', lat['p50_ms'], 'ms', None, None)
    row('ingest', 'reading → durable latency p99 at 1,000 readings/s', lat['p99_ms'], 'ms', '≤ 20 ms', lat['p99_ms'] <= 20, f"{lat['p99_ms']/20:.2f}× limit")
for key, label, unit, limit in [('idle_cpu_percent', 'carehubd CPU idle, 10 registered devices', '%', 1.0),
                                ('idle_rss_mib', 'carehubd RSS idle, 10 registered devices', 'MiB', 25.0),
                                ('load_cpu_percent', 'carehubd CPU under 1,000 readings/s (carehubctl, 100 per call)', '%', None),
                                ('load_rss_mib', 'carehubd RSS under 1,000 readings/s', 'MiB', 40.0),
                                ('startup_ready_ms', f'start-up to READY=1 with {readings:,} buffered readings (median of 3)', 'ms', 500.0),
                                ('db_bytes_per_reading', 'database bytes per reading (file size ÷ readings)', 'B', None)]:
    if key in daemon:
        v = daemon[key]['value']
        if limit is None:
            row('footprint', label, v, unit)
        else:
            ratio = f'{v/limit:.2f}× limit' if v / limit >= 0.01 else '< 0.01× limit'
            row('footprint', label, v, unit, ('< ' if key == 'idle_cpu_percent' else '≤ ') + f'{limit:g} {unit}', v <= limit, ratio)
for bench, area in [('gatt_decode_bench', 'decoders'), ('openhab_parse_bench', 'parsers'), ('rules_bench', 'rules')]:
    for b in (gbench(bench) or {}).get('benchmarks', []):
        if b.get('run_type') == 'aggregate':
            continue
        if 'items_per_second' in b:
            row(area, b['name'], b['items_per_second'], '/s')
        for c in ('p50_us', 'p99_us'):
            if c in b:
                row(area, b['name'] + ' ' + c[:3], b[c], 'µs')
sync = gbench('sync_bench')
direct = find(sync, 'BM_DirectBulkClient')
ours = find(sync, 'BM_CarehubUploader')
if direct and ours and 'observations_per_s' in direct and 'observations_per_s' in ours:
    d_rate, o_rate = direct['observations_per_s'], ours['observations_per_s']
    row('sync', f"uploader Observations/s ({ours['name']}) ÷ direct client ({direct['name']})", 100.0 * o_rate / d_rate, '%',
        '≥ 90 %', o_rate / d_rate >= 0.9, f'{o_rate/d_rate:.2f}')
if sync:
    for b in sync.get('benchmarks', []):
        if b.get('run_type') == 'aggregate':
            continue
        extra = {k: v for k, v in b.items() if k not in ('name', 'run_name', 'run_type', 'repetitions', 'repetition_index',
                 'threads', 'iterations', 'real_time', 'cpu_time', 'time_unit', 'family_index', 'per_family_instance_index')}
        for k, v in extra.items():
            if isinstance(v, (int, float)):
                row('sync', f"{b['name']} {k}", v, '')
else:
    row('sync', 'Observations/s to the local FHIR peer vs a direct client (target ≥ 90 %); CPU ms per 1,000', None, '',
        note='slot: tests/bench/sync_bench (the sync work) is not built yet')
if 'alert_mqtt_p99_ms' in daemon:
    a50, a99 = daemon['alert_mqtt_p50_ms'], daemon['alert_mqtt_p99_ms']
    row('alerts', 'reading → alert on MQTT p50 (carehubctl start + commit + publish + mosquitto)', a50['value'], 'ms', None, None,
        note=f"carehubctl round trip alone p50 {a50.get('carehubctl_round_trip_p50_ms', 0):.1f} ms")
    row('alerts', 'reading → alert on MQTT p99', a99['value'], 'ms', '≤ 50 ms', a99['value'] <= 50, f"{a99['value']/50:.2f}× limit")

def read(p):
    try:
        with open(os.path.join(out, p)) as f:
            return f.read().strip()
    except OSError:
        return ''
git = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(['git', 'status', '--porcelain'], capture_output=True, text=True).stdout.strip() != ''
results = {
    'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
    'git': git + ('+uncommitted' if dirty else ''),
    'machine': {'cpus': os.cpu_count(), 'kernel': platform.release(), 'load_before': read('load-before.txt'),
                'load_after': read('load-after.txt'),
                'context': (ingest or {}).get('context', {})},
    'rows': rows,
    'raw': {'daemon': daemon},
}
with open('bench-results.json', 'w') as f:
    json.dump(results, f, indent=2)

def fmt(v, unit):
    if v is None:
        return '—'
    if unit == '/s':
        return f'{v:,.0f}/s'
    if unit in ('ms', 'µs'):
        return f'{v:,.2f} {unit}'
    if unit == '%':
        return f'{v:.1f} %' if v >= 0.1 else '< 0.1 %'
    if unit == 'MiB':
        return f'{v:.1f} MiB'
    if unit == 'B':
        return f'{v:,.0f} B'
    return f'{v:,.1f}'

lines = ['<!-- bench:begin (generated by scripts/bench.sh: edit the script, not this table) -->', '',
         f"Run: {results['date']}, commit {results['git']}, {results['machine']['cpus']} CPUs, kernel {results['machine']['kernel']}.",
         f"Load before: `{results['machine']['load_before']}`; after: `{results['machine']['load_after']}`.", '',
         '| area | measurement | measured | target / baseline | ratio | meets |', '|---|---|---|---|---|---|']
for r in rows:
    meets = '' if r['ok'] is None else ('yes' if r['ok'] else '**no**')
    lines.append(f"| {r['area']} | {r['metric']}{(' — ' + r['note']) if r['note'] else ''} | {fmt(r['value'], r['unit'])} | "
                 f"{r['target'] or ''} | {r['ratio'] or ''} | {meets} |")
lines += ['', '<!-- bench:end -->']
table = '\n'.join(lines)
doc_path = 'docs/performance.md'
with open(doc_path) as f:
    doc = f.read()
b, e = doc.find('<!-- bench:begin'), doc.find('<!-- bench:end -->')
if b < 0 or e < 0:
    sys.exit(doc_path + ': the <!-- bench:begin --> ... <!-- bench:end --> markers are missing')
doc = doc[:b] + table + doc[e + len('<!-- bench:end -->'):]
with open(doc_path, 'w') as f:
    f.write(doc)
print('wrote bench-results.json and docs/performance.md')
PY
