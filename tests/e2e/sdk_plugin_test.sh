#!/usr/bin/env bash
# The README's example plugin, built out of tree against the installed SDK (plugin.h and the
# CMake package only), dropped into a plugin folder and read by the real agent. With a server
# and a PostgreSQL cluster: dropped into the folder of an agent that already ran, it is loaded
# at the agent's next start and its readings reach the server (GET /readings).
#   sdk_plugin_test.sh SOURCE_DIR BUILD_DIR AGENT_BINARY [SERVER_BINARY PG_INFO_FILE]
set -euo pipefail
src=$1 build=$2 agent=$3 server=${4:-} pg_info=${5:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/sensorsys-sdk-XXXXXX")
pids=() conninfo="" dbname=sdk_$$_$RANDOM
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  [[ -n $conninfo ]] && psql -X -q "$conninfo" -c "DROP DATABASE IF EXISTS $dbname" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

cmake --install "$build" --prefix "$work/prefix" --component dev >/dev/null
test -f "$work/prefix/include/sensorsys/plugin.h"

# Every block the README marks with <!-- sdk-example: FILE --> becomes FILE.
mkdir -p "$work/plugin"
awk -v dir="$work/plugin" '
  /<!-- sdk-example: [^ ]+ -->/ { match($0, /sdk-example: [^ ]+/); file = substr($0, RSTART + 13, RLENGTH - 13); next }
  file != "" && /^```/ { if (inside) { inside = 0; file = "" } else { inside = 1 } ; next }
  inside { print > (dir "/" file) }
' "$src/README.md"
for f in CMakeLists.txt uptime.c; do
  [[ -s "$work/plugin/$f" ]] || { echo "README has no sdk-example block for $f" >&2; exit 1; }
done

cmake -S "$work/plugin" -B "$work/plugin/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/plugin/build" >/dev/null
mkdir -m 755 "$work/plugins"
cp "$work/plugin/build/uptime.so" "$work/plugins/"

"$agent" --list-plugins --define plugins.dir="$work/plugins" | tee "$work/list.txt"
grep -q "uptime 1.0.0 ABI 1.1 loaded" "$work/list.txt"
"$agent" --once --define plugins.dir="$work/plugins" --define agent.device_id=sdk-test \
  > "$work/reading.json"
cat "$work/reading.json"
python3 - "$work/reading.json" <<'PY'
import json, sys
reading = json.load(open(sys.argv[1]))
seconds = reading["payload"]["uptime"]["seconds"]
assert isinstance(seconds, (int, float)) and seconds > 0, reading
print("ok: uptime plugin read", seconds)
PY

[[ -n $server ]] || { echo "no server given: the agent-to-server part is skipped"; exit 0; }

# The agent's next start: it runs first without the plugin (with the built disk plugin, else
# the test fixture example_c), then uptime.so is dropped into its folder and it is restarted.
conninfo=$(sed -n 's/^CONNINFO=//p' "$pg_info")
[[ -n $conninfo ]] || { echo "no CONNINFO in $pg_info" >&2; exit 1; }
psql -X -q "$conninfo" -c "CREATE DATABASE $dbname" >/dev/null
db=(--define "database.connection=${conninfo/dbname=postgres/dbname=$dbname}")
"$server" "${db[@]}" --migrate >/dev/null
device_token=$("$server" "${db[@]}" token create --device sdk-test | head -1)
read_token=$("$server" "${db[@]}" token create --read | head -1)
"$server" "${db[@]}" --define http.port=0 --define auth.enabled=true 2>"$work/server.log" &
pids+=($!)
port=""
for _ in $(seq 200); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$work/server.log" | head -1)
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n $port ]] || { cat "$work/server.log" >&2; echo "the server logged no 'listening on'" >&2; exit 1; }

mkdir -m 755 "$work/live-plugins"
for first in "$build/lib/sensorsys/disk.so" "$build/test-plugins/example_c.so" ""; do
  [[ -z $first || -f $first ]] && break
done
[[ -n $first ]] || { echo "neither disk.so nor example_c.so is built: nothing to run first" >&2; exit 1; }
install -m 644 "$first" "$work/live-plugins/"
run_agent() {
  "$agent" --config /dev/null --define plugins.dir="$work/live-plugins" \
    --define agent.device_id=sdk-test --define agent.interval=0.5 \
    --define store.path="$work/buffer.db" --define agent.status_file="$work/status.json" \
    --define sync.url="http://127.0.0.1:$port" --define sync.token="$device_token" \
    --define sync.backoff_max=1 >/dev/null 2>>"$work/agent.log" &
  pids+=($!)
}
stop_agent() {
  local pid=${pids[-1]}
  kill -TERM "$pid"
  wait "$pid" || { cat "$work/agent.log" >&2; echo "the agent did not exit 0 on SIGTERM" >&2; exit 1; }
  unset 'pids[-1]'
}
# How many readings of sdk-test the server returns, and how many of them carry uptime.
server_counts() {
  curl -fsS -H "Authorization: Bearer $read_token" \
    "http://127.0.0.1:$port/readings?start_date=2000-01-01T00:00:00Z&end_date=2100-01-01T00:00:00Z&device_id=sdk-test" |
    python3 -c '
import json, sys
rows = json.load(sys.stdin)
good = [r for r in rows if isinstance(r["payload"].get("uptime", {}).get("seconds"), (int, float))
        and r["payload"]["uptime"]["seconds"] > 0]
print(len(rows), len(good))'
}
wait_for() {  # DESCRIPTION PYTHON-CONDITION-ON-(total, uptime)
  local counts
  for _ in $(seq 150); do
    counts=$(server_counts 2>/dev/null || echo "0 0")
    python3 -c "import sys; total, uptime = map(int, sys.argv[1:]); sys.exit(0 if $2 else 1)" $counts && return 0
    sleep 0.1
  done
  cat "$work/agent.log" >&2
  echo "not within 15 s: $1 (server has total/uptime: $counts)" >&2
  exit 1
}

run_agent
wait_for "readings of the agent without the plugin reach the server" "total > 0 and uptime == 0"
stop_agent
install -m 644 "$work/plugin/build/uptime.so" "$work/live-plugins/"
run_agent
wait_for "a reading with the new plugin's data reaches the server" "uptime > 0"
stop_agent
echo "ok: uptime.so, dropped in, was loaded at the agent's next start; its data reached the server"
