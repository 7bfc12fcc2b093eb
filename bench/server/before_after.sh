#!/usr/bin/env bash
# Two builds of sensorsys-server side by side in ONE run, on the same throwaway PostgreSQL: a
# change's cost, e.g. the strict HTTP framing layer and poller against the server before them.
# Each run ingests into both (alternating which goes first), then reads latest and a 1-hour
# range from both, with the seed's load scripts; CPU per request is the server's user+sys
# ticks over the requests wrk made.
#
#   bench/server/before_after.sh BEFORE_BINARY AFTER_BINARY [RUNS=3]
#
# Env: SEED_DIR (default ../shared/seed-reference next to the repo), PG_PORT (55791),
#      BEFORE_PORT (58791), AFTER_PORT (58792), INGEST_SECONDS (10), READ_SECONDS (10).
# Everything listens on 127.0.0.1 only and is stopped at the end, also on failure.
set -euo pipefail
if [ $# -lt 2 ]; then sed -n '2,12p' "$0"; exit 2; fi
BEFORE=$(realpath "$1"); AFTER=$(realpath "$2"); RUNS=${3:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SEED_DIR=${SEED_DIR:-$(cd "$REPO/../shared/seed-reference" 2>/dev/null && pwd || true)}
if [ -z "$SEED_DIR" ] || [ ! -x "$SEED_DIR/bench/ingest_bench.sh" ]; then
    echo "before_after: the seed's load scripts are not here (SEED_DIR); skipped" >&2
    exit 0
fi
SB="$SEED_DIR/bench"
PG_PORT=${PG_PORT:-55791}; BEFORE_PORT=${BEFORE_PORT:-58791}; AFTER_PORT=${AFTER_PORT:-58792}
INGEST_SECONDS=${INGEST_SECONDS:-10}; READ_SECONDS=${READ_SECONDS:-10}
PG_DIR=$(mktemp -d /tmp/sensorsys-ab-pg.XXXXXX)
OUT=$(mktemp -d /tmp/sensorsys-ab-out.XXXXXX)
export DB_USER=sensor DB_PASSWORD=sensor PGPASSWORD=sensor
declare -A PID PORT=([before]=$BEFORE_PORT [after]=$AFTER_PORT) BIN=([before]=$BEFORE [after]=$AFTER)
cleanup() {
    for who in before after; do
        [ -n "${PID[$who]:-}" ] && kill "${PID[$who]}" 2>/dev/null && wait "${PID[$who]}" 2>/dev/null
    done
    "$SB/stop_pg.sh" "$PG_DIR" --rm >/dev/null 2>&1 || true
}
trap cleanup EXIT
result() { sed -n "s/^RESULT $1 .*$2=\([0-9.]*\).*/\1/p" "$3" | tail -1; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
as_pg_admin() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

echo "== PostgreSQL in $PG_DIR on 127.0.0.1:$PG_PORT"
"$SB/start_pg.sh" "$PG_DIR" "$PG_PORT" >/dev/null
for who in before after; do
    as_pg_admin psql -X -q -h "$PG_DIR/sock" -p "$PG_PORT" -U postgres -d postgres \
        -c "CREATE DATABASE ab_$who OWNER sensor"
    "${BIN[$who]}" --define "database.connection=host=127.0.0.1 port=$PG_PORT dbname=ab_$who user=sensor password=sensor" \
        --define http.port="${PORT[$who]}" --define auth.enabled=false --define logging.requests=false \
        >"$OUT/$who.log" 2>&1 &
    PID[$who]=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:${PORT[$who]}/health" >/dev/null && break; sleep 0.1; done
done

ingest() {  # who run
    local t0; t0=$(ticks "${PID[$1]}")
    API_DB=ab_$1 "$SB/ingest_bench.sh" "http://127.0.0.1:${PORT[$1]}" --seconds "$INGEST_SECONDS" \
        --conns 4 >"$OUT/$1_ingest_$2" 2>&1 || echo "   ($1: the load script failed, run $2 not counted)"
    local requests
    requests=$(sed -n 's/^requests completed: \([0-9]*\).*/\1/p' "$OUT/$1_ingest_$2" | tail -1)
    result ingest_wrk readings_per_s "$OUT/$1_ingest_$2" >>"$OUT/$1_ingest_rate"
    # ms of server CPU per bulk request of 360 readings (USER_HZ = 100 ticks/s).
    awk -v a="$t0" -v b="$(ticks "${PID[$1]}")" -v n="${requests:-0}" \
        'BEGIN { if (n > 0) printf "%.3f\n", (b - a) * 10 / n }' >>"$OUT/$1_cpu_ms"
}
for run in $(seq 1 "$RUNS"); do
    echo "== run $run/$RUNS"
    if ((run % 2)); then order=(before after); else order=(after before); fi
    for who in "${order[@]}"; do ingest "$who" "$run"; done
    for who in "${order[@]}"; do
        "$SB/latest_bench.sh" "http://127.0.0.1:${PORT[$who]}" --seconds "$READ_SECONDS" --conns 4 \
            >"$OUT/${who}_read_$run" 2>&1
        result latest req_per_s "$OUT/${who}_read_$run" >>"$OUT/${who}_latest_rate"
        result latest p99_ms "$OUT/${who}_read_$run" >>"$OUT/${who}_latest_p99"
        result range_1h req_per_s "$OUT/${who}_read_$run" >>"$OUT/${who}_range_rate"
    done
    for who in before after; do
        echo "   $who: ingest $(tail -1 "$OUT/${who}_ingest_rate") r/s ($(tail -1 "$OUT/${who}_cpu_ms") ms CPU" \
             "per bulk request), latest $(tail -1 "$OUT/${who}_latest_rate") req/s," \
             "range $(tail -1 "$OUT/${who}_range_rate") req/s"
    done
done
echo
echo "== medians of $RUNS runs (ingest ${INGEST_SECONDS}s, reads ${READ_SECONDS}s, 4 connections)"
printf '%-28s %12s %12s\n' "" before after
for metric in ingest_rate cpu_ms latest_rate latest_p99 range_rate; do
    printf '%-28s %12s %12s\n' "$metric" "$(median <"$OUT/before_$metric")" "$(median <"$OUT/after_$metric")"
done
echo "raw outputs: $OUT"
