#!/usr/bin/env bash
# History benchmark: series from the rollups vs date_bin over raw rows, and ingest with vs
# without the rollup bookkeeping, in one run on a throwaway PostgreSQL.
#
#   bench/server/history.sh SERVER_BINARY [DAYS] [RUNS]
#
# DAYS (default 365) of one-minute readings for 10 devices are generated inside PostgreSQL and
# loaded with COPY (a COPY ... TO STDOUT of a generate_series query piped into COPY ... FROM
# STDIN: 10 x 525,600 = 5.26 M rows for a year), with the rollup triggers disabled, so they are
# rows older than the rollups (into partitions made beforehand for the range: rows written by
# SQL are not in the reading-id ledger, which the benchmark does not need);
# `sensorsys-server --migrate` then builds the rollups for them
# (resumable, a UTC day per step, progress on stderr). RUNS (default 20) timings per query;
# p50/p95 are printed. Needs python3 and psql.
set -euo pipefail

server=${1:?usage: $0 SERVER_BINARY [DAYS] [RUNS]}
days=${2:-365}
runs=${3:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
info=$(mktemp /tmp/sensorsys-history-bench.XXXXXX)
rm -f "$info"
"$root/tests/support/pg_cluster.sh" start "$info" >/dev/null
server_pid=
cleanup() {
    local status=$?
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    "$root/tests/support/pg_cluster.sh" stop "$info" >/dev/null || true
    exit "$status"
}
trap cleanup EXIT INT TERM
conn=$(sed -n 's/^CONNINFO=//p' "$info")
q() { psql "$conn" -X -q -At -v ON_ERROR_STOP=1 "$@"; }

"$server" --migrate --define "database.connection=$conn" >/dev/null
start='2025-01-01T00:00:00Z'
# COPY into the partitioned table (V010) needs the partitions of the loaded range first.
q -c "SELECT sensor_project.readings_make_partitions(TIMESTAMPTZ '$start',
        TIMESTAMPTZ '$start' + $days * interval '1 day', interval '1 month')" >/dev/null
echo "== load: 10 devices x $days days of one-minute readings (COPY)"
q -c "ALTER TABLE sensor_project.readings DISABLE TRIGGER USER"
t0=$(date +%s.%N)
q -c "COPY (SELECT 'pi-' || d, t, t, 0, jsonb_build_object(
        'bme280', jsonb_build_object('temperature', jsonb_build_object('c', round((20 + 5 * sin(m / 700.0) + d)::numeric, 2)),
                                     'pressure', jsonb_build_object('hpa', round((1013 + 10 * cos(m / 5000.0))::numeric, 2)),
                                     'humidity', jsonb_build_object('rh', round((45 + 10 * sin(m / 900.0))::numeric, 2))),
        'cpu_temp', jsonb_build_object('c', round((48 + (m % 7))::numeric, 2)),
        'disk', jsonb_build_object('used_mb', 8000 + m / 1440))
      FROM generate_series(0, 9) d, generate_series(0, $days * 1440 - 1) m,
           LATERAL (SELECT TIMESTAMPTZ '$start' + m * interval '1 minute' AS t) x) TO STDOUT" |
    q -c "COPY sensor_project.readings (device_id, ts_utc, ts_local, ts_local_offset, payload) FROM STDIN"
t1=$(date +%s.%N)
rows=$(q -c "SELECT count(*) FROM sensor_project.readings")
echo "loaded $rows rows in $(python3 -c "print(round($t1 - $t0, 1))") s"
q -c "ALTER TABLE sensor_project.readings ENABLE TRIGGER USER"
q -c "UPDATE sensor_project.rollup_backfill SET next_from = TIMESTAMPTZ '$start',
        until_ts = TIMESTAMPTZ '$start' + $days * interval '1 day'"
echo "== --migrate builds the rollups"
t0=$(date +%s.%N)
"$server" --migrate --define "database.connection=$conn" 2>&1 >/dev/null | tail -2
t1=$(date +%s.%N)
echo "rollups built in $(python3 -c "print(round($t1 - $t0, 1))") s"
q -c "VACUUM ANALYZE"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server" --define "database.connection=$conn" --define auth.enabled=false \
    --define http.port="$port" --define logging.requests=false 2>/dev/null &
server_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done

end=$(python3 -c "import datetime as d; print((d.datetime(2025,1,1)+d.timedelta(days=$days)).strftime('%Y-%m-%dT00:00:00Z'))")
month=$(python3 -c "import datetime as d; print((d.datetime(2025,1,1)+d.timedelta(days=max(0,$days-30))).strftime('%Y-%m-%dT00:00:00Z'))")
year_url="/readings/series?device_id=pi-3&metric=bme280.temperature.c&start_date=$start&end_date=$end&step=auto"
month_url="/readings/series?step=1h&start_date=$month&end_date=$end"
for m in bme280.temperature.c bme280.humidity.rh cpu_temp.c; do month_url+="&metric=$m"; done
for d in 0 1 2 3 4; do month_url+="&device_id=pi-$d"; done
raw() { # one series by date_bin over raw rows: $1 step, $2 start, $3 devices, $4 metrics
    echo "SELECT r.device_id, p.metric, date_bin('$1', r.ts_utc, TIMESTAMPTZ '2000-01-01Z') b,
          count(*), min(p.value), max(p.value), avg(p.value),
          (array_agg(p.value ORDER BY r.ts_utc, r.id))[1], (array_agg(p.value ORDER BY r.ts_utc DESC, r.id DESC))[1]
          FROM sensor_project.readings r, sensor_project.numeric_paths(r.payload) p
          WHERE r.device_id = ANY($3) AND p.metric = ANY($4)
            AND r.ts_utc >= '$2' AND r.ts_utc < '$end' GROUP BY 1, 2, 3"
}
year_sql=$(raw '1 day' "$start" "ARRAY['pi-3']" "ARRAY['bme280.temperature.c']")
month_sql=$(raw '1 hour' "$month" "ARRAY['pi-0','pi-1','pi-2','pi-3','pi-4']" \
    "ARRAY['bme280.temperature.c','bme280.humidity.rh','cpu_temp.c']")

python3 - "$port" "$runs" "$year_url" "$month_url" "$conn" "$year_sql" "$month_sql" <<'EOF'
import subprocess, sys, time, urllib.request
port, runs, year_url, month_url, conn, year_sql, month_sql = sys.argv[1:]
runs = int(runs)
def pct(xs, p): xs = sorted(xs); return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]
def http(url):
    out = []
    for _ in range(runs + 2):
        t = time.perf_counter()
        urllib.request.urlopen(f"http://127.0.0.1:{port}{url}").read()
        out.append((time.perf_counter() - t) * 1000)
    return out[2:]
def sql(text):
    script = "\\timing on\n" + "\n".join([text + ";"] * (runs + 1))
    res = subprocess.run(["psql", conn, "-X", "-q", "-At", "-o", "/dev/null"], input=script,
                         capture_output=True, text=True, check=True)
    ms = [float(l.split()[1]) for l in res.stdout.splitlines() if l.startswith("Time:")]
    return ms[1:]
for name, url, text in (("one-year daily series, 1 metric", year_url, year_sql),
                        ("30-day hourly series, 3 metrics x 5 devices", month_url, month_sql)):
    ours, rawms = http(url), sql(text)
    print(f"{name}: series p50 {pct(ours, .5):.1f} ms p95 {pct(ours, .95):.1f} ms; "
          f"date_bin over raw p50 {pct(rawms, .5):.1f} ms p95 {pct(rawms, .95):.1f} ms; "
          f"speed-up (p95) {pct(rawms, .95) / pct(ours, .95):.1f}x")
EOF

echo "== ingest: POST /readings/bulk (1000 readings each), with and without the rollup triggers"
python3 - "$port" "$conn" <<'EOF'
import json, subprocess, sys, time, urllib.request, uuid
port, conn = sys.argv[1:]
def body(batch):
    rs = []
    for i in range(1000):
        t = f"2026-06-{1 + batch % 28:02d}T{(i // 60) % 24:02d}:{i % 60:02d}:{batch % 60:02d}Z"
        rs.append({"device_id": f"ingest-{batch % 10}", "reading_id": str(uuid.uuid4()), "ts_utc": t,
                   "ts_local": t, "payload": {"bme280": {"temperature": {"c": 21.5, "f": 70.7},
                   "pressure": {"hpa": 1013.2}, "humidity": {"rh": 45.1}}, "cpu_temp": {"c": 48.3}}})
    return json.dumps({"readings": rs}).encode()
def rate(triggers, batches=40):
    subprocess.run(["psql", conn, "-X", "-q", "-c", "ALTER TABLE sensor_project.readings "
                    + ("ENABLE" if triggers else "DISABLE") + " TRIGGER USER"], check=True)
    bodies = [body(b + (1000 if triggers else 0)) for b in range(batches)]
    t = time.perf_counter()
    for b in bodies:
        req = urllib.request.Request(f"http://127.0.0.1:{port}/readings/bulk", data=b,
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req).read()
    return batches * 1000 / (time.perf_counter() - t)
results = {True: [], False: []}
for _ in range(3):
    for triggers in (False, True):
        results[triggers].append(rate(triggers))
med = {k: sorted(v)[1] for k, v in results.items()}
print(f"bulk ingest readings/s (median of 3): without bookkeeping {med[False]:.0f}, "
      f"with {med[True]:.0f} ({100 * med[True] / med[False]:.0f} %)")
EOF
