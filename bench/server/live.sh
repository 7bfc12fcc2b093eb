#!/usr/bin/env bash
# The live feed's benchmarks (issue #15), in one run on one throwaway PostgreSQL:
#  1. ingest (wrk, tests/load/ingest.lua) alone, then with 1000 idle WebSocket clients connected
#     (dashboards watching a quiet device): rate ratio, server CPU per reading, RSS with them;
#  2. fan-out: 1000 clients on instance A, readings posted to A while bulk ingest runs: p50/p99
#     from the POST to receipt (bench/server/live_fanout.py: the last 50 connected are timed);
#  3. the same with the readings posted to instance B (A learns of them by the change feed).
#
#   bench/server/live.sh [SERVER_BINARY=build/release-tests/server/sensorsys-server]
# Env: SECONDS_INGEST (15), CLIENTS (1000), READINGS (200), INTERVAL (0.02).
# Everything listens on 127.0.0.1 only and is stopped at the end, also on failure.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SERVER=$(realpath "${1:-$REPO/build/release-tests/server/sensorsys-server}")
SECONDS_INGEST=${SECONDS_INGEST:-15}
CLIENTS=${CLIENTS:-1000}
READINGS=${READINGS:-200}
INTERVAL=${INTERVAL:-0.02}
WORK=$(mktemp -d /tmp/sensorsys-live-bench.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    bash "$REPO/tests/support/pg_cluster.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
ulimit -n $((CLIENTS * 2 + 1024))
bash "$REPO/tests/support/pg_cluster.sh" start "$WORK/pg" >/dev/null
conninfo=$(sed -n 's/^CONNINFO=//p' "$WORK/pg")
db=(--define "database.connection=$conninfo" --define logging.requests=false
    --define limits.max_future=315360000 --define auth.enabled=true)
"$SERVER" "${db[@]}" --migrate >/dev/null
TOKEN=$("$SERVER" "${db[@]}" token create --admin | head -1)

start_server() {  # NAME -> sets PORT_<NAME>, PID_<NAME>
    : >"$WORK/$1.log"
    "$SERVER" "${db[@]}" --define http.port=0 >"$WORK/$1.log" 2>&1 &
    local pid=$! port=""
    PIDS+=("$pid")
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$WORK/$1.log" | head -1)
        [[ -n $port ]] && break
        sleep 0.1
    done
    [[ -n $port ]] || { cat "$WORK/$1.log" >&2; echo "live: server $1 did not start" >&2; exit 1; }
    printf -v "PORT_$1" %s "$port"
    printf -v "PID_$1" %s "$pid"
}
start_server A
start_server B
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
ingest() {  # PREFIX -> "readings_per_s cpu_us_per_reading"
    local t0 out rate
    t0=$(ticks "$PID_A")
    out=$(wrk -t2 -c4 -d"${SECONDS_INGEST}s" --timeout 10s -s "$REPO/tests/load/ingest.lua" \
        "http://127.0.0.1:$PORT_A" -- "$TOKEN" "$1")
    rate=$(sed -n 's/^RESULT readings=.* readings_per_s=\([0-9.]*\).*/\1/p' <<<"$out")
    [[ -n $rate ]] || { echo "$out" >&2; echo "live: no RESULT from wrk" >&2; exit 1; }
    echo "$rate $(echo "scale=2; ($(ticks "$PID_A") - $t0) * 10000 / ($rate * $SECONDS_INGEST)" | bc)"
}

echo "== $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); server $SERVER"
echo "== 1. ingest alone and with $CLIENTS idle live clients (instance A)"
ingest warm >/dev/null
read -r alone cpu_alone < <(ingest alone)
rss_before=$(rss "$PID_A")
python3 "$HERE/live_fanout.py" --live "http://127.0.0.1:$PORT_A" --token "$TOKEN" \
    --clients "$CLIENTS" --hold $((SECONDS_INGEST + 30)) >"$WORK/hold.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 600); do grep -q READY "$WORK/hold.out" && break; sleep 0.1; done
grep -q READY "$WORK/hold.out" || { cat "$WORK/hold.out" >&2; echo "live: clients not connected" >&2; exit 1; }
rss_clients=$(rss "$PID_A")
read -r with cpu_with < <(ingest idle)
echo "RESULT live_idle_ingest alone_readings_per_s=$alone with_clients=$with" \
     "ratio=$(echo "scale=3; $with / $alone" | bc) cpu_us_per_reading_alone=$cpu_alone" \
     "cpu_us_per_reading_with=$cpu_with"
echo "RESULT live_idle_rss_kib before=$rss_before with_${CLIENTS}_clients=$rss_clients" \
     "per_client=$(((rss_clients - rss_before) / CLIENTS)) threads=$(ls /proc/"$PID_A"/task | wc -l)"
kill "${PIDS[-1]}" 2>/dev/null || true
wait "${PIDS[-1]}" 2>/dev/null || true
unset 'PIDS[-1]'

fanout() {  # LABEL POST_PORT
    wrk -t1 -c2 -d120s --timeout 10s -s "$REPO/tests/load/ingest.lua" \
        "http://127.0.0.1:$PORT_A" -- "$TOKEN" "bulk-$1" >/dev/null 2>&1 &
    local bulk=$!
    local out
    out=$(python3 "$HERE/live_fanout.py" --live "http://127.0.0.1:$PORT_A" \
        --post "http://127.0.0.1:$2" --token "$TOKEN" --clients "$CLIENTS" \
        --readings "$READINGS" --interval "$INTERVAL")
    kill "$bulk" 2>/dev/null || true
    wait "$bulk" 2>/dev/null || true
    echo "RESULT live_fanout_$1 $out"
}
echo "== 2. fan-out to $CLIENTS clients on A, posted to A, bulk ingest running"
fanout same_instance "$PORT_A"
echo "== 3. fan-out to $CLIENTS clients on A, posted to B, bulk ingest running"
fanout cross_instance "$PORT_B"
