#!/usr/bin/env bash
# plugins/ds18b20 is plain C against plugin.h alone: built here out of tree against the installed
# SDK only (`cmake --install --component dev` into a temporary prefix, from a copy of its folder
# so nothing else of the source tree is reachable), then loaded by the real agent:
# --list-plugins --json shows it loaded, and --once reads a fake /sys/bus/w1/devices tree.
#   sdk_ds18b20_test.sh SOURCE_DIR BUILD_DIR AGENT_BINARY
set -euo pipefail
src=$1 build=$2 agent=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/sensorsys-sdk-ds18b20-XXXXXX")
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" --component dev >/dev/null
test -f "$work/prefix/include/sensorsys/plugin.h"

cp -r "$src/plugins/ds18b20" "$work/ds18b20"
cmake -S "$work/ds18b20" -B "$work/ds18b20/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/ds18b20/build" >/dev/null
exports=$(nm -D --defined-only "$work/ds18b20/build/ds18b20.so" | awk '$2 == "T" { print $3 }')
[[ $exports == sensorsys_plugin_entry ]] || { echo "ds18b20.so exports: $exports" >&2; exit 1; }
mkdir -m 755 "$work/plugins"
cp "$work/ds18b20/build/ds18b20.so" "$work/plugins/"

"$agent" --config /dev/null --list-plugins --json --define plugins.dir="$work/plugins" \
  | tee "$work/list.json"
python3 - "$work/list.json" <<'PY'
import json, sys
plugins = json.load(open(sys.argv[1]))["plugins"]
assert [p["name"] for p in plugins] == ["ds18b20"], plugins
assert plugins[0]["status"] == "loaded" and plugins[0]["abi"] == "1.1", plugins
print("ok: the out-of-tree ds18b20.so loads with ABI 1.1")
PY

# Two probes as the kernel's w1_therm shows them, beside the bus master's own folder.
w1=$work/w1
mkdir -p "$w1/w1_bus_master1" "$w1/28-0316a2794dff" "$w1/28-0416b1c2d3e4"
printf '72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=21562\n' \
  > "$w1/28-0316a2794dff/w1_slave"
printf '50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n' \
  > "$w1/28-0416b1c2d3e4/w1_slave"
"$agent" --config /dev/null --once --define plugins.dir="$work/plugins" \
  --define agent.device_id=sdk-test --define sensor.ds18b20.w1_path="$w1" > "$work/reading.json"
cat "$work/reading.json"
python3 - "$work/reading.json" <<'PY'
import json, sys
probes = json.load(open(sys.argv[1]))["payload"]["ds18b20"]
assert probes["28-0316a2794dff"] == {"c": 21.56, "f": 70.81}, probes
assert "power-on" in probes["28-0416b1c2d3e4"]["error"], probes
print("ok: the out-of-tree ds18b20.so read the fake 1-Wire tree through the agent")
PY
