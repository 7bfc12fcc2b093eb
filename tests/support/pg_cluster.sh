#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, reusable by any test area.
#
#   pg_cluster.sh start INFO_FILE   create a cluster in a fresh mktemp folder, listening only on
#                                   127.0.0.1 on a free port, and write INFO_FILE:
#                                     PGDIR=<folder>  PGPORT=<port>
#                                     CONNINFO=host=127.0.0.1 port=<port> user=postgres dbname=postgres
#   pg_cluster.sh stop INFO_FILE    stop it (fast) and delete its folder and INFO_FILE
#   pg_cluster.sh pause INFO_FILE   stop the server, keep the data (tests of "database went away")
#   pg_cluster.sh resume INFO_FILE  start it again on the same port
#   pg_cluster.sh replica INFO_FILE PRIMARY_INFO
#                                   a streaming replica (hot standby) of the running cluster of
#                                   PRIMARY_INFO, made by pg_basebackup -R, in a fresh folder on a
#                                   free port; INFO_FILE as for start (stop/pause/resume work)
#
# As root, initdb/pg_ctl run as user postgres (initdb refuses root); the folder is under /tmp
# so that user can reach it. Authentication is trust on 127.0.0.1 only. Every wait is bounded.
set -euo pipefail

cmd=${1:-}
info=${2:-}
if [ -z "$cmd" ] || [ -z "$info" ]; then
    echo "usage: $0 start|stop|pause|resume INFO_FILE | replica INFO_FILE PRIMARY_INFO" >&2
    exit 2
fi
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
if [ "$(id -u)" -eq 0 ]; then AS=(runuser -u postgres --); else AS=(); fi

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

write_info() {  # DIR PORT
    {
        echo "PGDIR=$1"
        echo "PGPORT=$2"
        echo "CONNINFO=host=127.0.0.1 port=$2 user=postgres dbname=postgres"
    } >"$info.tmp"
    mv "$info.tmp" "$info"
}

new_dir() {
    dir=$(mktemp -d /tmp/sensorsys-pg.XXXXXX)
    chmod 700 "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
}

# Starts the cluster of $dir on a free port and writes INFO_FILE, or exits 1 (folder removed).
# A free port can be taken between the probe and the bind: a few are tried. $1: the function
# printing the settings for $port (written to postgresql.auto.conf), $2: -- to replace that
# file or -a to append to it (later lines win), $3: what the success line calls it.
start_on_free_port() {
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        "$1" | "${AS[@]}" tee "$2" "$dir/data/postgresql.auto.conf" >/dev/null
        if "${AS[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null; then
            write_info "$dir" "$port"
            echo "$3: $dir on 127.0.0.1:$port"
            exit 0
        fi
        echo "$0: start on port $port failed (attempt $attempt)" >&2
    done
    tail -20 "$dir/postgres.log" >&2 || true
    rm -rf "$dir"
    exit 1
}

read_info() {
    [ -f "$info" ] || { echo "$0: no cluster info in $info" >&2; exit 1; }
    PGDIR=$(sed -n 's/^PGDIR=//p' "$info")
    PGPORT=$(sed -n 's/^PGPORT=//p' "$info")
}

case "$cmd" in
start)
    # One cluster per INFO_FILE: a cluster an earlier start left running (ctest --repeat runs a
    # fixture's start again before its stop) is stopped, not orphaned.
    if [ -f "$info" ]; then "$0" stop "$info" >/dev/null; fi
    new_dir
    "${AS[@]}" "$PG_BIN/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C --auth=trust \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1; }
    primary_conf() {
        cat <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = off
full_page_writes = off
synchronous_commit = on
CONF
    }
    start_on_free_port primary_conf -- "PostgreSQL test cluster"
    ;;
stop)
    if [ ! -f "$info" ]; then echo "no cluster info in $info: nothing to stop"; exit 0; fi
    read_info
    case "$PGDIR" in /tmp/sensorsys-pg.*) ;; *) echo "$0: refusing to remove '$PGDIR'" >&2; exit 1;; esac
    if [ -f "$PGDIR/data/postmaster.pid" ]; then
        "${AS[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m immediate -w -t 60 stop >/dev/null || true
    fi
    rm -rf -- "$PGDIR"
    rm -f -- "$info"
    echo "stopped and removed $PGDIR"
    ;;
pause)
    read_info
    "${AS[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m fast -w -t 60 stop >/dev/null
    ;;
resume)
    read_info
    "${AS[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/postgres.log" -w -t 60 start >/dev/null
    ;;
replica)
    # initdb's pg_hba.conf already lets replication connections in (trust on 127.0.0.1), and
    # the defaults wal_level=replica, max_wal_senders=10 are what streaming needs.
    primary=${3:-}
    [ -n "$primary" ] || { echo "usage: $0 replica INFO_FILE PRIMARY_INFO" >&2; exit 2; }
    if [ -f "$info" ]; then "$0" stop "$info" >/dev/null; fi
    primary_port=$(sed -n 's/^PGPORT=//p' "$primary")
    new_dir
    "${AS[@]}" "$PG_BIN/pg_basebackup" -R -X stream -c fast -D "$dir/data" -h 127.0.0.1 \
        -p "$primary_port" -U postgres >"$dir/basebackup.log" 2>&1 ||
        { cat "$dir/basebackup.log" >&2; rm -rf "$dir"; exit 1; }
    # The copy carries the primary's postgresql.auto.conf (port, socket folder); -R appended
    # primary_conninfo to it. Later lines win: the replica's own port and folder go last.
    replica_conf() {
        cat <<CONF
port = $port
unix_socket_directories = '$dir'
hot_standby = on
CONF
    }
    start_on_free_port replica_conf -a "PostgreSQL test replica of port $primary_port"
    ;;
*)
    echo "usage: $0 start|stop|pause|resume INFO_FILE | replica INFO_FILE PRIMARY_INFO" >&2
    exit 2
    ;;
esac
