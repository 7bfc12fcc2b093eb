#!/usr/bin/env bash
# Sets up, builds and runs sensorsys on this machine: the agent reads this machine's real
# sensors through the built plugins every 2 seconds and prints each reading until Ctrl-C.
#   scripts/demo.sh [--duration SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."

duration=0
while (($#)); do
  case "$1" in
    --duration) duration=${2:?--duration needs seconds}; shift 2 ;;
    *) echo "usage: scripts/demo.sh [--duration SECONDS]" >&2; exit 64 ;;
  esac
done

scripts/install-deps.sh --runtime
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSENSORSYS_BUILD_TESTS=OFF >/dev/null
cmake --build build/demo -j2 --target sensorsys-agent sensorsys_plugin_bme280 \
  sensorsys_plugin_cputemp sensorsys_plugin_disk

# Everything the demo writes stays in build/demo: the buffer, the status file.
agent=(build/demo/bin/sensorsys-agent --config etc/agent.properties
       --define plugins.dir="$PWD/build/demo/lib/sensorsys" --define agent.interval=2
       --define store.path="$PWD/build/demo/buffer.db"
       --define agent.status_file="$PWD/build/demo/status.json")

echo
"${agent[@]}" --list-plugins
echo
echo "Live readings every 2 s (one JSON object per line; logs on stderr). Ctrl-C stops."
if ((duration > 0)); then
  "${agent[@]}" & pid=$!
  trap 'kill -TERM $pid 2>/dev/null || true' INT TERM
  sleep "$duration" || true
  kill -TERM $pid 2>/dev/null || true
  wait $pid
else
  exec "${agent[@]}"
fi
