# Set-up shared by the agent benchmarks (sourced, from the repository root):
#   bench_init NAME            a work folder /tmp/sensorsys-NAME.*, and a trap that stops every
#                              pid in `pids`, our PostgreSQL, the seed's API and PostgreSQL
#                              (when seed_api_port / seed_pg are set) and removes the folder
#   bench_build TARGETS...     Release build in build/bench; sets `agent` and `server`
#   bench_start_server         throwaway PostgreSQL + sensorsys-server (auth off); sets `port`
#   free_port                  a free TCP port on 127.0.0.1
# seed_dir is ../shared/seed-reference (may be absent).
seed_dir=$PWD/../shared/seed-reference
pids=()

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

bench_cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -f "$work/pg.info" ]] && tests/support/pg_cluster.sh stop "$work/pg.info" >/dev/null 2>&1 || true
  [[ -n "${seed_api_port:-}" ]] && "$seed_dir/bench/stop_api.sh" "$seed_api_port" >/dev/null 2>&1 || true
  [[ -n "${seed_pg:-}" ]] && "$seed_dir/bench/stop_pg.sh" "$seed_pg" --rm >/dev/null 2>&1 || true
  rm -rf "$work"
}

bench_init() {
  work=$(mktemp -d "/tmp/sensorsys-$1.XXXXXX")
  chmod 755 "$work"
  trap bench_cleanup EXIT
}

bench_build() {
  echo "== build (Release)"
  cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DSENSORSYS_BUILD_TESTS=OFF >/dev/null
  cmake --build build/bench -j2 --target sensorsys-agent sensorsys-server "$@" >/dev/null
  agent=$PWD/build/bench/bin/sensorsys-agent
  server=$(find build/bench -name sensorsys-server -type f -perm -u+x | head -1)
}

bench_start_server() {
  tests/support/pg_cluster.sh start "$work/pg.info" >/dev/null
  local conninfo
  conninfo=$(sed -n 's/^CONNINFO=//p' "$work/pg.info")
  port=$(free_port)
  "$server" --define "database.connection=$conninfo" --define http.port="$port" \
    --define auth.enabled=false --define logging.level=warning 2>"$work/server.log" &
  pids+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && return 0; sleep 0.1; done
  echo "sensorsys-server did not answer /health on port $port: $(tail -5 "$work/server.log")" >&2
  return 1
}
