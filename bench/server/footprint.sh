#!/usr/bin/env bash
# What a reading costs PostgreSQL on the partitioned table (docs/scaling.md): bytes per reading
# of the partitions' heap and each index, of the reading-id ledger and of the rollups, and the
# WAL written per reading, while the server ingests the agent's full payload (bme280, cpu_temp,
# disk) through POST /readings/bulk (wrk, tests/load/ingest.lua with "agent": 100 devices per
# connection, a reading a minute each, as Pis send them), then the
# rollup worker catches up. One throwaway PostgreSQL; nothing else runs on it.
#
#   bench/server/footprint.sh SERVER_BINARY [SECONDS=60]
#
# Prints the rate, the sizes per reading and the WAL per reading. Needs wrk, psql, curl.
set -euo pipefail

server=$(realpath "${1:?usage: $0 SERVER_BINARY [SECONDS]}")
seconds=${2:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
info=$(mktemp /tmp/sensorsys-footprint.XXXXXX)
work=$(mktemp -d /tmp/sensorsys-footprint-files.XXXXXX)
rm -f "$info"
"$root/tests/support/pg_cluster.sh" start "$info" >/dev/null
server_pid=
cleanup() {
    local status=$?
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    "$root/tests/support/pg_cluster.sh" stop "$info" >/dev/null || true
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT INT TERM
conn=$(sed -n 's/^CONNINFO=//p' "$info")
q() { psql "$conn" -X -q -At -v ON_ERROR_STOP=1 "$@"; }

"$server" --migrate --define "database.connection=$conn" >/dev/null
q -c "SELECT sensor_project.readings_make_partitions('2030-01-01Z', '2031-01-01Z', interval '1 month')" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server" --define "database.connection=$conn" --define http.port="$port" \
    --define auth.enabled=false --define logging.requests=false \
    --define limits.max_future=315360000 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

lsn0=$(q -c "SELECT pg_current_wal_lsn()")
result=$(wrk -t2 -c4 -d"${seconds}s" -s "$root/tests/load/ingest.lua" "http://127.0.0.1:$port" -- x fp agent)
lsn1=$(q -c "SELECT pg_current_wal_lsn()")
echo "$result" | grep '^RESULT'
# The rollup worker catches up (its WAL is counted separately): how far behind it was when
# ingest stopped and how long it took, i.e. the (device, minute) pairs it recomputes a second.
behind=$(q -c "SELECT count(*) FROM sensor_project.rollup_dirty")
start=$(date +%s.%N)
for _ in $(seq 1 3600); do
    [ "$(q -c "SELECT count(*) FROM sensor_project.rollup_dirty")" = 0 ] && break
    sleep 0.5
done
caught=$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')")
echo "rollup worker: $behind (device, minute) pair(s) behind when ingest stopped, caught up in ${caught} s"
lsn2=$(q -c "SELECT pg_current_wal_lsn()")
q -c "VACUUM ANALYZE" >/dev/null
q <<SQL
SELECT 'readings stored: ' || count(*) FROM sensor_project.readings;
WITH n AS (SELECT count(*)::numeric AS n FROM sensor_project.readings),
parts AS (SELECT relid FROM pg_partition_tree('sensor_project.readings') WHERE isleaf),
idx AS (
    SELECT regexp_replace(c.relname, '^readings_p[0-9]{8}_', '') AS name,
           sum(pg_relation_size(i.indexrelid)) AS bytes
      FROM parts p JOIN pg_index i ON i.indrelid = p.relid JOIN pg_class c ON c.oid = i.indexrelid
     GROUP BY 1)
SELECT format('%-40s %8s bytes/reading', x.what, round(x.bytes / n.n, 1)) FROM n, (
    SELECT 'partitions: heap + TOAST' AS what,
           sum(pg_table_size(relid))::numeric AS bytes FROM parts
    UNION ALL SELECT 'partitions: index ' || name, bytes FROM idx
    UNION ALL SELECT 'reading_ledger (heap + pkey + BRIN)',
           pg_total_relation_size('sensor_project.reading_ledger')
    UNION ALL SELECT 'rollup_1m + 1h + 1d (all indexes)',
           pg_total_relation_size('sensor_project.rollup_1m')
           + pg_total_relation_size('sensor_project.rollup_1h')
           + pg_total_relation_size('sensor_project.rollup_1d')
    UNION ALL SELECT 'WAL during ingest', pg_wal_lsn_diff('$lsn1', '$lsn0')
    UNION ALL SELECT 'WAL of the rollup worker after it', pg_wal_lsn_diff('$lsn2', '$lsn1')
) x;
SQL
