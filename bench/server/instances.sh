#!/usr/bin/env bash
# Ingest throughput with 1, 2 and 3 sensorsys-server instances behind nginx, in one run: the
# same throwaway PostgreSQL, the same client load (wrk posting 100-reading bulks with
# tests/load/ingest.lua), the shipped site with the upstream of etc/nginx/sensorsys-instances.conf
# (tests/support/nginx_site.py, as the e2e test runs it). Per phase: readings/s as wrk counted
# them (2xx only), failed requests, and the CPU each party used over the phase, from
# /proc/PID/stat (utime + stime; PostgreSQL is the postmaster with every backend, including
# backends that ended), in % of one CPU: where it saturates and who holds the CPU.
#
#   bench/server/instances.sh [SERVER_BINARY=build/release-tests/server/sensorsys-server]
# Env: INSTANCES_SECONDS (20, per phase), INSTANCES_CONNECTIONS (16), INSTANCES_THREADS (2),
#      INSTANCES_COUNTS ("1 2 3"). Only 127.0.0.1 is used; everything started is stopped.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SERVER=$(realpath "${1:-$REPO/build/release-tests/server/sensorsys-server}")
SECONDS_PER_PHASE=${INSTANCES_SECONDS:-20}
CONNECTIONS=${INSTANCES_CONNECTIONS:-16}
THREADS=${INSTANCES_THREADS:-2}
COUNTS=${INSTANCES_COUNTS:-1 2 3}
WORK=$(mktemp -d /tmp/sensorsys-instances-bench.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    bash "$REPO/tests/support/pg_cluster.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
rows() { psql -X -At -h 127.0.0.1 -p "$pgport" -U postgres -d postgres -c "SELECT count(*) FROM sensor_project.readings"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

bash "$REPO/tests/support/pg_cluster.sh" start "$WORK/pg" >/dev/null
conninfo=$(sed -n 's/^CONNINFO=//p' "$WORK/pg")
pgdir=$(sed -n 's/^PGDIR=//p' "$WORK/pg")
pgport=$(sed -n 's/^PGPORT=//p' "$WORK/pg")
postmaster=$(head -1 "$pgdir/data/postmaster.pid")
"$SERVER" --migrate --define "database.connection=$conninfo" >/dev/null
echo "server: $SERVER"
echo "machine: $(nproc) CPUs; phases of ${SECONDS_PER_PHASE} s, wrk -t$THREADS -c$CONNECTIONS"

# cpu_ticks PID...: clock ticks used by these processes (and, for PostgreSQL's postmaster, by
# its children: the living ones from /proc, the ended ones from its cutime/cstime).
cpu_ticks() {
    python3 - "$@" <<'PY'
import os, sys
def stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]), int(fields[12]), int(fields[13]), int(fields[14]), int(fields[1])
    except OSError:
        return 0, 0, 0, 0, 0
total = 0
for arg in sys.argv[1:]:
    pid, _, tree = arg.partition(":")
    ut, st, cut, cst, _ = stat(pid)
    total += ut + st
    if tree:  # the postmaster: its children too
        total += cut + cst
        for child in os.listdir("/proc"):
            if child.isdigit() and stat(child)[4] == int(pid):
                c = stat(child)
                total += c[0] + c[1]
print(total)
PY
}

phase() {
    local n=$1 ports=() server_pids=() i
    for ((i = 0; i < n; i++)); do
        ports+=("$(free_port)")
        "$SERVER" --define "database.connection=$conninfo" --define http.port="${ports[i]}" \
            --define auth.enabled=false --define logging.requests=false \
            --define limits.max_future=315360000 \
            --define logging.level=warning 2>"$WORK/server-$n-$i.log" &
        server_pids+=($!)
        pids+=($!)
    done
    for port in "${ports[@]}"; do
        for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    done
    mkdir -p "$WORK/nginx-$n"
    local nginx_port
    nginx_port=$(free_port)
    python3 "$REPO/tests/support/nginx_site.py" "$WORK/nginx-$n" "$nginx_port" "${ports[@]}" --instances
    /usr/sbin/nginx -p "$WORK/nginx-$n" -c "$WORK/nginx-$n/nginx.conf" &
    local nginx_pid=$!
    pids+=("$nginx_pid")
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$nginx_port/health" >/dev/null && break; sleep 0.1; done
    # A short warm-up: connections, prepared statements and thread pools exist before the clock.
    wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s "$REPO/tests/load/ingest.lua" \
        "http://127.0.0.1:$nginx_port" -- none "warm-$n" >/dev/null
    local load before_s before_pg before_ng start end after_s after_pg after_ng rows_before rows_after
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    rows_before=$(rows)
    before_s=$(cpu_ticks "${server_pids[@]}"); before_pg=$(cpu_ticks "$postmaster:tree")
    before_ng=$(cpu_ticks "$nginx_pid"); start=$(date +%s.%N)
    /usr/bin/time -f "%U %S" -o "$WORK/wrk-$n.time" wrk -t"$THREADS" -c"$CONNECTIONS" \
        -d"${SECONDS_PER_PHASE}s" --timeout 10s -s "$REPO/tests/load/ingest.lua" \
        "http://127.0.0.1:$nginx_port" -- none "inst-$n" >"$WORK/wrk-$n.out"
    end=$(date +%s.%N)
    after_s=$(cpu_ticks "${server_pids[@]}"); after_pg=$(cpu_ticks "$postmaster:tree")
    after_ng=$(cpu_ticks "$nginx_pid")
    rows_after=$(rows)
    python3 - "$n" "$WORK/wrk-$n.out" "$WORK/wrk-$n.time" "$start" "$end" "$(getconf CLK_TCK)" \
        "$((after_s - before_s))" "$((after_pg - before_pg))" "$((after_ng - before_ng))" "$load" "$((rows_after - rows_before))" <<'PY'
import os, re, sys
n, out, timing, start, end, hz, srv, pg, ng, load, stored = sys.argv[1:]
wall, hz = float(end) - float(start), int(hz)
m = re.search(r"RESULT readings=(\d+) failed_requests=(\d+) .* readings_per_s=([\d.]+)", open(out).read())
if not m:
    sys.exit("instances: no RESULT from wrk:\n" + open(out).read())
u, s = (float(x) for x in open(timing).read().split()[-2:])
pct = lambda ticks: 100.0 * int(ticks) / hz / wall
stored = int(stored)
print(f"RESULT instances={n} readings_per_s={stored / wall:.0f} failed_requests={m.group(2)} "
      f"cpu_pct servers={pct(srv):.0f} postgresql={pct(pg):.0f} nginx={pct(ng):.0f} "
      f"wrk={100 * (u + s) / wall:.0f} (of {100 * os.cpu_count()}) "
      f"cpu_us_per_reading servers={1e6 * int(srv) / hz / max(stored, 1):.2f} "
      f"postgresql={1e6 * int(pg) / hz / max(stored, 1):.2f} load={load}")
PY
    kill -TERM "$nginx_pid" "${server_pids[@]}"
    wait "$nginx_pid" "${server_pids[@]}" 2>/dev/null || true
}

for n in $COUNTS; do
    echo "== $n instance(s)"
    phase "$n"
done
