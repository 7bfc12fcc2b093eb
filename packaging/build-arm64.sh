#!/usr/bin/env bash
# One command for the Raspberry Pi: cross-builds the four Debian packages for arm64 (Raspberry
# Pi OS 64-bit) against a sysroot made from Debian's arm64 packages, checks that their Depends
# came from dpkg-shlibdeps and that lintian finds no error, then runs the packaged arm64 agent
# under qemu-user: --version, --list-plugins (every arm64 plugin) and --once.
#   packaging/build-arm64.sh         arm64; outputs in build/cross/arm64/, the .debs in
#                                    build/cross/arm64/build/packages/
#   packaging/build-arm64.sh armhf   the same for 32-bit Raspberry Pi OS (Pi 2/3/Zero 2)
# Missing tools (the cross compiler, qemu-user, ...) are installed by scripts/install-deps.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
arch=${1:-arm64}
case "$arch" in
  arm64) triplet=aarch64-linux-gnu qemu=qemu-aarch64 elf='ARM aarch64' ;;
  armhf) triplet=arm-linux-gnueabihf qemu=qemu-arm elf='ARM, EABI5' ;;
  *) echo "build-arm64: unknown architecture '$arch' (arm64 or armhf)" >&2; exit 2 ;;
esac
tools=("$triplet-g++" "$qemu" dpkg-deb python3)
missing_tools() { for tool in "${tools[@]}"; do command -v "$tool" >/dev/null || echo "$tool"; done; }
if [[ -n $(missing_tools) ]]; then
  deps=("$src/scripts/install-deps.sh")
  [[ $arch == armhf ]] && deps+=(--armhf)
  "${deps[@]}"
  missing=$(missing_tools)
  [[ -z $missing ]] || { echo "build-arm64: still missing after install-deps: $missing" >&2; exit 1; }
fi
started=$(date +%s)
out=$src/build/cross/$arch

"$here/cross/make-sysroot.sh" "$arch" "$out"
sysroot=$out/sysroot
"$here/build-packages.sh" --toolchain "$here/cross/toolchain-$arch.cmake" --sysroot "$sysroot" \
  --build-dir "$out/build"
pkg_dir=$out/build/packages
bash "$src/tests/packaging/check_depends.sh" "$pkg_dir" "$arch"
bash "$src/tests/packaging/lintian.sh" "$pkg_dir" "$here/README.md"

# The packaged files, extracted as dpkg would install them, run under qemu with the sysroot
# as the target's / for the dynamic loader and libraries.
stage=$out/stage
rm -rf "$stage"
for package in sensorsys-agent sensorsys-plugins sensorsys-server; do
  dpkg-deb -x "$pkg_dir/${package}"_*_"$arch".deb "$stage"
done
desc=$(file -L "$stage/usr/bin/sensorsys-agent")
[[ "$desc" == *"$elf"* ]] || { echo "build-arm64: not an $arch binary: $desc" >&2; exit 1; }
run() { "$qemu" -L "$sysroot" "$@"; }
agent=("$stage/usr/bin/sensorsys-agent" --config "$stage/etc/sensorsys/agent.properties"
       --define "plugins.dir=$stage/usr/lib/sensorsys")
echo "== $qemu: sensorsys-agent --version"
run "${agent[0]}" --version
echo "== $qemu: sensorsys-agent --list-plugins"
run "${agent[@]}" --list-plugins | tee "$out/list-plugins.txt"
for plugin in bme280 bh1750 cpu_temp disk ds18b20 exec motion sgp30; do
  grep -qE "^  $plugin [0-9.]+ ABI [0-9.]+ loaded from $plugin\.so" "$out/list-plugins.txt" || {
    echo "build-arm64: the $arch agent did not load the $plugin plugin under $qemu" >&2
    exit 1
  }
done
desc=$(file -L "$stage/usr/bin/sensorsys-plugin-host")
[[ "$desc" == *"$elf"* ]] || { echo "build-arm64: not an $arch plugin host: $desc" >&2; exit 1; }
echo "== $qemu: sensorsys-plugin-host (usage, exit 2)"
run "$stage/usr/bin/sensorsys-plugin-host" 2>&1 | sed -n 1p || true
echo "== $arch binary sizes (bytes)"
stat -c '  %n %s' "$stage/usr/bin/sensorsys-agent" "$stage/usr/bin/sensorsys-plugin-host"
echo "== $qemu: sensorsys-agent --once"
# Thread isolation: qemu-user runs the agent, but the hosts it spawns are arm64 programs the
# kernel can only start here when binfmt_misc knows qemu.
run "${agent[@]}" --once --define "agent.device_id=pi-$arch-qemu" \
  --define plugins.isolation=thread >"$out/once.json" 2>"$out/once.log"
cat "$out/once.json"
python3 - "$out/once.json" <<'PY'
import json, sys
reading = json.load(open(sys.argv[1]))
payload = reading["payload"]
# motion is not started without its GPIO line (a warning says so); the others report errors
# or values of this emulated machine.
assert set(payload) == {"bme280", "bh1750", "cpu_temp", "disk", "ds18b20", "exec", "sgp30"}, payload
assert payload["disk"]["total_mb"] > 0, payload
PY
echo "== $qemu: sensorsys-server --help"
run "$stage/usr/bin/sensorsys-server" --help | sed -n 1p
ls -l "$pkg_dir"/*.deb
echo "build-arm64: $arch packages built and the agent ran under $qemu in $(($(date +%s) - started)) s"
