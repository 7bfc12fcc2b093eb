#!/usr/bin/env bash
# Load (issue #5 §5): two identical runs of LOAD_CONNECTIONS concurrent keep-alive clients (wrk,
# per_connection.lua) against sensorsys-server's read routes (GET /readings/latest, a
# GET /readings range) and write route (POST /readings/bulk). Passes when, in each run, every
# connection was answered at least once, no answer was 5xx (nor 4xx: the requests are valid), wrk
# saw no socket error, and the server's resident memory after run 2 is no higher than after
# run 1 plus LOAD_RSS_TOLERANCE_KIB.
#
#   load_test.sh SERVER_BINARY PG_INFO_FILE [WRK_BINARY]
# Env: LOAD_CONNECTIONS (500), LOAD_SECONDS (30), LOAD_RSS_TOLERANCE_KIB (1024), LOAD_RUNS (2;
#      more runs to see whether RSS keeps climbing: each later run is compared with run 1),
#      LOAD_GLIBC_TUNABLES (glibc.malloc.tcache_count=0:glibc.malloc.arena_max=2; empty: the
#      stock allocator).
#
# Why the server runs without glibc's per-thread cache (tcache) here: with one thread per
# connection, each of the 500 threads keeps up to 7 freed chunks per size class for itself, and
# those caches fill a little more in every run (measured with malloc_stats: "in use" +640, +494,
# +409, +355 KB over five 20 s runs, RSS +900 KiB from run 1 to run 2), bounded but not done
# after two runs — it would hide a leak of ~15 bytes per request or fail the test at random. With
# tcache off, "in use" stayed at 8.21 MB from run 2 to run 4 and RSS moved +36..+148 KiB per run;
# a leak in our code shows the same with or without tcache. For the same reason the arenas are
# capped at 2: with the stock cap (8 per core) which of up to 16 arenas each of the 500 threads
# lands on depends on lock contention, and each arena keeps its own free memory - run-to-run RSS
# moved +124..+1284 KiB with our own keep-alive loop (one failure in 7 runs at the 1 MiB
# tolerance), while malloc's "in use" crept the same ~300 KB as before. The tolerance, 1 MiB, is about 2 KiB
# per connection: less than one leaked bulk body (~2 KiB) per connection, or ~20 bytes per
# request of a run (~50,000 requests).
set -euo pipefail
server=${1:?usage: load_test.sh SERVER_BINARY PG_INFO_FILE [WRK_BINARY]}
info=${2:?usage: load_test.sh SERVER_BINARY PG_INFO_FILE [WRK_BINARY]}
wrk=${3:-wrk}
here=$(cd "$(dirname "$0")" && pwd)
connections=${LOAD_CONNECTIONS:-500}
seconds=${LOAD_SECONDS:-30}
tolerance=${LOAD_RSS_TOLERANCE_KIB:-1024}

# Each side holds one descriptor per connection (plus the server's database pool, logs, ...).
need=$((connections + 256))
if (($(ulimit -n) < need)); then
  hard=$(ulimit -Hn)
  if [[ $hard != unlimited ]] && ((hard < need)); then
    echo "load: open-file limit too low: hard limit $hard < $need for $connections connections" >&2
    exit 1
  fi
  ulimit -n "$need"
fi
echo "load: $connections connections, ${seconds}s per run, open-file limit $(ulimit -n)," \
  "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

conninfo=$(sed -n 's/^CONNINFO=//p' "$info")
[[ -n $conninfo ]] || { echo "load: no CONNINFO in $info (PostgreSQL fixture not started?)" >&2; exit 1; }
dbname=load_$$_$RANDOM
work=$(mktemp -d "${TMPDIR:-/tmp}/sensorsys-load.XXXXXX")
server_pid=""
cleanup() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  psql -X -q "$conninfo" -c "DROP DATABASE IF EXISTS $dbname" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
psql -X -q "$conninfo" -c "CREATE DATABASE $dbname" >/dev/null
db=(--define "database.connection=${conninfo/dbname=postgres/dbname=$dbname}")
"$server" "${db[@]}" --migrate >/dev/null
token=$("$server" "${db[@]}" token create --admin | head -1)

# Sized for the load: POCO serves each connection on its own thread for the connection's life,
# so http.max_threads (and the queue, which the server sets to the same) must exceed the
# connections; 500 clients share the database pool, so a request may wait behind ~500/16 others
# for a connection: pool_wait_ms is raised from 2 s so that waiting is not answered with 503.
GLIBC_TUNABLES=${LOAD_GLIBC_TUNABLES-glibc.malloc.tcache_count=0:glibc.malloc.arena_max=2} \
  "$server" "${db[@]}" --define http.port=0 --define auth.enabled=true \
  --define http.max_threads=1024 --define http.min_threads=16 --define http.backlog=1024 \
  --define http.keep_alive=true --define http.keep_alive_timeout=15 \
  --define http.max_keep_alive_requests=0 --define http.timeout=30 \
  --define database.pool_size=16 --define database.pool_wait_ms=15000 \
  --define logging.requests=false --define limits.max_future=315360000 \
  2>"$work/server.log" &
server_pid=$!
port=""
for _ in $(seq 200); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$work/server.log" | head -1)
  [[ -n $port ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "load: server exited" >&2; exit 1; }
  sleep 0.1
done
[[ -n $port ]] || { echo "load: server logged no 'listening on' within 20 s" >&2; exit 1; }
url=http://127.0.0.1:$port

# What the read routes find: 1,000 readings of device load-fixed, one a minute from 2030-01-01
# (limits.max_future above lets the server take readings dated years ahead).
python3 - >"$work/fixed.json" <<'PY'
import datetime, json
t0 = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
readings = []
for i in range(1000):
    t = (t0 + datetime.timedelta(minutes=i)).isoformat()
    readings.append({"device_id": "load-fixed", "ts_utc": t, "ts_local": t,
                     "payload": {"cpu_temp": {"c": 40 + i % 10, "f": 104 + i % 10}}})
print(json.dumps({"readings": readings}))
PY
curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  --data-binary "@$work/fixed.json" "$url/readings/bulk" >"$work/fixed.out" ||
  { echo "load: seeding the read routes' readings failed" >&2; exit 1; }

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status"; }
# RSS once the server is quiet: after a run the change feed, the live hub and the rollup worker
# may still be working off what the run wrote (on a busy machine several MiB of rows and
# events for some seconds), and idle workers retire (and give their memory back) after 10 s.
# Measured too early, that backlog looked like a leak of ~3 MiB per run; so wait at least 12 s,
# then until two samples 2 s apart have the same number of threads and RSS within 256 KiB (at
# most 60 s).
threads() { ls "/proc/$server_pid/task" | wc -l; }
settled_rss_kib() {
  sleep 12
  local before now threads_before threads_now
  now=$(rss_kib) threads_now=$(threads)
  for _ in $(seq 24); do
    before=$now threads_before=$threads_now
    sleep 2
    now=$(rss_kib) threads_now=$(threads)
    ((now - before < 256 && before - now < 256 && threads_now == threads_before)) && break
  done
  echo "$now"
}
field() { grep '^RESULT ' "$2" | grep -o " $1=[0-9.]*" | cut -d= -f2; }
failed=0
check() {  # NAME WHAT-WAS-SEEN ARITHMETIC-CONDITION
  if (($3)); then echo "  ok: $1 ($2)"; else echo "  FAIL: $1 ($2)" >&2; failed=1; fi
}
rss=()  # KiB after each run, by run number
runs=${LOAD_RUNS:-2}
for ((run = 1; run <= runs; run++)); do
  echo "== run $run: wrk -t$connections -c$connections -d${seconds}s --timeout 10s"
  "$wrk" -t"$connections" -c"$connections" -d"${seconds}s" --timeout 10s \
    -s "$here/per_connection.lua" "$url" -- "$token" >"$work/wrk$run.txt" 2>&1 ||
    { cat "$work/wrk$run.txt" >&2; echo "load: wrk failed in run $run" >&2; exit 1; }
  grep -E '^ +(Latency|Req/Sec)|requests in|Socket errors|Non-2xx|^RESULT' "$work/wrk$run.txt"
  out=$work/wrk$run.txt
  [[ -n $(field answered "$out") ]] || { cat "$out" >&2; echo "load: no RESULT line from wrk" >&2; exit 1; }
  kill -0 "$server_pid" 2>/dev/null || { tail -20 "$work/server.log" >&2; echo "load: server died" >&2; exit 1; }
  rss[$run]=$(settled_rss_kib)
  echo "server RSS after run $run: ${rss[$run]} KiB, $(ls "/proc/$server_pid/fd" | wc -l) open files," \
    "$(threads) threads"
  check "every connection answered" "min $(field per_connection_min "$out") answers per connection, $(field unanswered_connections "$out") of $(field connections "$out") unanswered" \
    "$(field unanswered_connections "$out") == 0 && $(field connections "$out") == connections"
  check "no 5xx" "$(field status_5xx "$out")" "$(field status_5xx "$out") == 0"
  check "no 4xx (every request is valid)" "$(field status_4xx "$out")" "$(field status_4xx "$out") == 0"
  errs=$(($(field err_connect "$out") + $(field err_read "$out") + $(field err_write "$out") + $(field err_timeout "$out")))
  check "no socket errors" "connect/read/write/timeout $(field err_connect "$out")/$(field err_read "$out")/$(field err_write "$out")/$(field err_timeout "$out")" "$errs == 0"
done
for ((run = 2; run <= runs; run++)); do
  check "server RSS after run $run <= after run 1 + $tolerance KiB" \
    "${rss[1]} -> ${rss[$run]} KiB, $((rss[run] - rss[1])) KiB" "${rss[run]} <= ${rss[1]} + tolerance"
done
if grep -q ' - CRITICAL - \| - ERROR - ' "$work/server.log"; then
  grep ' - CRITICAL - \| - ERROR - ' "$work/server.log" | head -5 >&2
  echo "  FAIL: the server logged errors" >&2
  failed=1
fi
exit "$failed"
