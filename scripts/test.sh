#!/usr/bin/env bash
# Sets up and runs every test: installs missing packages, checks formatting, then builds and
# runs the whole ctest suite twice — a normal build and an AddressSanitizer+UBSan build.
#   scripts/test.sh            everything
#   scripts/test.sh --no-asan  skip the sanitizer build (quicker local runs)
#   FUZZ_SECONDS=10 scripts/test.sh   seconds per fuzz target after the suites (default 60, 0 skips)
set -euo pipefail
cd "$(dirname "$0")/.."

asan=1
[[ "${1:-}" == "--no-asan" ]] && asan=0
started=$(date +%s)

scripts/install-deps.sh

echo "== clang-format"
if [[ -d .git ]] && command -v git >/dev/null; then
  mapfile -t sources < <(git ls-files '*.c' '*.cpp' '*.h' '*.hpp')
else
  mapfile -t sources < <(find core plugins server tests bench -name '*.[ch]' -o -name '*.[ch]pp' 2>/dev/null)
fi
clang-format --dry-run -Werror "${sources[@]}"
echo "clang-format: ${#sources[@]} files clean"

status=0
# clang-tidy (.clang-tidy: function size, naming) on our own code, from the default build's
# compile_commands.json; run after that build below.
tidy() {
  echo "== clang-tidy"
  if run-clang-tidy -p build/default -j 2 -quiet "$PWD/(core|server|plugins|common)/.*\.(cpp|c)$" \
       >build/clang-tidy.log 2>&1; then
    echo "clang-tidy: clean"
  else
    grep -E "(error|warning):" build/clang-tidy.log | sort -u | head -n 50
    echo "clang-tidy: FAILED (build/clang-tidy.log)"
    status=1
  fi
}

run_suite() {  # preset
  echo "== build ($1)"
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1"
  echo "== ctest ($1)"
  ctest --preset "$1" || status=1
}

run_suite default
tidy
# The build a user or packager makes (Release, tests on, warnings not errors), exactly as the
# README's "by hand" section shows it: it must build on every compiler, whatever it warns.
echo "== build (Release + tests, as a user builds it)"
cmake -S . -B build/release-tests -DCMAKE_BUILD_TYPE=Release -DSENSORSYS_BUILD_TESTS=ON >/dev/null
cmake --build build/release-tests -j2 || status=1
# The Raspberry Pi packages: cross-built for arm64 and the agent run under qemu
# (packaging/README.md). In CI only (CI=true): locally it is one command, packaging/build-arm64.sh.
if [[ "${CI:-}" == "true" && -x packaging/build-arm64.sh ]]; then
  echo "== arm64 packages (packaging/build-arm64.sh)"
  packaging/build-arm64.sh || status=1
fi
if ((asan)); then
  if [[ -f tests/support/lsan.supp ]]; then
    export LSAN_OPTIONS="suppressions=$PWD/tests/support/lsan.supp:print_suppressions=0"
  fi
  run_suite asan
fi

# The libFuzzer targets (fuzz/README.md), each for FUZZ_SECONDS (default 60; 0 skips them).
if [[ "${FUZZ_SECONDS:-60}" == 0 ]]; then
  echo "== fuzz: skipped (FUZZ_SECONDS=0)"
elif command -v clang++ >/dev/null; then
  scripts/fuzz.sh "${FUZZ_SECONDS:-60}" || status=1
else
  echo "== fuzz: SKIPPED, clang++ not found (scripts/install-deps.sh installs clang)"
fi

echo "== scripts/test.sh finished in $(( $(date +%s) - started )) s, status $status"
exit $status
