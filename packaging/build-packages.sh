#!/usr/bin/env bash
# Builds the four Debian packages (sensorsys-agent, -plugins, -server, -dev) with CPack.
#   packaging/build-packages.sh                         amd64 (this machine), into build/packages/amd64
#   packaging/build-packages.sh --build-dir DIR         another build folder
#   packaging/build-packages.sh --toolchain FILE --sysroot DIR --build-dir DIR
#                                                      cross build (what packaging/build-arm64.sh does)
# The .deb files end up in <build-dir>/packages/. Release build, prefix /usr, Debian's
# hardening flags (dpkg-buildflags), dependencies from dpkg-shlibdeps. JOBS (default 2) sets
# the build's parallelism.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)

build_dir=""
toolchain=""
sysroot=""
while (($#)); do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --toolchain) toolchain=$2; shift 2 ;;
    --sysroot) sysroot=$2; shift 2 ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "build-packages: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

for tool in cmake cpack dpkg-buildflags dpkg-shlibdeps dpkg-deb file; do
  command -v "$tool" >/dev/null || {
    echo "build-packages: '$tool' not found; run scripts/install-deps.sh" >&2
    exit 1
  }
done

# cpack packages what the build step below made; it does not build "all" a second time.
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DSENSORSYS_BUILD_TESTS=OFF
            -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON)
host_arch=$(dpkg --print-architecture)
if [[ -n "$toolchain" ]]; then
  [[ -f "$toolchain" ]] || { echo "build-packages: no toolchain file $toolchain" >&2; exit 1; }
  [[ -d "$sysroot" ]] || { echo "build-packages: --toolchain needs --sysroot DIR (got '$sysroot')" >&2; exit 1; }
  cmake_args+=("-DCMAKE_TOOLCHAIN_FILE=$(cd "$(dirname "$toolchain")" && pwd)/$(basename "$toolchain")"
               "-DSENSORSYS_SYSROOT=$(cd "$sysroot" && pwd)")
  host_arch=$(sed -n 's/^set(SENSORSYS_DEB_ARCHITECTURE \([a-z0-9]*\).*/\1/p' "$toolchain")
  [[ -n "$host_arch" ]] || { echo "build-packages: $toolchain sets no SENSORSYS_DEB_ARCHITECTURE" >&2; exit 1; }
fi
build_dir=${build_dir:-$src/build/packages/$host_arch}

# Debian's compiler and linker flags for this architecture (hardening: fortify, stack
# protector, relro, bindnow). CMake reads CFLAGS/CXXFLAGS/LDFLAGS, not CPPFLAGS: fold them in.
eval "$(DEB_HOST_ARCH=$host_arch DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
export CFLAGS="$CFLAGS $CPPFLAGS" CXXFLAGS="$CXXFLAGS $CPPFLAGS" LDFLAGS

started=$(date +%s)
echo "== configure $build_dir ($host_arch)"
mkdir -p "$build_dir"
cmake -S "$src" -B "$build_dir" "${cmake_args[@]}" >"$build_dir/configure.log" 2>&1 || {
  cat "$build_dir/configure.log" >&2
  echo "build-packages: configure failed (log above)" >&2
  exit 1
}
echo "== build (-j${JOBS:-2})"
cmake --build "$build_dir" -j "${JOBS:-2}"
echo "== cpack"
rm -f "$build_dir"/packages/*.deb
(cd "$build_dir" && cpack -G DEB --config CPackConfig.cmake) >"$build_dir/cpack.log" 2>&1 || {
  cat "$build_dir/cpack.log" >&2
  echo "build-packages: cpack failed (log above)" >&2
  exit 1
}

shopt -s nullglob
debs=("$build_dir"/packages/*.deb)
((${#debs[@]} == 4)) || {
  echo "build-packages: expected 4 .deb files in $build_dir/packages, found ${#debs[@]}" >&2
  exit 1
}
for deb in "${debs[@]}"; do
  printf '%-48s %8s bytes  Depends: %s\n' "$(basename "$deb")" "$(stat -c %s "$deb")" \
    "$(dpkg-deb -f "$deb" Depends)"
done
echo "build-packages: ${#debs[@]} packages in $build_dir/packages ($(($(date +%s) - started)) s)"
