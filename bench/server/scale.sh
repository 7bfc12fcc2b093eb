#!/usr/bin/env bash
# Latency of GET /readings/latest and a 1-hour GET /readings at 100 thousand rows and at
# 10 million rows (target: within 2x), for sensorsys-server on a throwaway PostgreSQL.
#
#   bench/server/scale.sh SERVER_BINARY [BIG_ROWS=10000000]
#
# Env: PG_PORT (55691), OURS_PORT (58692), READ_SECONDS (10), SEED_DIR as in compare.sh.
# Needs ~4 GB of free disk for 10M rows. Everything is stopped at the end.
set -euo pipefail
if [ $# -lt 1 ]; then sed -n '2,9p' "$0"; exit 2; fi
SERVER=$(realpath "$1"); BIG=${2:-10000000}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SEED_DIR=${SEED_DIR:-$(cd "$REPO/../shared/seed-reference" 2>/dev/null && pwd || echo /work/shared/seed-reference)}
SB="$SEED_DIR/bench"
PG_PORT=${PG_PORT:-55691}; OURS_PORT=${OURS_PORT:-58692}; READ_SECONDS=${READ_SECONDS:-10}
PG_DIR=$(mktemp -d /tmp/sensorsys-scale-pg.XXXXXX)
export PGPASSWORD=sensor DB_USER=sensor DB_PASSWORD=sensor
OURS_PID=""
cleanup() {
    [ -n "$OURS_PID" ] && kill "$OURS_PID" 2>/dev/null && wait "$OURS_PID" 2>/dev/null || true
    "$SB/stop_pg.sh" "$PG_DIR" --rm >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$SB/start_pg.sh" "$PG_DIR" "$PG_PORT" >/dev/null
as_pg_admin() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg_admin psql -X -q -h "$PG_DIR/sock" -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE scale OWNER sensor"
"$SERVER" --define "database.connection=host=127.0.0.1 port=$PG_PORT dbname=scale user=sensor password=sensor" \
    --define http.port="$OURS_PORT" --define auth.enabled=false --define logging.requests=false >/dev/null 2>&1 &
OURS_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$OURS_PORT/health" >/dev/null && break; sleep 0.1; done

# Rows 60 s apart for 10 devices, the newest at a fixed end, so the 1-hour window always
# holds the same 610 rows whatever the table size.
# The partitions (V010) for the whole range first: an SQL insert does not make them.
fill_to() {
    psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U sensor -d scale <<SQL
\\o /dev/null
SELECT sensor_project.readings_make_partitions(timestamptz '2040-01-01 00:00:00+00' - ($1 / 10 + 1) * interval '1 minute',
                                               timestamptz '2040-01-01 00:00:01+00', interval '1 month');
\\o
INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, ts_local_offset, payload)
SELECT 'dev-' || (i % 10), t, t, 3600,
       '{"cpu_temp": {"c": 48.3, "f": 118.94}, "disk": {"total_mb": 29000, "used_mb": 8000, "free_mb": 21000}}'
FROM generate_series((SELECT count(*) FROM sensor_project.readings) + 1, $1) AS i,
     LATERAL (SELECT timestamptz '2040-01-01 00:00:00+00' - (i / 10) * interval '1 minute' AS t) x;
VACUUM ANALYZE sensor_project.readings;
SQL
}
measure() {
    "$SB/latest_bench.sh" "http://127.0.0.1:$OURS_PORT" --seconds "$READ_SECONDS" --conns 4 \
        --start 2039-12-31T23:00:00Z --end 2040-01-01T00:00:00Z | grep '^RESULT'
}
fill_to 100000
echo "== 100k rows"; measure | tee /tmp/scale_small.$$
fill_to "$BIG"
echo "== $BIG rows"; measure | tee /tmp/scale_big.$$
for what in latest range_1h; do
    a=$(sed -n "s/^RESULT $what .*p50_ms=\([0-9.]*\).*/\1/p" /tmp/scale_small.$$)
    b=$(sed -n "s/^RESULT $what .*p50_ms=\([0-9.]*\).*/\1/p" /tmp/scale_big.$$)
    echo "$what p50: ${a} ms at 100k, ${b} ms at $BIG rows ($(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2fx", b/a}'))"
done
rm -f /tmp/scale_small.$$ /tmp/scale_big.$$
