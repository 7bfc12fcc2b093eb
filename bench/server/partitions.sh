#!/usr/bin/env bash
# Partitioned vs unpartitioned sensor_project.readings (V010) in ONE run on one throwaway
# PostgreSQL: the same readings in two databases, the server build from before partitioning on
# one (A) and the partitioned build on the other (B), read and written alternately with wrk.
# Target: GET /readings and /readings/latest p50 and p99 of B within 1.2x of A.
#
#   bench/server/partitions.sh BASE_BINARY NEW_BINARY [DEVICES=1000] [PER_DEVICE=50000] [RUNS=3]
#
# BASE_BINARY: sensorsys-server of 160ff23 (unpartitioned); NEW_BINARY: a Release build of this
# tree. DEVICES x PER_DEVICE readings (dev-0000 ...) spread evenly over the 24 whole months
# before the current one (the agent's payload shape), loaded inside PostgreSQL with INSERT ...
# SELECT FROM generate_series, triggers and secondary indexes off during the load (indexes built
# afterwards, then VACUUM ANALYZE); B's reading-id ledger is filled from its rows, as V010's
# migration does. B gets the 24 monthly partitions first (plus those the server makes ahead of
# the clock). Prints load time and sizes, then per run and as medians over RUNS: p50/p99 and
# req/s for range_dev (1-day GET /readings, one device, limit 100), range_all (the same, all
# devices), latest (GET /readings/latest, answered from the cache), latest_sql (the cache-miss
# statement, pgbench), and ingest (POST /readings/bulk of 500), with B/A.
# Env: SECONDS_EACH (10), INGEST_SECONDS (30), OUT (raw output folder, default a mktemp one),
# PAYLOAD (agent: the agent's 8 metrics, ~600 bytes a row with indexes; small: one metric, for
# 50 M rows per database on a disk with less than 70 GB free).
# The servers and PostgreSQL run on CPU 0, wrk/pgbench on CPU 1. Needs wrk, pgbench, psql and
# python3. The cluster and its data are deleted at the end, also on failure.
set -euo pipefail
if [ $# -lt 2 ]; then sed -n '2,24p' "$0"; exit 2; fi
BASE=$(realpath "$1"); NEW=$(realpath "$2")
DEVICES=${3:-1000}; PER_DEVICE=${4:-50000}; RUNS=${5:-3}
SECONDS_EACH=${SECONDS_EACH:-10}; INGEST_SECONDS=${INGEST_SECONDS:-30}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$(mktemp -d /tmp/sensorsys-partitions-bench.XXXXXX)}
mkdir -p "$OUT"
info=$(mktemp /tmp/sensorsys-partitions-pg.XXXXXX)
rm -f "$info"
declare -A PID PORT BIN=([A]=$BASE [B]=$NEW) DB=([A]=unpartitioned [B]=partitioned)
cleanup() {
    local status=$?
    for who in A B; do
        if [ -n "${PID[$who]:-}" ]; then kill "${PID[$who]}" 2>/dev/null; wait "${PID[$who]}" 2>/dev/null || true; fi
    done
    "$REPO/tests/support/pg_cluster.sh" stop "$info" >/dev/null 2>&1 || true
    exit "$status"
}
trap cleanup EXIT INT TERM
"$REPO/tests/support/pg_cluster.sh" start "$info" >/dev/null
pgdir=$(sed -n 's/^PGDIR=//p' "$info"); pgport=$(sed -n 's/^PGPORT=//p' "$info")
conn() { echo "host=127.0.0.1 port=$pgport user=postgres dbname=$1"; }
q() { local db=$1; shift; psql "$(conn "$db")" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "n/a" }'; }

q postgres -c "ALTER SYSTEM SET maintenance_work_mem = '512MB'" \
    -c "ALTER SYSTEM SET max_wal_size = '8GB'" -c "ALTER SYSTEM SET shared_buffers = '1GB'" \
    -c "ALTER SYSTEM SET work_mem = '16MB'"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$PG_BIN/pg_ctl" -D "$pgdir/data" -w -t 60 restart -l "$pgdir/postgres.log" >/dev/null

# The data: 24 whole months before the current one; each device's readings evenly apart, the
# devices staggered within each step, inserted in time order.
range=$(q postgres -c "SELECT extract(epoch FROM date_trunc('month', now()) - interval '24 months')::int8 || ' ' ||
                              extract(epoch FROM date_trunc('month', now()))::int8")
FROM_EPOCH=${range% *}; UNTIL_EPOCH=${range#* }
total=$((DEVICES * PER_DEVICE))
echo "== $DEVICES devices x $PER_DEVICE readings = $total per database, $(date -u -d "@$FROM_EPOCH" +%F) to $(date -u -d "@$UNTIL_EPOCH" +%F)"
if [ "${PAYLOAD:-agent}" = small ]; then
    payload="jsonb_build_object('t', round((20 + 5 * sin(k / 50.0) + d % 7)::numeric, 2))"
else
    payload="format('{\"bme280\": {\"temperature\": {\"c\": %s, \"f\": %s}, \"pressure\": {\"hpa\": %s}, \"humidity\": {\"rh\": %s}},
                \"cpu_temp\": {\"c\": %s, \"f\": %s}, \"disk\": {\"total_mb\": 29000, \"used_mb\": %s, \"free_mb\": %s}}',
              round((20 + 5 * sin(k / 50.0) + d % 7)::numeric, 2), round((68 + 9 * sin(k / 50.0) + d % 7)::numeric, 2),
              round((1013 + 10 * cos(k / 400.0))::numeric, 2), round((45 + 10 * sin(k / 70.0))::numeric, 2),
              48 + (k + d) % 7, 118 + (k + d) % 7, 8000 + k / 100, 21000 - k / 100)::jsonb"
fi
load_sql="INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, ts_local_offset, payload)
SELECT 'dev-' || lpad(d::text, 4, '0'), t, t, 0,
       $payload
  FROM generate_series(0, $PER_DEVICE - 1) k CROSS JOIN generate_series(0, $DEVICES - 1) d,
       LATERAL (SELECT to_timestamp($FROM_EPOCH + (k::float8 * $DEVICES + d) * ($UNTIL_EPOCH - $FROM_EPOCH) / $total) AS t) x"
secondary="FROM pg_index i WHERE i.indrelid = 'sensor_project.readings'::regclass AND NOT i.indisunique"

load() {  # who
    local db=${DB[$1]} t0 t1 t2 defs
    q postgres -c "CREATE DATABASE $db"
    "${BIN[$1]}" --migrate --define "database.connection=$(conn "$db")" >"$OUT/migrate_$1.log" 2>&1
    if [ "$1" = B ]; then
        q "$db" -c "SELECT sensor_project.readings_make_partitions(to_timestamp($FROM_EPOCH), to_timestamp($UNTIL_EPOCH),
                    interval '1 month')" >/dev/null
    fi
    # ON ONLY (a partitioned index) would build the parent's index and none of the partitions'.
    defs=$(q "$db" -c "SELECT string_agg(replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON '), '; ') $secondary")
    q "$db" -c "SELECT 'DROP INDEX ' || string_agg(i.indexrelid::regclass::text, ', ') $secondary" | q "$db"
    q "$db" -c "ALTER TABLE sensor_project.readings DISABLE TRIGGER USER" \
        -c "ALTER TABLE sensor_project.reading_ledger DISABLE TRIGGER USER" 2>/dev/null ||
        q "$db" -c "ALTER TABLE sensor_project.readings DISABLE TRIGGER USER"
    t0=$(now)
    q "$db" -c "$load_sql"
    if [ "$1" = B ]; then
        q "$db" -c "INSERT INTO sensor_project.reading_ledger (reading_id, ts_utc, id)
                    SELECT reading_id, ts_utc, id FROM sensor_project.readings"
    fi
    t1=$(now)
    q "$db" -c "$defs" -c "VACUUM ANALYZE" -c "ALTER TABLE sensor_project.readings ENABLE TRIGGER USER"
    if [ "$1" = B ]; then  # the device list its trigger keeps (V011)
        q "$db" -c "INSERT INTO sensor_project.devices (device_id)
                    SELECT 'dev-' || lpad(d::text, 4, '0') FROM generate_series(0, $DEVICES - 1) d"
    fi
    [ "$1" = A ] || q "$db" -c "ALTER TABLE sensor_project.reading_ledger ENABLE TRIGGER USER"
    t2=$(now)
    echo "$1 (${DB[$1]}): rows loaded in $(secs "$t0" "$t1") s (B: with its ledger), indexes + VACUUM ANALYZE $(secs "$t1" "$t2") s"
}
sizes() {  # who
    if [ "$1" = A ]; then
        q "${DB[$1]}" -F ' ' -c "SELECT 'A: table+indexes', pg_size_pretty(pg_total_relation_size('sensor_project.readings')),
            '(heap', pg_size_pretty(pg_relation_size('sensor_project.readings')) || ', indexes',
            pg_size_pretty(pg_indexes_size('sensor_project.readings')) || ')'"
    else
        q "${DB[$1]}" -F ' ' -c "SELECT 'B: partitions+indexes', pg_size_pretty(sum(pg_total_relation_size(i.inhrelid))),
            '(' || count(*) || ' partitions,', count(*) FILTER (WHERE c.reltuples > 0) || ' with rows, average of those',
            pg_size_pretty((sum(pg_total_relation_size(i.inhrelid)) FILTER (WHERE c.reltuples > 0)
                            / greatest(1, count(*) FILTER (WHERE c.reltuples > 0)))::int8) || ');',
            'ledger', pg_size_pretty(pg_total_relation_size('sensor_project.reading_ledger')) || ';',
            'total', pg_size_pretty(sum(pg_total_relation_size(i.inhrelid)) + pg_total_relation_size('sensor_project.reading_ledger'))
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'sensor_project.readings'::regclass"
    fi
}

echo "== load (PostgreSQL on both CPUs; A and B at the same time)"
load A & la=$!
load B & lb=$!
wait "$la"; wait "$lb"
sizes A; sizes B
df -h /tmp | tail -1

# From here PostgreSQL and the servers on CPU 0, the load generators on CPU 1.
pin_pg() { local p; for p in $(head -1 "$pgdir/data/postmaster.pid") $(pgrep -P "$(head -1 "$pgdir/data/postmaster.pid")"); do taskset -a -c -p 0 "$p" >/dev/null; done; }
pin_pg
start_server() {  # who
    PORT[$1]=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    taskset -c 0 "${BIN[$1]}" --define "database.connection=$(conn "${DB[$1]}")" --define http.port="${PORT[$1]}" \
        --define auth.enabled=false --define logging.requests=false >"$OUT/server_$1.log" 2>&1 &
    PID[$1]=$!
    for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:${PORT[$1]}/health" >/dev/null && break; sleep 0.1; done
}
start_server A; start_server B
pin_pg
# The latest cache is loaded once the change feed listens (at start-up, and after the feed's
# connection was lost): time that query, each build's own (A: one index descent per device; B:
# the devices from sensor_project.devices, each one's newest ts_utc first, then the 28 hours
# before it, as ReadingStore does).
for who in A B; do
    if [ "$who" = A ]; then
        sql="WITH RECURSIVE d AS ((SELECT device_id FROM sensor_project.readings ORDER BY device_id LIMIT 1)
             UNION ALL SELECT (SELECT r.device_id FROM sensor_project.readings r WHERE r.device_id > d.device_id ORDER BY r.device_id LIMIT 1)
             FROM d WHERE d.device_id IS NOT NULL)
             SELECT x.* FROM d CROSS JOIN LATERAL (SELECT * FROM sensor_project.readings r WHERE r.device_id = d.device_id
             ORDER BY device_id DESC, ts_local DESC, id DESC LIMIT 1) x;"
    else
        sql="SELECT x.* FROM sensor_project.devices d CROSS JOIN LATERAL (SELECT * FROM sensor_project.stored_readings r WHERE r.device_id = d.device_id
             AND r.ts_utc >= (SELECT y.ts_utc FROM sensor_project.stored_readings y WHERE y.device_id = d.device_id ORDER BY y.ts_utc DESC LIMIT 1) - interval '28 hours'
             ORDER BY device_id DESC, ts_local DESC, id DESC LIMIT 1) x;"
    fi
    ms=$(printf '\\timing on\n%s\n' "$sql" | q "${DB[$who]}" -o /dev/null | sed -n 's/^Time: \([0-9.]*\).*/\1/p')
    echo "$who: latest-cache load query (all $DEVICES devices) $ms ms"
done
echo "== measuring, load average: $(cut -d' ' -f1-3 /proc/loadavg)"

wrk_one() {  # who mode seconds run
    taskset -c 1 wrk -t1 -c4 -d"$3s" --timeout 10s -s "$HERE/partitions.lua" "http://127.0.0.1:${PORT[$1]}" -- \
        "$2" "$FROM_EPOCH" "$UNTIL_EPOCH" "$DEVICES" >"$OUT/${1}_$2_$4" 2>&1
    sed -n 's/^RESULT //p' "$OUT/${1}_$2_$4"
}
pgbench_latest() {  # who run: the statement GET /readings/latest runs on a cache miss
    # A: 160ff23's statement. B: this tree's (kLatestOfDeviceSql in server/src/reading_store.cpp).
    local dev="'dev-' || lpad(:d::text, 4, '0')"
    if [ "$1" = A ]; then
        printf '\\set d random(0, %d)\nSELECT * FROM sensor_project.readings WHERE device_id = %s ORDER BY device_id DESC, ts_local DESC, id DESC LIMIT 1;\n' \
            "$((DEVICES - 1))" "$dev" >"$OUT/latest_A.sql"
    else
        printf '\\set d random(0, %d)\nSELECT * FROM sensor_project.readings_latest(%s);\n' \
            "$((DEVICES - 1))" "$dev" >"$OUT/latest_B.sql"
    fi
    taskset -c 1 pgbench -n -M prepared -c 4 -j 1 -T "$SECONDS_EACH" -f "$OUT/latest_$1.sql" \
        --log --log-prefix="$OUT/pgbench_$1_$2" "$(conn "${DB[$1]}")" >"$OUT/${1}_latest_sql_$2" 2>&1
    cat "$OUT/pgbench_$1_$2".* | awk '{print $3}' | sort -g |
        awk -v t="$SECONDS_EACH" '{a[NR]=$1} END {printf "requests=%d p50_ms=%.3f p99_ms=%.3f req_per_s=%.1f\n", NR, a[int(NR*0.5)+1]/1000, a[int(NR*0.99)+1]/1000, NR/t}'
    rm -f "$OUT/pgbench_$1_$2".*
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
for run in $(seq 1 "$RUNS"); do
    order="A B"; [ $((run % 2)) -eq 0 ] && order="B A"
    for mode in range_dev range_all latest latest_sql; do
        for who in $order; do
            if [ "$mode" = latest_sql ]; then line=$(pgbench_latest "$who" "$run"); else line=$(wrk_one "$who" "$mode" "$SECONDS_EACH" "$run"); fi
            echo "run $run $who $mode $line" | tee -a "$OUT/results"
        done
    done
done
for run in $(seq 1 "$RUNS"); do
    order="A B"; [ $((run % 2)) -eq 0 ] && order="B A"
    for who in $order; do
        line=$(wrk_one "$who" ingest "$INGEST_SECONDS" "$run")
        echo "run $run $who ingest $line readings_per_s=$(echo "$line" | field req_per_s | awk '{printf "%.0f", $1 * 500}')" | tee -a "$OUT/results"
    done
done

echo "== medians over $RUNS runs (B/A: above 1 is B slower for latency, faster for req/s)"
printf '%-11s %10s %10s %6s   %10s %10s %6s   %10s %10s %6s\n' test A_p50_ms B_p50_ms B/A A_p99_ms B_p99_ms B/A A_req_s B_req_s B/A
for mode in range_dev range_all latest latest_sql ingest; do
    declare -A v=()
    for who in A B; do
        for f in p50_ms p99_ms req_per_s; do
            v[$who$f]=$(grep "^run [0-9]* $who $mode " "$OUT/results" | field "$f" | median)
        done
    done
    printf '%-11s %10s %10s %6s   %10s %10s %6s   %10s %10s %6s\n' "$mode" \
        "${v[Ap50_ms]}" "${v[Bp50_ms]}" "$(ratio "${v[Ap50_ms]}" "${v[Bp50_ms]}")" \
        "${v[Ap99_ms]}" "${v[Bp99_ms]}" "$(ratio "${v[Ap99_ms]}" "${v[Bp99_ms]}")" \
        "${v[Areq_per_s]}" "${v[Breq_per_s]}" "$(ratio "${v[Areq_per_s]}" "${v[Breq_per_s]}")" | tee -a "$OUT/summary"
done
grep -h "non2xx=[1-9]" "$OUT/results" && echo "(some requests failed: see $OUT)" || true
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); raw output in $OUT"

# The plans behind range_dev/range_all for one day in the middle of the data, as each build
# runs them (A: 160ff23's statements on the table; B: inside sensor_project.readings_page, V011,
# logged by auto_explain), each executed 7 times so that B's is the generic plan it keeps.
mid=$(( (FROM_EPOCH + UNTIL_EPOCH) / 2 ))
s=$(date -u -d "@$mid" +%FT%TZ); e=$(date -u -d "@$((mid + 86399))" +%FT%TZ)
lo=$(date -u -d "@$((mid - 50400))" +%FT%TZ); hi=$(date -u -d "@$((mid + 86399 + 50400))" +%FT%TZ)
for dev in "'dev-0042'" NULL; do
    cond=""; [ "$dev" = NULL ] || cond="device_id = $dev AND"
    q "${DB[A]}" -c "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM sensor_project.readings WHERE $cond ts_local >= '$s' AND ts_local <= '$e' AND (ts_local, id) > ('$s', -1) ORDER BY ts_local, id LIMIT 100" >>"$OUT/explain_A"
    { echo "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;"
      echo "SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on;"
      for _ in 1 2 3 4 5 6; do echo "SELECT count(*) FROM sensor_project.readings_page('$s', '$e', '$s', -1, 100, '$lo', '$hi', $dev);"; done
      echo "SET client_min_messages = log;"
      echo "SELECT count(*) FROM sensor_project.readings_page('$s', '$e', '$s', -1, 100, '$lo', '$hi', $dev);"
    } | q "${DB[B]}" >>"$OUT/explain_B" 2>&1
done
for who in A B; do
    table=readings; [ "$who" = B ] && table=stored_readings
    q "${DB[$who]}" -c "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM sensor_project.$table WHERE device_id = 'dev-0042' ORDER BY device_id DESC, ts_local DESC, id DESC LIMIT 1" >>"$OUT/explain_latest_$who"
done
{ echo "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;"
  echo "SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on; SET client_min_messages = log;"
  echo "SELECT count(*) FROM sensor_project.readings_latest('dev-0042');"
} | q "${DB[B]}" >>"$OUT/explain_latest_B" 2>&1
echo "plans: $OUT/explain_*"
