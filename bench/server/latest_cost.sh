#!/usr/bin/env bash
# What keeping each device's latest reading in a table would cost ingest: the design V011 tried
# and dropped (docs/scaling.md, "Latest"), installed here into a throwaway PostgreSQL: a table
# device_latest and a statement trigger on sensor_project.readings upserting each device's
# newest row. The readings come as a fleet sends them, each of a batch from another device
# (tests/load/ingest.lua "agent": 100 devices per request, the agent's payload). One server; wrk
# runs alternate with the trigger enabled and disabled, the same number of times. With WHICH =
# devices, the trigger measured is instead V011's readings_devices_insert (the device list,
# sensor_project.devices), and nothing is installed.
#
#   bench/server/latest_cost.sh SERVER_BINARY [SECONDS=15] [RUNS=3] [WHICH=latest_table]
#
# Prints readings/s per run and the medians with and without the trigger. PostgreSQL and the
# server on CPU 0, wrk on CPU 1. Needs wrk, psql, curl.
set -euo pipefail
if [ $# -lt 1 ]; then sed -n '2,14p' "$0"; exit 2; fi
SERVER=$(realpath "$1"); SECONDS_EACH=${2:-15}; RUNS=${3:-3}; WHICH=${4:-latest_table}
trigger=readings_latest_insert; [ "$WHICH" = devices ] && trigger=readings_devices_insert
root=$(cd "$(dirname "$0")/../.." && pwd)
info=$(mktemp /tmp/sensorsys-latest-cost.XXXXXX); rm -f "$info"
out=$(mktemp -d /tmp/sensorsys-latest-cost-out.XXXXXX)
pid=""
cleanup() {
    local status=$?
    [ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
    "$root/tests/support/pg_cluster.sh" stop "$info" >/dev/null 2>&1 || true
    exit "$status"
}
trap cleanup EXIT INT TERM
"$root/tests/support/pg_cluster.sh" start "$info" >/dev/null
pgport=$(sed -n 's/^PGPORT=//p' "$info"); pgdir=$(sed -n 's/^PGDIR=//p' "$info")
conn="host=127.0.0.1 port=$pgport user=postgres dbname=postgres"
q() { psql "$conn" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
"$SERVER" --migrate --define "database.connection=$conn" >/dev/null
[ "$WHICH" = devices ] || q <<'SQL'
CREATE TABLE sensor_project.device_latest (
    device_id VARCHAR PRIMARY KEY, id BIGINT NOT NULL, reading_id UUID NOT NULL,
    ts_utc TIMESTAMPTZ NOT NULL, ts_local TIMESTAMPTZ NOT NULL, ts_local_offset INTEGER NOT NULL,
    payload JSONB NOT NULL, ts_quality TEXT);
CREATE FUNCTION sensor_project.device_latest_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO sensor_project.device_latest AS l
    SELECT DISTINCT ON (n.device_id) n.device_id, n.id, n.reading_id, n.ts_utc, n.ts_local,
           n.ts_local_offset, n.payload, n.ts_quality
      FROM new_rows n ORDER BY n.device_id, n.ts_local DESC, n.id DESC
    ON CONFLICT (device_id) DO UPDATE
       SET id = excluded.id, reading_id = excluded.reading_id, ts_utc = excluded.ts_utc,
           ts_local = excluded.ts_local, ts_local_offset = excluded.ts_local_offset,
           payload = excluded.payload, ts_quality = excluded.ts_quality
     WHERE (excluded.ts_local, excluded.id) > (l.ts_local, l.id);
    RETURN NULL;
END
$fn$;
CREATE TRIGGER readings_latest_insert AFTER INSERT ON sensor_project.readings
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sensor_project.device_latest_insert();
SQL
# The agent mode's timestamps (2030 on): their partitions made before the clock starts.
q -c "SELECT sensor_project.readings_make_partitions('2030-01-01Z', '2032-01-01Z', interval '1 month')" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
taskset -c 0 "$SERVER" --define "database.connection=$conn" --define http.port="$port" \
    --define auth.enabled=false --define logging.requests=false --define limits.max_future=315360000 \
    >"$out/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
for p in $(head -1 "$pgdir/data/postmaster.pid") $(pgrep -P "$(head -1 "$pgdir/data/postmaster.pid")"); do
    taskset -a -c -p 0 "$p" >/dev/null
done
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
for run in $(seq 1 "$RUNS"); do
    order="ENABLE DISABLE"; [ $((run % 2)) -eq 0 ] && order="DISABLE ENABLE"
    for state in $order; do
        q -c "ALTER TABLE sensor_project.readings $state TRIGGER $trigger"
        line=$(taskset -c 1 wrk -t2 -c4 -d"${SECONDS_EACH}s" -s "$root/tests/load/ingest.lua" \
            "http://127.0.0.1:$port" -- x "lc$run$state" agent | sed -n 's/^RESULT //p')
        rate=$(echo "$line" | sed -n 's/.*readings_per_s=\([0-9]*\).*/\1/p')
        echo "run $run trigger ${state,,}d: $rate readings/s ($line)" | tee -a "$out/results"
    done
done
with=$(grep "trigger enabled" "$out/results" | sed 's/.*: \([0-9]*\) readings.*/\1/' | median)
without=$(grep "trigger disabled" "$out/results" | sed 's/.*: \([0-9]*\) readings.*/\1/' | median)
echo "median readings/s: with $trigger $with, without $without ($(awk -v a="$with" -v b="$without" 'BEGIN { printf "%.2f", a / b }')x)"
echo "raw output in $out"
