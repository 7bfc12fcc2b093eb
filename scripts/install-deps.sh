#!/usr/bin/env bash
# Installs what sensorsys needs to build, test and run, by Debian package name.
# Idempotent: only packages that are missing are installed. Works as root or through sudo.
#   scripts/install-deps.sh            build + runtime + test dependencies
#   scripts/install-deps.sh --runtime  only what building and running the demo needs
#   scripts/install-deps.sh --armhf    everything, plus the 32-bit Raspberry Pi OS cross compiler
#                                      (packaging/build-arm64.sh armhf; not built in CI)
set -euo pipefail

runtime_only=0 armhf=0
for arg in "$@"; do
  case "$arg" in
    --runtime) runtime_only=1 ;;
    --armhf) armhf=1 ;;
    *) echo "install-deps: unknown option '$arg' (--runtime or --armhf)" >&2; exit 64 ;;
  esac
done

build_pkgs=(cmake make g++ pkg-config libpoco-dev libpq-dev libssl-dev libsqlite3-dev libboost-dev libgpiod-dev
            postgresql libjs-chart.js)  # libjs-chart.js: the dashboard's charts
test_pkgs=(libgtest-dev libgmock-dev clang clang-format clang-tidy clang-tools libclang-rt-dev python3 curl
           wrk hyperfine time nginx openssl prometheus
           pgbouncer  # the server's PgBouncer tests (tests/server/pgbouncer_test.cpp)
           node-llhttp libbenchmark-dev  # llhttp: the framing fuzzer's reference parser
           chromium chromium-driver python3-selenium)  # the dashboard's browser tests
# Debian packages (packaging/): build, check, and cross-build for the Pi (arm64) run under qemu.
packaging_pkgs=(dpkg-dev fakeroot file lintian systemd adduser crossbuild-essential-arm64 qemu-user)

pkgs=("${build_pkgs[@]}")
((runtime_only)) || pkgs+=("${test_pkgs[@]}" "${packaging_pkgs[@]}")
((armhf)) && pkgs+=(crossbuild-essential-armhf)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packages like postgresql and nginx start a system service when installed; the tests start
# their own on private ports, so keep the system ones from starting (policy-rc.d, removed after).
policy=/usr/sbin/policy-rc.d
added_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 755 "$policy"
  added_policy=1
fi
trap '((added_policy)) && "${SUDO[@]}" rm -f "$policy"' EXIT

# Another apt or dpkg (an unattended upgrade, a second terminal) holds its locks: wait for it
# instead of failing at once; apt-get's own lock timeout does not cover `apt-get update`.
wait_for_apt() {
  local waited=0 holder
  while holder=$(lslocks -n -o PID,PATH 2>/dev/null |
                 grep -E '/var/lib/(dpkg/lock(-frontend)?|apt/lists/lock)$' | head -n 1) &&
        [[ -n $holder ]]; do
    if ((waited >= 600)); then
      echo "install-deps: apt/dpkg still locked after 600 s (${holder})" >&2
      exit 1
    fi
    ((waited % 30 == 0)) && echo "install-deps: waiting for another apt/dpkg to finish (${holder})"
    sleep 2
    waited=$((waited + 2))
  done
}
wait_for_apt
"${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 update -q
wait_for_apt
"${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
