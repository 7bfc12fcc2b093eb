#!/usr/bin/env bash
# Runs the whole sensorsys system on this machine: a throwaway PostgreSQL cluster,
# sensorsys-server on it (auth on, a device token made for the demo) and sensorsys-agent reading
# this machine's real sensors through the built plugins every 2 seconds, buffering in SQLite and
# syncing to the server. Prints where to look (curl lines), then each new reading as the server
# returns it, until Ctrl-C; then stops everything and removes the cluster.
#
#   scripts/demo.sh [--duration SECONDS]
#
# Apart from installing missing packages (scripts/install-deps.sh --runtime) it touches nothing
# outside its build folder and the cluster's mktemp folder under /tmp (removed at exit; as root
# PostgreSQL runs as user postgres, which must be able to reach its data folder).
# Env: SENSORSYS_DEMO_BUILD_DIR=DIR  use the binaries already built in DIR (bin/sensorsys-agent,
#      server/sensorsys-server, lib/sensorsys/*.so) instead of configuring and building
#      build/demo (the e2e test passes its own build folder this way).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

usage() { echo "usage: scripts/demo.sh [--duration SECONDS]" >&2; exit 64; }
duration=0
while (($#)); do
  case "$1" in
    --duration)
      [[ ${2:-} =~ ^[0-9]+$ ]] || { echo "demo: --duration needs whole seconds, got '${2:-}'" >&2; usage; }
      duration=$2; shift 2 ;;
    -h|--help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "demo: unknown argument '$1'" >&2; usage ;;
  esac
done

interval=2
scripts/install-deps.sh --runtime
if [[ -n ${SENSORSYS_DEMO_BUILD_DIR:-} ]]; then
  build=$(cd "$SENSORSYS_DEMO_BUILD_DIR" 2>/dev/null && pwd) ||
    { echo "demo: SENSORSYS_DEMO_BUILD_DIR=$SENSORSYS_DEMO_BUILD_DIR is not a folder" >&2; exit 1; }
else
  build=$root/build/demo
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSENSORSYS_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j2 --target sensorsys-agent sensorsys-server sensorsys_plugin_bme280 \
    sensorsys_plugin_cputemp sensorsys_plugin_disk
fi
agent=$build/bin/sensorsys-agent
server=$build/server/sensorsys-server
[[ -x $server ]] || server=$build/bin/sensorsys-server
plugins=$build/lib/sensorsys
for f in "$agent" "$server"; do
  [[ -x $f ]] || { echo "demo: $f is missing: build it first (or unset SENSORSYS_DEMO_BUILD_DIR)" >&2; exit 1; }
done
compgen -G "$plugins/*.so" >/dev/null || { echo "demo: no plugins in $plugins" >&2; exit 1; }

# Everything the demo writes stays in $run (buffer, logs; kept for a look after the demo, replaced
# by the next run) and in the cluster's own folder under /tmp (removed at exit).
run=$build/demo-run
rm -rf "$run"
mkdir -p "$run"

pg_info=$run/pg.info
agent_pid="" server_pid="" stop_requested=0 cleaned=0
stop_process() {  # NAME PID: SIGTERM, wait up to 10 s, then SIGKILL; prints how it ended
  local name=$1 pid=$2 code=0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "demo: $name (pid $pid) did not stop within 10 s of SIGTERM: killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || code=$?
  echo "stopped $name (pid $pid, exit $code)"
  return "$code"
}
cleanup() {
  ((cleaned)) && return 0
  cleaned=1
  local status=0
  # Agent first, so its last sync still finds the server; the server before its database.
  [[ -n $agent_pid ]] && { stop_process sensorsys-agent "$agent_pid" || status=1; }
  agent_pid=""
  [[ -n $server_pid ]] && { stop_process sensorsys-server "$server_pid" || status=1; }
  server_pid=""
  if [[ -f $pg_info ]]; then
    setsid --wait tests/support/pg_cluster.sh stop "$pg_info" || status=1
  fi
  return "$status"
}
trap 'cleanup || true' EXIT
# The programs run in sessions of their own (setsid; pg_ctl does the same for PostgreSQL), so
# Ctrl-C reaches only this script, which stops them in order (cleanup).
trap 'stop_requested=1' INT TERM HUP

echo
echo "== PostgreSQL (throwaway cluster)"
# In its own session, so a Ctrl-C cannot cut initdb short and leave a half-made folder behind.
setsid --wait tests/support/pg_cluster.sh start "$pg_info"
pg_dir=$(sed -n 's/^PGDIR=//p' "$pg_info")
conninfo=$(sed -n 's/^CONNINFO=//p' "$pg_info")
db=(--define "database.connection=$conninfo")

echo "== sensorsys-server (auth on)"
"$server" "${db[@]}" --migrate
device=$(uname -n | tr -c 'A-Za-z0-9._\n-' '-')
device=demo-${device:-host}
device_token=$("$server" "${db[@]}" token create --device "$device" | head -1)
read_token=$("$server" "${db[@]}" token create --read | head -1)
[[ $device_token == sst_* && $read_token == sst_* ]] ||
  { echo "demo: 'sensorsys-server token create' printed no token" >&2; exit 1; }
# The dashboard's files from this checkout (the package installs them in /usr/share/sensorsys/www).
setsid "$server" "${db[@]}" --define http.port=0 --define auth.enabled=true \
  --define http.www_dir="$root/www" 2>"$run/server.log" &
server_pid=$!
port=""
for _ in $(seq 200); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$run/server.log" | head -1)
  [[ -n $port ]] && break
  kill -0 "$server_pid" 2>/dev/null ||
    { cat "$run/server.log" >&2; echo "demo: sensorsys-server exited at start (log above)" >&2; exit 1; }
  sleep 0.1
done
[[ -n $port ]] || { echo "demo: sensorsys-server logged no 'listening on' line within 20 s" >&2; exit 1; }
url=http://127.0.0.1:$port

echo "== sensorsys-agent (this machine's plugins, every $interval s)"
# The plugins built above, which work unconfigured (motion needs sensor.NAME.line).
agent_args=(--config etc/agent.properties --define plugins.dir="$plugins"
            --define sensors=bme280,cpu_temp,disk
            --define agent.device_id="$device" --define agent.interval="$interval"
            --define store.path="$run/buffer.db" --define agent.status_file="$run/status.json"
            --define sync.url="$url" --define sync.token="$device_token")
"$agent" "${agent_args[@]}" --list-plugins
setsid "$agent" "${agent_args[@]}" >/dev/null 2>"$run/agent.log" &
agent_pid=$!

# GET on the API with the read token, over bash's /dev/tcp (no curl needed): the body, or
# nothing when the server did not answer 200 within 5 s.
api_get() {
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n" "$2" "$3" >&3
    cat <&3' _ "$port" "$1" "$read_token" 2>/dev/null |
    tr -d '\r' | awk 'NR == 1 && $2 != 200 { exit } body { print } /^$/ { body = 1 }'
}
day() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
range="/readings?start_date=$(day '1 hour ago')&end_date=$(day '1 day')&device_id=$device"

cat <<EOF

== running: PostgreSQL (data in $pg_dir, pid $(head -1 "$pg_dir/data/postmaster.pid"))
            sensorsys-server pid $server_pid on $url, sensorsys-agent pid $agent_pid (device $device)
Logs and the agent's buffer: $run

Dashboard: open $url/ in a browser and sign in with this read token:
  $read_token

Where else to look (a read token; the agent writes with its own device token):
  curl -H 'Authorization: Bearer $read_token' '$url/readings/latest?device_id=$device'
  curl -H 'Authorization: Bearer $read_token' '$url$range'
  curl $url/metrics
  $agent --status --config etc/agent.properties --define store.path=$run/buffer.db --define agent.status_file=$run/status.json

New readings as the server returns them (GET /readings/latest), every $interval s.
EOF
if ((duration > 0)); then echo "Stops by itself after $duration s (or Ctrl-C)."; else echo "Ctrl-C stops everything."; fi

deadline=$((SECONDS + duration))
last=""
while ((!stop_requested)) && ((duration == 0 || SECONDS < deadline)); do
  if ! kill -0 "$agent_pid" 2>/dev/null; then
    tail -20 "$run/agent.log" >&2; echo "demo: sensorsys-agent exited (log above)" >&2; exit 1
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    tail -20 "$run/server.log" >&2; echo "demo: sensorsys-server exited (log above)" >&2; exit 1
  fi
  latest=$(api_get "/readings/latest?device_id=$device" || true)
  if [[ -n $latest && $latest != "$last" ]]; then
    stored=$(api_get /devices | grep -o '{[^{}]*}' | grep "\"device_id\" *: *\"$device\"" |
             sed -n 's/.*"readings" *: *\([0-9]*\).*/\1/p' || true)
    taken_at=$(sed -n 's/.*"ts_local" *: *"\([^"]*\)".*/\1/p' <<<"$latest")
    echo "$(date +%T) server holds ${stored:-?} reading(s) of $device; latest, taken $taken_at:"
    echo "         $(sed 's/.*"payload" *: *//; s/}$//' <<<"$latest")"
    last=$latest
  fi
  sleep 1 || true
done

echo
echo "== stopping"
# The agent stops first; then the server still answers how many readings reached it.
stop_process sensorsys-agent "$agent_pid" || { agent_pid=""; exit 1; }
agent_pid=""
taken=$(sed -n 's/.*"produced" *: *\([0-9]*\).*/\1/p' "$run/status.json" 2>/dev/null | head -1)
stored=$({ api_get "$range&limit=10000" || true; } | { grep -o '"reading_id"' || true; } | wc -l)
cleanup || exit 1
echo "demo summary: the agent took ${taken:-?} reading(s); the server returned $stored of them" \
  "(GET /readings); agent, server and PostgreSQL stopped, $pg_dir removed"
