#!/usr/bin/env bash
# Seed vs sensorsys-server, side by side in ONE run, on the same throwaway PostgreSQL, with the
# seed's own load scripts (../shared/seed-reference/bench: ingest.lua, report.lua, ...).
#
#   bench/server/compare.sh SERVER_BINARY [RUNS=3]
#
# Env: SEED_DIR (default ../shared/seed-reference next to the repo), PG_PORT (55591),
#      SEED_PORT (58591), OURS_PORT (58592), INGEST_SECONDS (20), READ_SECONDS (10),
#      COPY_ROWS (108000), NODELAY_FIX=1 to run the seed through its TCP_NODELAY launcher.
# Prints per-run results and then the medians: seed, ours, ratio, and the COPY limit (rows/s
# PostgreSQL itself takes with COPY for the same rows into the same table shape, same run).
# Everything listens on 127.0.0.1 only and is stopped at the end, also on failure.
set -euo pipefail
if [ $# -lt 1 ]; then sed -n '2,13p' "$0"; exit 2; fi
SERVER=$(realpath "$1")
RUNS=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SEED_DIR=${SEED_DIR:-$(cd "$REPO/../shared/seed-reference" 2>/dev/null && pwd || echo /work/shared/seed-reference)}
SB="$SEED_DIR/bench"
PG_PORT=${PG_PORT:-55591}; SEED_PORT=${SEED_PORT:-58591}; OURS_PORT=${OURS_PORT:-58592}
INGEST_SECONDS=${INGEST_SECONDS:-20}; READ_SECONDS=${READ_SECONDS:-10}; COPY_ROWS=${COPY_ROWS:-108000}
PG_DIR=$(mktemp -d /tmp/sensorsys-bench-pg.XXXXXX)
OUT=$(mktemp -d /tmp/sensorsys-bench-out.XXXXXX)
export DB_USER=sensor DB_PASSWORD=sensor PGPASSWORD=sensor
OURS_DB=sensorsys_bench
OURS_PID=""

cleanup() {
    [ -n "$OURS_PID" ] && kill "$OURS_PID" 2>/dev/null && wait "$OURS_PID" 2>/dev/null || true
    "$SB/stop_api.sh" "$SEED_PORT" >/dev/null 2>&1 || true
    "$SB/stop_pg.sh" "$PG_DIR" --rm >/dev/null 2>&1 || true
}
trap cleanup EXIT

psql_ours() { psql -X -q -At -h 127.0.0.1 -p "$PG_PORT" -U sensor -d "$OURS_DB" "$@"; }
result() { sed -n "s/^RESULT $1 .*$2=\([0-9.]*\).*/\1/p" "$3" | tail -1; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }
rss_kib() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }

if [ ! -d "$SB" ]; then echo "compare: no seed reference at $SEED_DIR (set SEED_DIR); skipped"; exit 0; fi
# The seed's own dependencies (Debian packages), checked before anything starts.
if ! python3 -c "import uvicorn, fastapi, sqlalchemy, psycopg2" 2>/dev/null; then
    echo "compare: the seed needs python3-fastapi python3-uvicorn python3-sqlalchemy" \
         "python3-psycopg2 (apt-get install them); nothing was run" >&2
    exit 2
fi
echo "== PostgreSQL in $PG_DIR on 127.0.0.1:$PG_PORT"
"$SB/start_pg.sh" "$PG_DIR" "$PG_PORT" >/dev/null
as_pg_admin() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg_admin psql -X -q -h "$PG_DIR/sock" -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE $OURS_DB OWNER sensor"

echo "== seed API on :$SEED_PORT (uvicorn --workers 2, access log off)"
ACCESS_LOG=0 "$SB/start_api.sh" "$SEED_PORT" "$PG_PORT" 2 >/dev/null
echo "== sensorsys-server on :$OURS_PORT"
"$SERVER" --define "database.connection=host=127.0.0.1 port=$PG_PORT dbname=$OURS_DB user=sensor password=sensor" \
    --define http.port="$OURS_PORT" --define auth.enabled=false --define logging.requests=false \
    >"$OUT/ours.log" 2>&1 &
OURS_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$OURS_PORT/health" >/dev/null && break; sleep 0.1; done

# COPY limit: the same row shape (360-reading batches, seed payload) straight into a copy of
# our table, timed by PostgreSQL itself.
copy_limit() {
    psql_ours -c "DROP TABLE IF EXISTS copy_target; CREATE TABLE copy_target (LIKE sensor_project.readings INCLUDING ALL)"
    # A partitioned readings (V010) keeps reading ids unique in its ledger, not in the table:
    # the same uuid btree here keeps the limit comparable with what the server writes.
    psql_ours -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a
        ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = 'copy_target'::regclass
        AND i.indisunique AND i.indnatts = 1 AND a.attname = 'reading_id') THEN
        CREATE UNIQUE INDEX ON copy_target (reading_id); END IF; END \$\$"
    python3 - "$COPY_ROWS" >"$OUT/copy.csv" <<'PY'
import sys, os, json, datetime, time
def uuid7(ms):  # what sensorsys-server gives readings that arrive without reading_id
    b = bytearray(ms.to_bytes(6, "big") + os.urandom(10))
    b[6] = 0x70 | (b[6] & 0x0F); b[8] = 0x80 | (b[8] & 0x3F)
    h = b.hex(); return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
n = int(sys.argv[1]); t0 = datetime.datetime(2031, 1, 1, tzinfo=datetime.timezone.utc)
p = json.dumps({"bme280": {"temperature": {"c": 21.53, "f": 70.75}, "pressure": {"hpa": 1013.21}, "humidity": {"rh": 45.12}},
                "cpu_temp": {"c": 48.3, "f": 118.94}, "disk": {"total_mb": 29000, "used_mb": 8000, "free_mb": 21000}})
q = '"' + p.replace('"', '""') + '"'
for i in range(n):
    t = (t0 + datetime.timedelta(minutes=i)).isoformat()
    print(f"{uuid7(int(time.time() * 1000) + i // 100)},copy-{i // 360},{t},{t},3600,{q}")
PY
    local start end
    start=$(date +%s.%N)
    psql_ours -c "\\copy copy_target (reading_id, device_id, ts_utc, ts_local, ts_local_offset, payload) FROM '$OUT/copy.csv' WITH (FORMAT csv)"
    end=$(date +%s.%N)
    awk -v n="$COPY_ROWS" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", n / (e - s) }'
}

for run in $(seq 1 "$RUNS"); do
    echo "== run $run/$RUNS"
    "$SB/ingest_bench.sh" "http://127.0.0.1:$SEED_PORT" --seconds "$INGEST_SECONDS" --conns 4 >"$OUT/seed_ingest_$run" 2>&1
    API_DB=$OURS_DB "$SB/ingest_bench.sh" "http://127.0.0.1:$OURS_PORT" --seconds "$INGEST_SECONDS" --conns 4 \
        >"$OUT/ours_ingest_$run" 2>&1
    rss_kib "$OURS_PID" >>"$OUT/ours_rss"
    copy_limit >>"$OUT/copy_rate"
    "$SB/latest_bench.sh" "http://127.0.0.1:$SEED_PORT" --seconds "$READ_SECONDS" --conns 4 >"$OUT/seed_read_$run" 2>&1
    "$SB/latest_bench.sh" "http://127.0.0.1:$OURS_PORT" --seconds "$READ_SECONDS" --conns 4 >"$OUT/ours_read_$run" 2>&1
    for who in seed ours; do
        result ingest_wrk readings_per_s "$OUT/${who}_ingest_$run" >>"$OUT/${who}_ingest_rate"
        result latest req_per_s "$OUT/${who}_read_$run" >>"$OUT/${who}_latest_rate"
        result latest p99_ms "$OUT/${who}_read_$run" >>"$OUT/${who}_latest_p99"
        result range_1h req_per_s "$OUT/${who}_read_$run" >>"$OUT/${who}_range_rate"
    done
    echo "   seed ingest $(tail -1 "$OUT/seed_ingest_rate") r/s, ours $(tail -1 "$OUT/ours_ingest_rate") r/s," \
         "COPY $(tail -1 "$OUT/copy_rate") r/s; latest seed $(tail -1 "$OUT/seed_latest_rate") ours" \
         "$(tail -1 "$OUT/ours_latest_rate") req/s; range seed $(tail -1 "$OUT/seed_range_rate") ours" \
         "$(tail -1 "$OUT/ours_range_rate") req/s; ours RSS $(( $(tail -1 "$OUT/ours_rss") / 1024 )) MiB"
done

m() { median <"$OUT/$1"; }
echo
echo "== medians of $RUNS runs (ingest ${INGEST_SECONDS}s, reads ${READ_SECONDS}s, 4 connections)"
printf '%-28s %14s %14s %8s\n' "metric" "seed" "ours" "ratio"
printf '%-28s %14s %14s %8s\n' "bulk ingest readings/s" "$(m seed_ingest_rate)" "$(m ours_ingest_rate)" \
    "$(ratio "$(m ours_ingest_rate)" "$(m seed_ingest_rate)")"
printf '%-28s %14s %14s %8s\n' "COPY limit rows/s" "" "$(m copy_rate)" \
    "$(awk -v a="$(m ours_ingest_rate)" -v b="$(m copy_rate)" 'BEGIN { printf "%.0f%%", 100 * a / b }')"
printf '%-28s %14s %14s %8s\n' "GET /readings/latest req/s" "$(m seed_latest_rate)" "$(m ours_latest_rate)" \
    "$(ratio "$(m ours_latest_rate)" "$(m seed_latest_rate)")"
printf '%-28s %14s %14s %8s\n' "GET /readings/latest p99 ms" "$(m seed_latest_p99)" "$(m ours_latest_p99)" ""
printf '%-28s %14s %14s %8s\n' "GET /readings 1 h req/s" "$(m seed_range_rate)" "$(m ours_range_rate)" \
    "$(ratio "$(m ours_range_rate)" "$(m seed_range_rate)")"
echo "ours RSS after each ingest run (KiB): $(tr '\n' ' ' <"$OUT/ours_rss")"
echo "raw outputs: $OUT"
