#!/usr/bin/env bash
# Makes a sysroot for cross-building sensorsys: the target architecture's -dev packages,
# extracted from Debian's own .debs, without touching this machine's dpkg database.
#   packaging/cross/make-sysroot.sh ARCH DIR      e.g. arm64 build/cross/arm64
# Leaves DIR/sysroot (headers, libraries, relative symlinks, and DIR/sysroot/DEBIAN/shlibs and
# symbols so dpkg-shlibdeps computes Depends for the cross-built binaries) and DIR/debs.
# Multiarch (:arm64 -dev packages) cannot be used here: libpq-dev and libmariadb-dev are
# Multi-Arch: no, so installing the :arm64 ones would remove the amd64 ones (docs/stack-notes.md).
# Re-running with a complete sysroot for the same package list does nothing.
set -euo pipefail

arch=${1:-}
out=${2:-}
if [[ -z "$arch" || -z "$out" ]]; then
  echo "usage: $0 ARCH DIR   (ARCH: a Debian architecture such as arm64 or armhf)" >&2
  exit 2
fi
pkgs=(libpoco-dev libpq-dev libssl-dev libsqlite3-dev libboost-dev libgpiod-dev libc6-dev
      libstdc++-12-dev)

mkdir -p "$out"
out=$(cd "$out" && pwd)
sysroot=$out/sysroot
stamp=$sysroot/.sensorsys-sysroot
if [[ -f "$stamp" && "$(cat "$stamp")" == "$arch ${pkgs[*]}" ]]; then
  echo "make-sysroot: $sysroot is complete ($arch)"
  exit 0
fi
started=$(date +%s)

# A private apt state whose only architecture is $arch, with an empty dpkg status: apt resolves
# the whole dependency closure and downloads it, nothing is installed.
state=$out/apt
rm -rf "$state" "$out/debs" "$sysroot"
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$out/debs" "$sysroot/DEBIAN"
: >"$state/status"
apt_opts=(-o "Dir::State=$state" -o "Dir::State::Lists=$state/lists"
          -o "Dir::State::status=$state/status" -o "Dir::Cache=$state/cache"
          -o "Dir::Cache::archives=$state/cache/archives"
          -o "APT::Architecture=$arch" -o "APT::Architectures=$arch" -o "Debug::NoLocking=1"
          -o "APT::Get::AllowUnauthenticated=false" -o "APT::Install-Recommends=false")
echo "== apt-get update ($arch, private state in $state)"
# A mirror caught mid-sync answers "File has unexpected size": try again a little later.
for attempt in 1 2 3; do
  apt-get "${apt_opts[@]}" -q update >"$out/apt-update.log" 2>&1 &&
    ! grep -q '^[EW]: Failed to fetch' "$out/apt-update.log" && break
  if ((attempt == 3)); then
    # Only an update suite's index missing (bookworm-security, bookworm-updates): the closure
    # still resolves from bookworm itself, with the point release's versions.
    if grep -q '^E: Failed to fetch' "$out/apt-update.log" &&
      ! grep '^E: Failed to fetch' "$out/apt-update.log" | grep -qv -e '-security/' -e '-updates/'; then
      grep '^E: Failed to fetch' "$out/apt-update.log" >&2
      echo "make-sysroot: WARNING: going on without the update suite's $arch index (above)" >&2
      break
    fi
    cat "$out/apt-update.log" >&2
    echo "make-sysroot: apt-get update for $arch failed 3 times (log above)" >&2
    exit 1
  fi
  echo "make-sysroot: apt-get update failed (attempt $attempt), retrying in 20 s"
  sleep 20
done
echo "== download the closure of ${pkgs[*]}"
apt-get "${apt_opts[@]}" -q -y --download-only install "${pkgs[@]}" >"$out/apt-download.log" 2>&1 || {
  tail -30 "$out/apt-download.log" >&2
  echo "make-sysroot: downloading the $arch packages failed (log above)" >&2
  exit 1
}
mv "$state"/cache/archives/*.deb "$out/debs/"

echo "== extract $(find "$out/debs" -name '*.deb' | wc -l) packages into $sysroot"
control=$out/control
for deb in "$out"/debs/*.deb; do
  dpkg-deb -x "$deb" "$sysroot"
  rm -rf "$control" && mkdir -p "$control"
  dpkg-deb -e "$deb" "$control"
  # dpkg-shlibdeps looks for DEBIAN/shlibs and DEBIAN/symbols above a library it cannot
  # find in the dpkg database: one combined file each covers the whole sysroot.
  for f in shlibs symbols; do
    if [[ -f "$control/$f" ]]; then
      cat "$control/$f" >>"$sysroot/DEBIAN/$f"
    fi
  done
done
rm -rf "$control"
[[ -s "$sysroot/DEBIAN/symbols" ]] || { echo "make-sysroot: no symbols files collected" >&2; exit 1; }

# Absolute symlinks (libfoo.so -> /lib/...) would point into this machine's root.
while IFS= read -r -d '' link; do
  target=$(readlink "$link")
  ln -sfr "$sysroot$target" "$link"
done < <(find "$sysroot" -type l -lname '/*' -print0)

echo "$arch ${pkgs[*]}" >"$stamp"
echo "make-sysroot: $sysroot ready ($(du -sh "$sysroot" | cut -f1), $(($(date +%s) - started)) s)"
