#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan + LSan, preset "fuzz", in
# build/fuzz) and runs each for a bounded time from its seed corpus. Prints each target's
# execution count; exits non-zero on any crash, leak, sanitizer report or failed check.
#   scripts/fuzz.sh [seconds-per-target]     default 60, or FUZZ_SECONDS
#   FUZZ_TARGETS="bme280 server_request" scripts/fuzz.sh 10
# Findings are kept in build/fuzz/findings/<target>/ (crash-*, leak-*, ... and the log).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-${FUZZ_SECONDS:-60}}
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || { echo "fuzz.sh: seconds must be a positive integer" >&2; exit 2; }
started=$(date +%s)

echo "== build (fuzz)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

bin=build/fuzz/fuzz
targets=(${FUZZ_TARGETS:-server_request json_layer http_framing websocket_frame bme280 host_protocol})
# UBSan aborts (-fno-sanitize-recover=all at build time; halt_on_error for the runtime too),
# LSan runs at exit of every input's process and after the run (detect_leaks=1).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0"

status=0
summary=()
for t in "${targets[@]}"; do
  out="build/fuzz/findings/$t"
  work="build/fuzz/work/$t"  # what libFuzzer adds; the seeds in fuzz/corpus stay untouched
  rm -rf "$out"
  mkdir -p "$out" "$work"
  echo "== fuzz $t (${seconds} s)"
  dict=()
  [[ $t == bme280 || $t == host_protocol ]] || dict=(-dict=fuzz/json.dict)  # JSON and HTTP tokens
  rc=0
  "$bin/$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -max_len=8192 "${dict[@]}" -artifact_prefix="$out/" "$work" "fuzz/corpus/$t" \
    >"$out/log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -n 1)
  findings=$(find "$out" -type f ! -name log)  # crash-*, leak-*, timeout-*, oom-*, slow-unit-*
  if ((rc != 0)) || [[ -n "$findings" ]]; then
    status=1
    echo "fuzz $t: FAILED (exit $rc) after ${execs:-?} executions; log and input in $out/"
    grep -m 3 -E 'ERROR:|fuzz check failed|runtime error' "$out/log" || true
    tail -n 5 "$out/log"
    summary+=("$t: FAILED after ${execs:-?} executions")
  else
    echo "fuzz $t: ${execs} executions, no findings"
    summary+=("$t: ${execs} executions")
  fi
done

echo "== fuzz summary (${seconds} s per target)"
printf '  %s\n' "${summary[@]}"
echo "== scripts/fuzz.sh finished in $(( $(date +%s) - started )) s, status $status"
exit $status
