#!/usr/bin/env bash
# Soak (issue #5 §5; by hand, not in CI): sensorsys-server on a throwaway PostgreSQL and
# sensorsys-agent reading this machine's real plugins 10 times a second, syncing to it, for
# SOAK_SECONDS; prints the resident memory of both processes (VmRSS, and RssAnon: heap and
# stacks, without mapped files) every SOAK_SAMPLE_SECONDS. Both must stay flat: it fails (exit 1)
# if either VmRSS grew by more than SOAK_TOLERANCE_KIB over the second half of the run. The
# first half is warm-up: the agent's SQLite page cache (cache_size default, 2000 KiB per
# connection) fills as the buffer file grows (~2 MiB of readings in the first 5 minutes at
# 10 Hz), then stays at its bound; a leak keeps growing after that.
#
#   bench/soak.sh [BUILD_DIR]       BUILD_DIR with bin/sensorsys-agent, server/sensorsys-server
#                                   and lib/sensorsys/*.so (default build/demo, built if missing)
# Env: SOAK_SECONDS (600), SOAK_SAMPLE_SECONDS (60), SOAK_INTERVAL (agent.interval, 0.1),
#      SOAK_TOLERANCE_KIB (1024).
# Only 127.0.0.1 is used; everything started is stopped and the work folder removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:-build/demo}
seconds=${SOAK_SECONDS:-600}
sample=${SOAK_SAMPLE_SECONDS:-60}
interval=${SOAK_INTERVAL:-0.1}
tolerance=${SOAK_TOLERANCE_KIB:-1024}
for v in seconds sample tolerance; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "soak: ${v} must be a whole number, got '${!v}'" >&2; exit 64; }
done
((sample > 0)) || { echo "soak: SOAK_SAMPLE_SECONDS must be > 0" >&2; exit 64; }

if [[ ! -x $build/bin/sensorsys-agent || ! -x $build/server/sensorsys-server ]]; then
  echo "== build into $build"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSENSORSYS_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j2 --target sensorsys-agent sensorsys-server sensorsys_plugin_bme280 \
    sensorsys_plugin_cputemp sensorsys_plugin_disk
fi
build=$(cd "$build" && pwd)
agent=$build/bin/sensorsys-agent
server=$build/server/sensorsys-server
for f in "$agent" "$server"; do
  [[ -x $f ]] || { echo "soak: $f is missing or not executable" >&2; exit 1; }
done

work=$(mktemp -d /tmp/sensorsys-soak.XXXXXX)
chmod 755 "$work"
agent_pid="" server_pid=""
cleanup() {
  [[ -n $agent_pid ]] && kill -TERM "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null || true
  [[ -n $server_pid ]] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [[ -f $work/pg.info ]] && "$root/tests/support/pg_cluster.sh" stop "$work/pg.info" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$root/tests/support/pg_cluster.sh" start "$work/pg.info" >/dev/null
conninfo=$(sed -n 's/^CONNINFO=//p' "$work/pg.info")
db=(--define "database.connection=$conninfo")
"$server" "${db[@]}" --migrate >/dev/null
token=$("$server" "${db[@]}" token create --device soak | head -1)

"$server" "${db[@]}" --define http.port=0 --define auth.enabled=true \
  --define logging.requests=false 2>"$work/server.log" &
server_pid=$!
port=""
for _ in $(seq 200); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/server.log" | head -1)
  [[ -n $port ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "soak: server exited" >&2; exit 1; }
  sleep 0.1
done
[[ -n $port ]] || { echo "soak: server did not log 'listening on' within 20 s" >&2; exit 1; }

"$agent" --config /dev/null --define plugins.dir="$build/lib/sensorsys" \
  --define agent.device_id=soak --define agent.interval="$interval" \
  --define store.path="$work/buffer.db" --define agent.status_file="$work/status.json" \
  --define sync.url="http://127.0.0.1:$port" --define sync.token="$token" \
  >/dev/null 2>"$work/agent.log" &
agent_pid=$!

rss() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# Readings the agent committed to its buffer in this run (its status file, rewritten as it goes).
produced() { sed -n 's/.*"produced": *\([0-9]*\).*/\1/p' "$work/status.json" 2>/dev/null | head -1; }
stored() {
  local port_pg
  port_pg=$(sed -n 's/^PGPORT=//p' "$work/pg.info")
  psql -X -qAt -h 127.0.0.1 -p "$port_pg" -U postgres -d postgres \
    -c "SELECT count(*) FROM sensor_project.readings WHERE device_id = 'soak'" 2>/dev/null || echo "?"
}
alive() {
  kill -0 "$agent_pid" 2>/dev/null || { echo "soak: the agent died; log:" >&2; tail -20 "$work/agent.log" >&2; exit 1; }
  kill -0 "$server_pid" 2>/dev/null || { echo "soak: the server died; log:" >&2; tail -20 "$work/server.log" >&2; exit 1; }
}

echo "soak: $seconds s, agent.interval=$interval (plugins: $(cd "$build/lib/sensorsys" && echo *.so))," \
  "sample every $sample s; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%6s %14s %15s %15s %16s %14s %14s\n' t_s agent_rss_kib agent_anon_kib server_rss_kib \
  server_anon_kib agent_produced server_stored
sleep 5
samples=()
started=$SECONDS
t=0
while :; do
  alive
  a=$(rss "$agent_pid" VmRSS) s=$(rss "$server_pid" VmRSS)
  printf '%6d %14d %15d %15d %16d %14s %14s\n' "$t" "$a" "$(rss "$agent_pid" RssAnon)" "$s" \
    "$(rss "$server_pid" RssAnon)" "$(produced)" "$(stored)"
  samples+=("$t $a $s")
  ((t >= seconds)) && break
  next=$((t + sample > seconds ? seconds : t + sample))
  sleep $((started + next - SECONDS > 0 ? started + next - SECONDS : 0)) &
  wait $! || true  # (a signal interrupts wait at once; it would wait for a foreground sleep)
  t=$next
done

# The second half of the run: from the first sample at or after half time to the last one.
for sample_line in "${samples[@]}"; do
  read -r t0 a0 s0 <<<"$sample_line"
  ((t0 * 2 >= seconds)) && break
done
read -r t1 a1 s1 <<<"${samples[-1]}"
read -r _ af sf <<<"${samples[0]}"
errors() { grep -c ' - ERROR - \| - CRITICAL - ' "$1" || true; }
errors="agent $(errors "$work/agent.log"), server $(errors "$work/server.log")"
echo "VmRSS growth over the whole run: agent $((a1 - af)) KiB, server $((s1 - sf)) KiB;" \
  "over the second half (t=${t0}s to t=${t1}s): agent $((a1 - a0)) KiB, server $((s1 - s0)) KiB" \
  "(tolerance $tolerance KiB); error/critical log lines: $errors"
if ((a1 - a0 > tolerance || s1 - s0 > tolerance)); then
  echo "soak: FAIL: resident memory grew beyond $tolerance KiB" >&2
  exit 1
fi
echo "soak: ok, flat"
