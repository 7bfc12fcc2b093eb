#!/usr/bin/env bash
# Agent drain benchmark, side by side with the seed in ONE run (issue: agent runtime §7).
#
#   bench/agent/drain.sh [N=100000] [BIG=1000000] [SMALL=10000]
#
# Ours: N readings preloaded into a fresh SQLite buffer, sensorsys-agent (Release) drains them
# to sensorsys-server (auth off) on 127.0.0.1 backed by a throwaway PostgreSQL. Reports
# readings/s, the mean time of the first and last 10 % of batches (must be about equal: no
# growth with backlog), peak RSS (/usr/bin/time -v) and private dirty memory (smaps_rollup) at
# the end of the drain — for SMALL, N and BIG; then BIG's peak RSS against SMALL's (memory must
# not grow with the backlog: within 10 %).
# Seed: ../shared/seed-reference/bench/drain_bench.sh with the same N (skipped when absent).
# DRAIN_DEFINES="--define sync.gzip=false" adds agent settings (experiments).
# SKIP_SEED=1 skips the seed's run.
# Only 127.0.0.1 is contacted; every wait is bounded; everything started is stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-100000}
BIG=${2:-1000000}
SMALL=${3:-10000}
declare -A peak_rss  # KiB, by backlog size
source bench/agent/common.sh
bench_init drain
bench_build sensorsys_plugin_disk

echo "== PostgreSQL and sensorsys-server"
bench_start_server

mkdir -m 755 "$work/plugins"
cp build/bench/lib/sensorsys/disk.so "$work/plugins/"

# drain_ours N: preload, drain, report.
drain_ours() {
  local n=$1 db="$work/buffer-$1.db"
  local common=(--config /dev/null --define plugins.dir="$work/plugins" --define sensors=disk
                --define agent.interval=86400 --define store.path="$db"
                --define agent.status_file="$work/status-$n.json"
                --define sync.url="http://127.0.0.1:$port" --define sync.batch_size=360
                ${DRAIN_DEFINES:-})
  "$agent" "${common[@]}" --status >/dev/null  # creates and migrates the buffer
  python3 - "$db" "$n" <<'PY'
import sqlite3, sys, uuid, time
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
now = int(time.time()) - n * 60
payload = '{"bme280": {"temperature": {"c": 21.53, "f": 70.75}, "pressure": {"hpa": 1013.21}, "humidity": {"rh": 45.12}}, "cpu_temp": {"c": 48.31, "f": 118.96}, "disk": {"total_mb": 29000, "used_mb": 8000, "free_mb": 21000}}'
def rows():
    for i in range(n):
        t = time.gmtime(now + i * 60)
        ts = time.strftime("%Y-%m-%dT%H:%M:%S.000000", t)
        yield (str(uuid.uuid4()), "drain-bench", ts + "Z", ts + "+00:00", payload)
c.executemany("INSERT INTO readings (reading_id, device_id, ts_utc, ts_local, payload) VALUES (?,?,?,?,?)", rows())
c.commit()
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
c.close()
import os
os.sync()  # the preload's dirty pages are written back now, not during the drain
PY
  # Done when the agent's log counts n readings confirmed: one python3 follows the log as it is
  # written (reading on from where it stopped, 20 ms naps at its end), so nothing forks beside
  # the drain it measures. It is started, and has finished starting (python3 may be a pyenv
  # shim: ~0.3 CPU-s of bash), before the clock starts.
  : >"$work/agent-$n.log"
  python3 - "$work/agent-$n.log" "$n" "$work/follow-$n.ready" <<'PY' &
import re, sys, time
path, n, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
done, deadline, pattern = 0, time.monotonic() + 900, re.compile(r" - DEBUG - sync: (\d+) readings: HTTP 2")
with open(path) as log:
    open(ready, "w").close()
    while done < n:
        where = log.tell()
        line = log.readline()
        if not line.endswith("\n"):
            if time.monotonic() > deadline:
                sys.exit(1)
            log.seek(where)
            time.sleep(0.02)
            continue
        m = pattern.search(line)
        done += int(m.group(1)) if m else 0
PY
  local follower=$!
  for _ in $(seq 200); do [[ -e "$work/follow-$n.ready" ]] && break; sleep 0.05; done
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$work/time-$n.txt" "$agent" "${common[@]}" --define logging.level=debug \
    2>>"$work/agent-$n.log" &
  local tpid=$!
  local apid=""
  for _ in $(seq 50); do apid=$(pgrep -P "$tpid" || true); [[ -n "$apid" ]] && break; sleep 0.05; done
  local backlog=1 dirty=0
  # What an operator sees mid-drain (printed once, about a second in).
  ( sleep 1; "$agent" "${common[@]}" --status | sed 's/^/  --status> /' ) &
  local status_pid=$!
  wait "$follower" || echo "drain of $n did not finish within 900 s" >&2
  end=$(date +%s.%N)
  wait "$status_pid" 2>/dev/null || true
  backlog=$("$agent" "${common[@]}" --status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["backlog"])')
  dirty=$(awk '/Private_Dirty/ {print $2}' "/proc/$apid/smaps_rollup" 2>/dev/null || echo 0)
  kill -TERM "$apid"; wait "$tpid" || true
  local rss cpu
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time-$n.txt")
  peak_rss[$n]=$rss
  cpu=$(awk -F': ' '/(User|System) time \(seconds\)/ {s += $2} END {print s + 0}' "$work/time-$n.txt")
  python3 - "$work/agent-$n.log" "$n" "$start" "$end" "$rss" "$dirty" "$backlog" "$cpu" <<'PY'
import re, sys, datetime
log, n, start, end, rss, dirty, backlog, cpu = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7], sys.argv[8]
stamps = []
for line in open(log):
    m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - DEBUG - sync: \d+ readings: HTTP 2", line)
    if m:
        stamps.append(datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp())
gaps = [b - a for a, b in zip(stamps, stamps[1:])]
k = max(1, len(gaps) // 10)
first = sum(gaps[:k]) / k * 1000 if gaps else 0
last = sum(gaps[-k:]) / k * 1000 if gaps else 0
wall = end - start
print(f"RESULT ours drain rows={n} backlog_left={backlog} wall_s={wall:.2f} readings_per_s={n / wall:.0f} "
      f"batches={len(stamps)} first10%_ms_per_batch={first:.1f} last10%_ms_per_batch={last:.1f} "
      f"peak_rss_kib={rss} private_dirty_kib={dirty} agent_cpu_s={cpu}")
PY
}

echo "== ours: drain $SMALL (memory reference)"
drain_ours "$SMALL"
echo "== ours: drain $N"
drain_ours "$N"
echo "== ours: drain $BIG (memory must not grow with the backlog)"
drain_ours "$BIG"
awk -v small="$SMALL" -v big="$BIG" -v a="${peak_rss[$SMALL]}" -v b="${peak_rss[$BIG]}" 'BEGIN {
  printf "RESULT ours peak_rss backlog %d: %d KiB, backlog %d: %d KiB, %+.1f %% (must be within 10 %%)\n",
    small, a, big, b, (b - a) * 100 / a }'

if [[ -x "$seed_dir/bench/drain_bench.sh" && -z "${SKIP_SEED:-}" ]]; then
  echo "== seed: drain $N (read_sensors.py --sync-only against the seed API, same machine)"
  seed_pg=$work/seed-pg
  seed_pg_port=$(free_port)
  seed_api_port=$(free_port)
  "$seed_dir/bench/start_pg.sh" "$seed_pg" "$seed_pg_port" >/dev/null
  "$seed_dir/bench/start_api.sh" "$seed_api_port" "$seed_pg_port" 2 >/dev/null
  PG_DIR=$seed_pg "$seed_dir/bench/drain_bench.sh" "http://127.0.0.1:$seed_api_port" "$seed_pg_port" "$N" \
    --timeout 900 | grep -E "RESULT|peak|RSS" || true
elif [[ -n "${SKIP_SEED:-}" ]]; then
  echo "== seed: skipped (SKIP_SEED is set)"
else
  echo "== seed: skipped ($seed_dir not present)"
fi
