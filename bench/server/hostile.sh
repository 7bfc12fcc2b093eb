#!/usr/bin/env bash
# The hostile-load test (tests/load/hostile_load.py) with issue #14's bounds instead of the
# CI-safe ones: 1,000 slowloris connections + 200 clients that never read, while wrk ingests;
# /health p99 < 100 ms, ingest within 10 % of its rate alone, every slow connection dropped
# within its deadline. Needs a Release build and a quiet machine. The attacker threads run at
# nice 10 (HOSTILE_ATTACKER_NICE) so that on a small machine their own CPU is not counted as the
# server's cost; they still open, feed and drop every connection on time (the checks say so).
#
#   bench/server/hostile.sh [SERVER_BINARY=build/release-tests/server/sensorsys-server]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SERVER=$(realpath "${1:-$REPO/build/release-tests/server/sensorsys-server}")
WORK=$(mktemp -d /tmp/sensorsys-hostile-bench.XXXXXX)
trap 'bash "$REPO/tests/support/pg_cluster.sh" stop "$WORK/pg" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
bash "$REPO/tests/support/pg_cluster.sh" start "$WORK/pg" >/dev/null
HOSTILE_SECONDS=${HOSTILE_SECONDS:-20} HOSTILE_HEALTH_P99_MS=100 HOSTILE_INGEST_RATIO=0.9 \
    HOSTILE_READER_WORK_S=2 HOSTILE_HEALTH_FAILED_MAX=0 HOSTILE_ATTACKER_NICE=${HOSTILE_ATTACKER_NICE:-10} python3 "$REPO/tests/load/hostile_load.py" "$SERVER" "$WORK/pg" wrk
