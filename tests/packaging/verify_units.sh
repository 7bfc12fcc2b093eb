#!/usr/bin/env bash
# The systemd units the packages ship: identical to etc/systemd/, accepted by
# `systemd-analyze verify` without a single complaint (it exits 0 even on unknown keys or
# invalid values, so any output fails this test), and hardened (offline exposure score).
#   verify_units.sh PACKAGE_DIR SOURCE_DIR
set -euo pipefail
dir=${1:?usage: verify_units.sh PACKAGE_DIR SOURCE_DIR}
src=${2:?usage: verify_units.sh PACKAGE_DIR SOURCE_DIR}
arch=$(dpkg --print-architecture)
max_exposure=2.5

root=$(mktemp -d "${TMPDIR:-/tmp}/sensorsys-units-XXXXXX")
trap 'rm -rf "$root"' EXIT
# A root holding the packages' files and this machine's stock units (targets the units name).
for package in sensorsys-agent sensorsys-server; do
  debs=("$dir/${package}"_*_"$arch".deb)
  [[ -f "${debs[0]}" ]] || { echo "verify_units: no $package package in $dir" >&2; exit 1; }
  dpkg-deb -x "${debs[0]}" "$root"
done
mkdir -p "$root/lib/systemd/system"
cp -an /lib/systemd/system/. "$root/lib/systemd/system/"

failures=0
for unit in sensorsys-agent.service sensorsys-server.service; do
  shipped=$root/lib/systemd/system/$unit
  [[ -f "$shipped" ]] || { echo "FAIL: $unit is not in /lib/systemd/system of its package" >&2; failures=$((failures + 1)); continue; }
  cmp -s "$shipped" "$src/etc/systemd/$unit" ||
    { echo "FAIL: shipped $unit differs from etc/systemd/$unit" >&2; failures=$((failures + 1)); }
  # Documentation=man:... is checked with man(1): look in the packages' manual pages.
  messages=$(MANPATH="$root/usr/share/man" systemd-analyze verify --root="$root" "$unit" 2>&1) ||
    { echo "FAIL: systemd-analyze verify $unit exited non-zero" >&2; failures=$((failures + 1)); }
  if [[ -n "$messages" ]]; then
    echo "FAIL: systemd-analyze verify $unit complained:" >&2
    echo "$messages" >&2
    failures=$((failures + 1))
  fi
  score=$(systemd-analyze security --offline=yes --root="$root" "$unit" 2>&1 |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  echo "$unit: verify clean, exposure $score (at most $max_exposure)"
  if [[ -z "$score" ]] || ! awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s <= m) }'; then
    echo "FAIL: $unit exposure '$score' above $max_exposure" >&2
    failures=$((failures + 1))
  fi
done
# The agent's devices: I2C buses and the VideoCore mailbox, nothing else beyond the defaults.
grep -qx 'DevicePolicy=closed' "$src/etc/systemd/sensorsys-agent.service" &&
  grep -qx 'DeviceAllow=char-i2c rw' "$src/etc/systemd/sensorsys-agent.service" &&
  grep -qx 'DeviceAllow=/dev/vcio rw' "$src/etc/systemd/sensorsys-agent.service" ||
  { echo "FAIL: agent unit lacks DevicePolicy=closed with /dev/i2c-* and /dev/vcio" >&2; failures=$((failures + 1)); }
((failures == 0)) || { echo "verify_units: $failures failure(s)" >&2; exit 1; }
echo "verify_units: both units verify cleanly"
