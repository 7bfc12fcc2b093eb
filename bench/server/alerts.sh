#!/usr/bin/env bash
# Alerts benchmark: ingest throughput (wrk with tests/load/ingest.lua, POST /readings/bulk of
# 100 readings) with no alert rules and with 100 rules over 1000 devices, alternating in ONE run
# on one throwaway PostgreSQL. Target: with rules >= 85 % of without.
#
#   bench/server/alerts.sh SERVER_BINARY [RUNS=3] [SECONDS=15]
#
# The 1000 devices (bench-0001 ... bench-1000) get one reading each first, so every rule has
# 1000 (rule, device) pairs besides wrk's own devices (benchnR-1 ... benchwR-4 per run R, matched too). 95
# rules watch cpu_temp.c with thresholds it never reaches, 5 cross it in every batch (a fire
# and a resolve per batch each: the history grows). No receivers: delivery is not measured.
# Prints each run and the medians. Needs wrk, psql and python3.
set -euo pipefail

server=$(realpath "${1:?usage: $0 SERVER_BINARY [RUNS] [SECONDS]}")
runs=${2:-3}
seconds=${3:-15}
root=$(cd "$(dirname "$0")/../.." && pwd)
info=$(mktemp /tmp/sensorsys-alerts-bench.XXXXXX)
work=$(mktemp -d /tmp/sensorsys-alerts-bench-files.XXXXXX)
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
# SQL inserts need a partition for their time (V010); --migrate makes today's already, this
# keeps the script independent of that.
q -c "SELECT sensor_project.readings_make_partitions(now() - interval '1 day', now() + interval '1 day',
        interval '1 month')" >/dev/null
q -c "INSERT INTO sensor_project.readings (device_id, ts_utc, ts_local, ts_local_offset, payload)
      SELECT 'bench-' || lpad(d::text, 4, '0'), now(), now(), 0, '{\"cpu_temp\": {\"c\": 41.0}}'
        FROM generate_series(1, 1000) d"

: >"$work/none.properties"
{
    printf 'rules = '
    for i in $(seq 1 100); do printf '%sr%d' "$([ "$i" -gt 1 ] && echo ', ')" "$i"; done
    echo
    for i in $(seq 1 100); do
        echo "rule.r$i.metric = cpu_temp.c"
        echo "rule.r$i.devices = bench*"
        if [ "$i" -le 5 ]; then
            echo "rule.r$i.above = $((44 + i))"
            echo "rule.r$i.clear = 42"
        else
            echo "rule.r$i.above = $((60 + i))"
        fi
    done
} >"$work/rules.properties"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run_one() {  # $1: alerts file, $2: device name suffix (new devices: new ts order); prints readings/s
    "$server" --define "database.connection=$conn" --define http.port="$port" \
        --define auth.enabled=false --define logging.requests=false \
        --define limits.max_future=315360000 --define alerts.file="$1" \
        >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    wrk -t4 -c8 -d"${seconds}s" -s "$root/tests/load/ingest.lua" "http://127.0.0.1:$port" -- x "bench$2" \
        | sed -n 's/^RESULT .*readings_per_s=\([0-9.]*\).*/\1/p'
    kill "$server_pid"; wait "$server_pid" || true; server_pid=
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

: >"$work/none.txt"; : >"$work/rules.txt"
for r in $(seq 1 "$runs"); do
    none=$(run_one "$work/none.properties" "n$r"); echo "$none" >>"$work/none.txt"
    with=$(run_one "$work/rules.properties" "w$r"); echo "$with" >>"$work/rules.txt"
    echo "run $r: no rules $none readings/s, 100 rules $with readings/s"
done
pairs=$(q -c "SELECT count(*) FROM sensor_project.alert_state")
history=$(q -c "SELECT count(*) FROM sensor_project.alert_history")
mn=$(median <"$work/none.txt"); mw=$(median <"$work/rules.txt")
echo "median: no rules $mn, 100 rules $mw readings/s: $(python3 -c "print(f'{100 * $mw / $mn:.1f} %')") (target >= 85 %)"
echo "alert states written: $pairs, history rows: $history"
