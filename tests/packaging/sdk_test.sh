#!/usr/bin/env bash
# SDK test: a plugin in C (sdk_plugin/) built out of tree against the installed sensorsys-dev
# only (find_package(sensorsys) from /usr, no path into the source tree), copied into
# /usr/lib/sensorsys, shows up in the installed agent's --list-plugins and in --once.
# Installs into / : only on a throwaway CI machine (see lib.sh), else skipped (exit 77).
#   sdk_test.sh PACKAGE_DIR PLUGIN_SOURCE_DIR
set -euo pipefail
pkg_dir=${1:?usage: sdk_test.sh PACKAGE_DIR PLUGIN_SOURCE_DIR}
plugin_src=${2:?usage: sdk_test.sh PACKAGE_DIR PLUGIN_SOURCE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
require_throwaway_machine

arch=$(dpkg --print-architecture)
packages=(sensorsys-dev sensorsys-agent sensorsys-plugins)
mapfile -t debs < <(debs_for "$arch" "${packages[@]}")
work=$(mktemp -d "${TMPDIR:-/tmp}/sensorsys-sdktest-XXXXXX")
cleanup() {
  local rc=$?
  rm -f /usr/lib/sensorsys/loadavg.so
  dpkg --purge "${packages[@]}" >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

dpkg -i "${debs[@]}" >/dev/null
echo "installed: ${debs[*]##*/}"

# Only the plugin's own two files: nothing else of the source tree is visible to its build.
cp "$plugin_src/CMakeLists.txt" "$plugin_src/loadavg.c" "$work/"
cmake -S "$work" -B "$work/build" | tee "$work/configure.log"
check "find_package(sensorsys) found the installed SDK" \
  grep -q "sensorsys SDK from /usr/lib/.*/cmake/sensorsys, plugins go to /usr/lib/sensorsys" "$work/configure.log"
cmake --build "$work/build"
check "loadavg.so exports only the entry function" \
  test "$(nm -D --defined-only "$work/build/loadavg.so" | awk '$2 == "T" { print $3 }')" = sensorsys_plugin_entry
install -m 644 "$work/build/loadavg.so" /usr/lib/sensorsys/

/usr/bin/sensorsys-agent --list-plugins | tee "$work/plugins.txt"
check "--list-plugins shows the SDK plugin loaded" \
  grep -qE '^  loadavg 2\.3\.4 ABI [0-9.]+ loaded from loadavg\.so' "$work/plugins.txt"
for plugin in bme280 bh1750 cpu_temp disk ds18b20 exec motion sgp30; do
  check "--list-plugins still shows $plugin" grep -qE "^  $plugin .* loaded from $plugin\.so" "$work/plugins.txt"
done
/usr/bin/sensorsys-agent --once --define agent.device_id=sdk-pkg-test >"$work/once.json" 2>"$work/once.log"
cat "$work/once.json"
check "--once holds the SDK plugin's reading" python3 - "$work/once.json" <<'PY'
import json, sys
payload = json.load(open(sys.argv[1]))["payload"]
value = payload["loadavg"]["one_minute"]
assert isinstance(value, (int, float)) and value >= 0, payload
assert "disk" in payload, payload
PY

rm /usr/lib/sensorsys/loadavg.so
dpkg --purge "${packages[@]}" >/dev/null
check "purged: no plugin folder left" test ! -e /usr/lib/sensorsys
if ((failures)); then
  echo "sdk_test: $failures check(s) failed" >&2
  exit 1
fi
echo "sdk_test: a C plugin built against the installed sensorsys-dev loads and reads"
