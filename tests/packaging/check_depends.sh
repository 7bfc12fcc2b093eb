#!/usr/bin/env bash
# The packages' Depends come from dpkg-shlibdeps: each package holding a binary depends on the
# libraries its binaries link (a silently empty Depends is the known CPack trap when
# dpkg-shlibdeps finds nothing), and every package is of the expected architecture.
#   check_depends.sh PACKAGE_DIR [ARCH]     ARCH defaults to dpkg --print-architecture
set -euo pipefail
dir=${1:?usage: check_depends.sh PACKAGE_DIR [ARCH]}
arch=${2:-$(dpkg --print-architecture)}

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

deb_of() {  # package -> its .deb in $dir
  local found=("$dir/$1"_*_"$arch".deb)
  [[ -f "${found[0]}" ]] || { echo "check_depends: no $1 package for $arch in $dir" >&2; exit 1; }
  echo "${found[0]}"
}

# package : libraries (Debian package names) its binaries must bring in
expect() {
  local package=$1; shift
  local deb depends
  deb=$(deb_of "$package")
  depends=$(dpkg-deb -f "$deb" Depends)
  echo "$package Depends: $depends"
  [[ "$(dpkg-deb -f "$deb" Architecture)" == "$arch" ]] ||
    fail "$package: Architecture $(dpkg-deb -f "$deb" Architecture), expected $arch"
  for lib in "$@"; do
    # The package names of the comma-separated list, without the version constraints.
    sed 's/ *([^)]*)//g; s/, */\n/g' <<<"$depends" | grep -qFx -- "$lib" ||
      fail "$package: Depends lacks '$lib' (dpkg-shlibdeps did not resolve the binaries' libraries?)"
  done
}

expect sensorsys-agent libc6 libstdc++6 libpocofoundation80 libpocoutil80 libpocodata80 \
  libpocodatasqlite80 libpocodatapostgresql80 libpoconet80 libpoconetssl80 adduser
expect sensorsys-server libc6 libstdc++6 libpocofoundation80 libpoconet80 libpocodatapostgresql80 \
  adduser
expect sensorsys-plugins libc6 libstdc++6 libpocofoundation80 libpocojson80 libgpiod2 sensorsys-agent
deb=$(deb_of sensorsys-dev)
echo "sensorsys-dev Depends: $(dpkg-deb -f "$deb" Depends) (header and CMake files only)"

if ((failures)); then
  echo "check_depends: $failures problem(s)" >&2
  exit 1
fi
echo "check_depends: Depends of every $arch package come from its binaries"
