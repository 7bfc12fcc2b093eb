#!/usr/bin/env bash
# The README's example plugin, built out of tree against the installed SDK (plugin.h and the
# CMake package only), dropped into a plugin folder and read by the real agent.
#   sdk_plugin_test.sh SOURCE_DIR BUILD_DIR AGENT_BINARY
set -euo pipefail
src=$1 build=$2 agent=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/sensorsys-sdk-XXXXXX")
trap 'rm -rf "$work"' EXIT

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
grep -q "uptime 1.0.0 ABI 1.0 loaded" "$work/list.txt"
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
