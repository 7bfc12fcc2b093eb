#!/usr/bin/env bash
# CPU time per idle cycle of the agent with the three plugins, side by side with the seed agent
# in ONE run (issue: agent runtime §7), ours once per plugins.isolation mode (thread, process).
#
#   bench/agent/idle_cpu.sh [SECONDS=60] [INTERVAL=1]
#
# "Idle cycle": one tick of the normal daemon - read bme280, cpu_temp and disk, store the
# reading, sync it to the server on 127.0.0.1 (ours: sensorsys-server + throwaway PostgreSQL;
# seed: read_sensors.py -> its local PostgreSQL -> the seed API). Both run at INTERVAL for
# SECONDS after a 5 s warm-up; CPU is utime+stime of the agent process from /proc/PID/stat,
# sampled at both ends of the window, so start-up is not counted. RSS at the end beside it.
# Sources on a machine without the hardware: bme280 has no I2C bus (its read fails fast with
# ENOENT, for both agents), cpu_temp reads a thermal-zone file written by this script (ours;
# the seed calls vcgencmd, which is absent and fails), disk is real for both.
# In process mode the agent's plugin hosts (its children) are counted with it: CPU, RSS and
# PSS (/proc/PID/smaps_rollup: shared pages split between the processes that map them) are
# sums over the agent and its sensorsys-plugin-host children.
# SKIP_SEED=1 skips the seed. Only 127.0.0.1 is contacted; everything started is stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_RUN=${1:-60}
INTERVAL=${2:-1}
WARM=5
source bench/agent/common.sh
bench_init idle
# The process and its children (the plugin hosts), one pid a line.
family() { echo "$1"; cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . || true; }
# utime stime, summed over the family
ticks() {
  for p in $(family "$1"); do awk '{print $14, $15}' "/proc/$p/stat" 2>/dev/null || true; done |
    awk '{u += $1; s += $2} END {print u + 0, s + 0}'
}
# "RSS_KIB PSS_KIB PROCESSES", summed over the family
memory_kib() {
  for p in $(family "$1"); do
    awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} END {print r, p}' "/proc/$p/smaps_rollup" 2>/dev/null || true
  done | awk '{r += $1; p += $2; n++} END {print r + 0, p + 0, n + 0}'
}
hz=$(getconf CLK_TCK)

# measure LABEL PID: CPU per cycle (user and system) over SECONDS_RUN after the warm-up, and
# RSS at the end.
measure() {
  local label=$1 pid=$2 t0 t1
  sleep "$WARM"
  kill -0 "$pid" 2>/dev/null || { echo "$label: the agent exited during the warm-up" >&2; return 1; }
  t0=$(ticks "$pid")
  sleep "$SECONDS_RUN"
  kill -0 "$pid" 2>/dev/null || { echo "$label: the agent exited during the run" >&2; return 1; }
  t1=$(ticks "$pid")
  awk -v l="$label" -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$SECONDS_RUN" -v i="$INTERVAL" \
      -v mem="$(memory_kib "$pid")" 'BEGIN {
        split(a, x, " "); split(b, y, " "); split(mem, m, " ")
        cycles = s / i; user = (y[1] - x[1]) / hz; sys = (y[2] - x[2]) / hz; cpu = user + sys
        printf "RESULT %s cycles=%d cpu_s=%.2f cpu_ms_per_cycle=%.2f (user %.2f, system %.2f) cpu_percent=%.2f rss_kib=%d pss_kib=%d processes=%d\n",
               l, cycles, cpu, cpu * 1000 / cycles, user * 1000 / cycles, sys * 1000 / cycles,
               100 * cpu / s, m[1], m[2], m[3] }'
  for p in $(family "$pid"); do
    awk -v p="$p" '/^Rss:/ {r = $2} /^Pss:/ {s = $2} END {printf "  pid %s rss_kib=%d pss_kib=%d\n", p, r, s}' \
      "/proc/$p/smaps_rollup" 2>/dev/null || true
  done
}

bench_build sensorsys-plugin-host sensorsys_plugin_bme280 sensorsys_plugin_cputemp sensorsys_plugin_disk

bench_start_server
mkdir -m 755 "$work/plugins"
cp build/bench/lib/sensorsys/{bme280,cpu_temp,disk}.so "$work/plugins/"
echo 48312 >"$work/thermal_temp"
for isolation in thread process; do
  echo "== ours ($isolation): PostgreSQL, sensorsys-server, sensorsys-agent every ${INTERVAL} s for ${SECONDS_RUN} s"
  "$agent" --config /dev/null --define plugins.dir="$work/plugins" \
    --define plugins.isolation="$isolation" --define sensors=bme280,cpu_temp,disk \
    --define sensor.cpu_temp.source=sysfs --define sensor.cpu_temp.sysfs_path="$work/thermal_temp" \
    --define agent.interval="$INTERVAL" --define store.path="$work/buffer-$isolation.db" \
    --define agent.status_file="$work/status.json" --define sync.url="http://127.0.0.1:$port" \
    --define logging.level=warning 2>"$work/agent-$isolation.log" &
  apid=$!
  pids+=("$apid")
  measure "ours-$isolation" "$apid"
  kill -TERM "$apid"
  wait "$apid" || true
done
ls -l "$agent" "$(dirname "$agent")/sensorsys-plugin-host" | awk '{print "binary", $9, $5, "bytes"}'
synced=$(curl -fs "http://127.0.0.1:$port/readings/latest" | head -c 300 || true)
echo "latest on our server: $synced"

if [[ -f "$seed_dir/read_sensors.py" && -z "${SKIP_SEED:-}" ]]; then
  echo "== seed: PostgreSQL, seed API, read_sensors.py every ${INTERVAL} s for ${SECONDS_RUN} s"
  seed_pg=$work/seed-pg
  seed_pg_port=$(free_port)
  seed_api_port=$(free_port)
  "$seed_dir/bench/start_pg.sh" "$seed_pg" "$seed_pg_port" >/dev/null
  "$seed_dir/bench/start_api.sh" "$seed_api_port" "$seed_pg_port" 2 >/dev/null
  DB_USER=sensor DB_PASSWORD=sensor DB_HOST=127.0.0.1 DB_PORT=$seed_pg_port DB_NAME=sensor_agent \
  API_SERVER="http://127.0.0.1:$seed_api_port" DEVICE_ID=idle-bench \
    /usr/bin/python3 "$seed_dir/read_sensors.py" --interval "$INTERVAL" >"$work/seed-agent.log" 2>&1 &
  spid=$!
  pids+=("$spid")
  measure seed "$spid"
else
  echo "== seed: skipped ($seed_dir not present or SKIP_SEED set)"
fi
