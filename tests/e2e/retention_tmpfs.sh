#!/usr/bin/env bash
# Runs the real agent with its SQLite buffer on a small filesystem of its own (a tmpfs in a
# private mount namespace, gone when the script ends), next to a filler file standing for
# whatever else fills the SD card, so retention meets a real full disk.
#
#   retention_tmpfs.sh AGENT DB_IN DB_OUT TMPFS_KIB FILLER_KIB SECONDS [agent arguments...]
#
# Copies DB_IN onto the tmpfs, writes FILLER_KIB of filler, runs AGENT (store.path pointing at
# the copy) for SECONDS, stops it with SIGTERM, and copies the buffer back to DB_OUT. Prints
# `df` before and after and the agent's log. Exit 77 when mount namespaces are not permitted
# (not root): the caller skips.
set -euo pipefail

if [[ "${SENSORSYS_IN_MOUNT_NS:-}" != 1 ]]; then
    if ! unshare --mount --propagation private true 2>/dev/null; then
        echo "retention_tmpfs.sh: cannot create a mount namespace (needs root); skipped" >&2
        exit 77
    fi
    SENSORSYS_IN_MOUNT_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi

[[ $# -ge 6 ]] || { echo "usage: $0 AGENT DB_IN DB_OUT TMPFS_KIB FILLER_KIB SECONDS [args...]" >&2; exit 2; }
agent=$1 db_in=$2 db_out=$3 tmpfs_kib=$4 filler_kib=$5 seconds=$6
shift 6

disk=$(mktemp -d)
trap 'umount "$disk" 2>/dev/null || true; rmdir "$disk"' EXIT
mount -t tmpfs -o "size=${tmpfs_kib}k,mode=0755" sensorsys-retention-test "$disk"
cp "$db_in" "$disk/buffer.db"
dd if=/dev/zero of="$disk/filler" bs=1024 count="$filler_kib" status=none
echo "== before"
df -k --output=size,used,pcent "$disk"

"$agent" --define "store.path=$disk/buffer.db" "$@" >"$disk.log" 2>&1 &
pid=$!
sleep "$seconds"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
echo "== agent log (exit $status)"
cat "$disk.log"
rm -f "$disk.log"
echo "== after"
df -k --output=size,used,pcent "$disk"
[[ -e "$disk/buffer.db-wal" ]] && { echo "WAL left behind after a clean stop" >&2; exit 1; }
cp "$disk/buffer.db" "$db_out"
exit "$status"
