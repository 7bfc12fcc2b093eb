#!/usr/bin/env bash
# The README's first command (issue #5 §1): scripts/demo.sh --duration SECONDS with this build's
# binaries runs PostgreSQL, the server and the agent; while it runs, the curl lines it printed
# return this machine's readings from the server; afterwards it reports the readings the server
# holds, and nothing it started is left: no process, no cluster folder.
#   demo_test.sh SOURCE_DIR BUILD_DIR [SECONDS=14]
set -euo pipefail
src=${1:?usage: demo_test.sh SOURCE_DIR BUILD_DIR [SECONDS]}
build=${2:?usage: demo_test.sh SOURCE_DIR BUILD_DIR [SECONDS]}
seconds=${3:-14}
out=$(mktemp "${TMPDIR:-/tmp}/sensorsys-demo-test.XXXXXX")
demo_pid=""
# On failure the demo is stopped the way Ctrl-C stops it, and waited for (it cleans up).
trap '[[ -n $demo_pid ]] && kill -TERM "$demo_pid" 2>/dev/null && wait "$demo_pid"; rm -f "$out"' EXIT
fail() { echo "demo_test: $*" >&2; echo "--- demo output:" >&2; cat "$out" >&2; exit 1; }

SENSORSYS_DEMO_BUILD_DIR=$build "$src/scripts/demo.sh" --duration "$seconds" >"$out" 2>&1 &
demo_pid=$!

# While it runs: the printed curl lines work (latest reading, range query, metrics).
for _ in $(seq 600); do
  grep -q '^[0-9:]* server holds [1-9]' "$out" && break
  kill -0 "$demo_pid" 2>/dev/null || fail "the demo ended before any reading reached the server"
  sleep 0.1
done
grep -q '^[0-9:]* server holds [1-9]' "$out" || fail "no reading reached the server within 60 s"
latest=$(grep -m1 "^  curl .*/readings/latest" "$out") || fail "no curl line for the latest reading"
range=$(grep -m1 "^  curl .*/readings?start_date=" "$out") || fail "no curl line for the range query"
metrics=$(grep -m1 "^  curl .*/metrics" "$out") || fail "no curl line for the metrics"
device=$(sed -n 's/.*latest?device_id=\([^'"'"']*\).*/\1/p' <<<"$latest")
answer=$(bash -c "${latest#  } -fsS") || fail "the printed latest-reading curl failed: $latest"
grep -q "\"device_id\": *\"$device\"" <<<"$answer" || fail "latest reading is not $device's: $answer"
grep -Eq '"(disk|cpu_temp|bme280)"' <<<"$answer" || fail "latest reading has no real plugin's payload: $answer"
answer=$(bash -c "${range#  } -fsS") || fail "the printed range curl failed: $range"
grep -q '"reading_id"' <<<"$answer" || fail "the range query returned no reading: $answer"
answer=$(bash -c "${metrics#  } -fsS") || fail "the printed metrics curl failed: $metrics"
grep -q '^sensorsys_' <<<"$answer" || fail "the metrics curl returned no sensorsys_ metrics"
# The dashboard URL it printed serves the page.
dashboard=$(sed -n 's/^Dashboard: open \([^ ]*\) in a browser.*/\1/p' "$out" | head -1)
[[ -n $dashboard ]] || fail "no dashboard URL printed"
curl -fsS "$dashboard" | grep -q '<title>sensorsys</title>' || fail "the dashboard URL $dashboard serves no page"

status=0
wait "$demo_pid" || status=$?
demo_pid=""
cat "$out"
((status == 0)) || fail "scripts/demo.sh exited $status"

# Afterwards: readings reached the server, and everything it started is gone.
summary=$(grep -m1 '^demo summary:' "$out") || fail "no 'demo summary' line"
taken=$(sed -n 's/.*the agent took \([0-9]*\) reading.*/\1/p' <<<"$summary")
stored=$(sed -n 's/.*the server returned \([0-9]*\) of them.*/\1/p' <<<"$summary")
((stored >= 3)) || fail "the server holds $stored readings after $seconds s at 2 s (want >= 3)"
# Stopping the agent may cut off the sync of the reading it took last.
((stored <= taken && stored >= taken - 1)) || fail "agent took $taken readings, server holds $stored"
for pid in $(sed -n 's/.*sensorsys-server pid \([0-9]*\).*sensorsys-agent pid \([0-9]*\).*/\1 \2/p' "$out") \
           $(sed -n 's/.*PostgreSQL (data in .*, pid \([0-9]*\)).*/\1/p' "$out"); do
  # Gone, or a zombie (exited; a daemonized postmaster is reaped by whoever adopted it, and in a
  # container that may be nobody): allow a few seconds for the exit itself.
  for _ in $(seq 50); do
    [[ -d /proc/$pid ]] || break
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && break
    sleep 0.1
  done
  if [[ -d /proc/$pid && $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; then
    fail "process $pid ($(tr '\0' ' ' </proc/"$pid"/cmdline)) still runs after the demo"
  fi
done
pg_dir=$(sed -n 's/.*PostgreSQL (data in \(.*\), pid [0-9]*).*/\1/p' "$out")
[[ -n $pg_dir ]] || fail "the demo did not say where PostgreSQL's data was"
[[ ! -e $pg_dir ]] || fail "the cluster folder $pg_dir is still there"
pgrep -f -- "$pg_dir" >/dev/null && fail "a process still uses $pg_dir"
[[ ! -e $build/demo-run/pg.info ]] || fail "the cluster's info file is still there"
echo "ok: $stored of $taken readings reached the server; nothing left running"
