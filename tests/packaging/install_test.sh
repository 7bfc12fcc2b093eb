#!/usr/bin/env bash
# The packages as a user gets them: dpkg -i all four, every file where docs/contract.md §1 says, the
# installed programs run as the sensorsys user (agent --version, --list-plugins, --once and a
# short run storing readings; server --migrate on a throwaway PostgreSQL and /health), then
# `dpkg -r` keeps data and configuration and `dpkg --purge` leaves nothing behind.
# Installs into / : only on a throwaway CI machine (see lib.sh), else skipped (exit 77).
#   install_test.sh PACKAGE_DIR SOURCE_DIR
set -euo pipefail
pkg_dir=${1:?usage: install_test.sh PACKAGE_DIR SOURCE_DIR}
src=${2:?usage: install_test.sh PACKAGE_DIR SOURCE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
require_throwaway_machine

arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
packages=(sensorsys-agent sensorsys-plugins sensorsys-server sensorsys-dev)
mapfile -t debs < <(debs_for "$arch" "${packages[@]}")
work=$(mktemp -d "${TMPDIR:-/tmp}/sensorsys-pkgtest-XXXXXX")
created_i2c=0
added_policy=0
server_pid=""
pg_info=$work/pg.info

cleanup() {
  local rc=$?
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [[ -f "$pg_info" ]] && "$src/tests/support/pg_cluster.sh" stop "$pg_info" >/dev/null 2>&1
  # Never leave the packages on the machine, whatever failed.
  dpkg --purge "${packages[@]}" >/dev/null 2>&1 || true
  ((created_i2c)) && groupdel i2c 2>/dev/null
  ((added_policy)) && rm -f "$policy"
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

snapshot >"$work/before.txt"
# Where systemd runs, postinst would start the agent's service: keep it from starting (the
# test runs the programs itself), as install-deps.sh does for postgresql and nginx.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  added_policy=1
fi
# The postinst adds the user to i2c and video where they exist: make sure i2c does here.
if ! getent group i2c >/dev/null; then
  groupadd --system i2c
  created_i2c=1
fi

echo "== dpkg -i ${debs[*]##*/}"
dpkg -i "${debs[@]}"
for package in "${packages[@]}"; do
  check "$package installed" \
    test "$(dpkg-query -W -f='${db:Status-Status}' "$package")" = installed
done

echo "== layout (docs/contract.md §1)"
mode_is() {  # mode_is PATH MODE OWNER:GROUP [TYPE]
  [[ -e "$1" ]] || { echo "  missing: $1" >&2; return 1; }
  local got
  got=$(stat -c '%a %U:%G' "$1")
  [[ "$got" == "$2 $3" ]] || { echo "  $1 is $got, expected $2 $3" >&2; return 1; }
}
check "agent binary" mode_is /usr/bin/sensorsys-agent 755 root:root
check "server binary" mode_is /usr/bin/sensorsys-server 755 root:root
check "plugin host binary" mode_is /usr/bin/sensorsys-plugin-host 755 root:root
for plugin in bme280 bh1750 cpu_temp disk ds18b20 exec motion sgp30; do
  check "plugin $plugin" mode_is "/usr/lib/sensorsys/$plugin.so" 644 root:root
done
check "PostgreSQL store module" mode_is /usr/lib/sensorsys/store/postgresql.so 644 root:root
check "the agent does not link libpq (loaded with the module only)" \
  sh -c '! ldd /usr/bin/sensorsys-agent | grep -q libpq'
check "agent configuration 0640 root:sensorsys" mode_is /etc/sensorsys/agent.properties 640 root:sensorsys
check "server configuration 0640 root:sensorsys" mode_is /etc/sensorsys/server.properties 640 root:sensorsys
check "alert rules 0640 root:sensorsys" mode_is /etc/sensorsys/alerts.properties 640 root:sensorsys
check "nginx site available" mode_is /etc/nginx/sites-available/sensorsys 644 root:root
check "nginx site not enabled" test ! -e /etc/nginx/sites-enabled/sensorsys
check "nginx upstream for several instances" mode_is /usr/share/sensorsys/nginx/sensorsys-instances.conf 644 root:root
check "agent unit" mode_is /lib/systemd/system/sensorsys-agent.service 644 root:root
check "server unit" mode_is /lib/systemd/system/sensorsys-server.service 644 root:root
check "server schema" test -f /usr/share/sensorsys/sql/server/V001__seed_schema.sql
check "agent schema" test -f /usr/share/sensorsys/sql/agent/sqlite/V001__readings.sql
check "plugin header" mode_is /usr/include/sensorsys/plugin.h 644 root:root
check "CMake package" test -f "/usr/lib/$multiarch/cmake/sensorsys/sensorsysConfig.cmake"
check "data folder" mode_is /var/lib/sensorsys 750 sensorsys:sensorsys
check "log folder" mode_is /var/log/sensorsys 750 sensorsys:sensorsys
# Nothing outside the places docs/contract.md §1 names (plus docs and the unit/nginx folders).
allowed="^(/usr/bin/sensorsys-(agent|server|plugin-host)|/usr/lib/sensorsys(/.*)?|/etc/sensorsys(/.*)?|/etc/nginx/sites-available/sensorsys|/lib/systemd/system/sensorsys-(agent|server)\.service|/usr/share/sensorsys(/.*)?|/usr/include/sensorsys(/.*)?|/usr/lib/$multiarch/cmake/sensorsys(/.*)?|/usr/share/doc/sensorsys-[a-z]+(/(copyright|changelog\.Debian\.gz))?|/usr/share/man/man1/sensorsys-(agent|server|plugin-host)\.1\.gz)$"
stray=$(dpkg -L "${packages[@]}" | while read -r path; do
  [[ -d "$path" && ! "$path" =~ sensorsys ]] && continue  # shared parents: /usr, /etc/nginx, ...
  [[ "$path" =~ $allowed ]] || echo "$path"
done)
check "every packaged file in a docs/contract.md §1 place${stray:+ (stray: $stray)}" test -z "$stray"
conffiles=$(dpkg-query -W -f='${Conffiles}\n' "${packages[@]}" | awk 'NF { print $1 }' | sort | tr '\n' ' ')
check "conffiles: $conffiles" test "$conffiles" = \
  "/etc/nginx/sites-available/sensorsys /etc/sensorsys/agent.properties /etc/sensorsys/alerts.properties /etc/sensorsys/server.properties "

echo "== the sensorsys user"
passwd_entry=$(getent passwd sensorsys || true)
IFS=: read -r _ _ uid _ _ home shell <<<"$passwd_entry"
check "system user sensorsys ($passwd_entry)" test -n "$passwd_entry" -a "${uid:-1000}" -lt 1000
check "home /var/lib/sensorsys, no login shell" test "$home:$shell" = /var/lib/sensorsys:/usr/sbin/nologin
groups=" $(id -nG sensorsys) "
check "in group i2c ($groups)" test "${groups/ i2c /}" != "$groups"
if getent group video >/dev/null; then
  check "in group video ($groups)" test "${groups/ video /}" != "$groups"
fi
check "agent service enabled" test -L /etc/systemd/system/multi-user.target.wants/sensorsys-agent.service
check "server service not enabled" test ! -e /etc/systemd/system/multi-user.target.wants/sensorsys-server.service

echo "== reinstall is idempotent"
before_uid=$uid
dpkg -i "${debs[@]}" >/dev/null
check "same user after reinstall" test "$(id -u sensorsys)" = "$before_uid"
check "configuration still 0640 root:sensorsys" mode_is /etc/sensorsys/agent.properties 640 root:sensorsys

echo "== installed agent"
as_service() { setpriv --reuid=sensorsys --regid=sensorsys --init-groups -- "$@"; }
version=$(/usr/bin/sensorsys-agent --version)
echo "$version"
expected_version=$(dpkg-query -W -f='${Version}' sensorsys-agent)
check "agent --version is the package's ($expected_version)" test "${version#sensorsys-agent }" != "$version" -a \
  "$(awk '{print $2}' <<<"$version")" = "${expected_version%-*}"
(cd /var/lib/sensorsys && as_service /usr/bin/sensorsys-agent --list-plugins) | tee "$work/plugins.txt"
check "--list-plugins reads /usr/lib/sensorsys" grep -q '^plugins in /usr/lib/sensorsys ' "$work/plugins.txt"
for plugin in bme280 bh1750 cpu_temp disk ds18b20 exec motion sgp30; do
  check "--list-plugins: $plugin loaded" grep -qE "^  $plugin [0-9.]+ ABI [0-9.]+ loaded from $plugin\.so" "$work/plugins.txt"
done
(cd /var/lib/sensorsys && as_service /usr/bin/sensorsys-agent --once --define agent.device_id=pkg-test) \
  >"$work/once.json" 2>"$work/once.log"
cat "$work/once.json"
check "--once: one reading with the seven default plugins' keys and real disk figures" python3 - "$work/once.json" <<'PY'
import json, sys
reading = json.load(open(sys.argv[1]))
assert reading["device_id"] == "pkg-test", reading
payload = reading["payload"]
assert set(payload) == {"bme280", "bh1750", "cpu_temp", "disk", "ds18b20", "exec", "sgp30"}, payload
assert payload["disk"]["total_mb"] > 0 and payload["disk"]["free_mb"] >= 0, payload["disk"]
PY
# The agent as its unit runs it: configuration from /etc (0640, readable through the group),
# buffer in /var/lib/sensorsys; readings stored while the (absent) server refuses them.
(cd /var/lib/sensorsys && exec setpriv --reuid=sensorsys --regid=sensorsys --init-groups -- /usr/bin/sensorsys-agent \
  --config /etc/sensorsys/agent.properties --define agent.interval=0.5 \
  --define sync.url=http://127.0.0.1:9 >"$work/agent-run.log" 2>&1) &
agent_pid=$!
for _ in $(seq 1 40); do
  [[ -f /var/lib/sensorsys/buffer.db ]] && break
  sleep 0.25
done
sleep 1.5
kill -TERM "$agent_pid"
agent_rc=0
wait "$agent_pid" || agent_rc=$?
check "agent ran as sensorsys and stopped cleanly on SIGTERM (exit $agent_rc)" test "$agent_rc" -eq 0
check "buffer /var/lib/sensorsys/buffer.db owned by sensorsys" \
  test "$(stat -c %U /var/lib/sensorsys/buffer.db 2>/dev/null)" = sensorsys
((agent_rc == 0)) || tail -20 "$work/agent-run.log" >&2

echo "== installed server"
help=$(/usr/bin/sensorsys-server --help 2>&1) && help_rc=0 || help_rc=$?
check "server --help exits 0 and shows usage" test "$help_rc" -eq 0 -a "${help#usage: sensorsys-server}" != "$help"
server_version=$(/usr/bin/sensorsys-server --version 2>&1) || true
check "server --version ($server_version)" test "${server_version#sensorsys-server }" != "$server_version"
"$src/tests/support/pg_cluster.sh" start "$pg_info"
pg_port=$(sed -n 's/^PGPORT=//p' "$pg_info")
psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c 'CREATE DATABASE sensorsys_pkgtest'
conninfo="host=127.0.0.1 port=$pg_port dbname=sensorsys_pkgtest user=postgres"
http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# As an admin does: the database and port go into the installed conffile. (--define does not
# override a key that --config's file sets in sensorsys-server 0.1.0.)
sed -i -e "s|^database.connection = .*|database.connection = $conninfo|" \
  -e "s|^http.port = .*|http.port = $http_port|" /etc/sensorsys/server.properties
check "edited configuration keeps 0640 root:sensorsys" mode_is /etc/sensorsys/server.properties 640 root:sensorsys
(cd /var/lib/sensorsys && as_service /usr/bin/sensorsys-server --config /etc/sensorsys/server.properties --migrate)
check "server --migrate created sensor_project.readings" test "$(psql -X -At -h 127.0.0.1 -p "$pg_port" \
  -U postgres -d sensorsys_pkgtest -c "SELECT to_regclass('sensor_project.readings') IS NOT NULL")" = t
(cd /var/lib/sensorsys && exec setpriv --reuid=sensorsys --regid=sensorsys --init-groups -- \
  /usr/bin/sensorsys-server --config /etc/sensorsys/server.properties >"$work/server.log" 2>&1) &
server_pid=$!
health=""
for _ in $(seq 1 60); do
  health=$(curl -fsS --max-time 2 "http://127.0.0.1:$http_port/health" 2>/dev/null) && break
  sleep 0.25
done
echo "/health: $health"
[[ -n "$health" ]] || tail -20 "$work/server.log" >&2
check "installed server answers /health with the database ok" python3 -c '
import json, sys
assert json.loads(sys.argv[1]) == {"status": "ok", "database": "ok"}, sys.argv[1]' "${health:-null}"
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=""

echo "== installed agent on a PostgreSQL store (the module in /usr/lib/sensorsys/store)"
psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c 'CREATE DATABASE sensorsys_pkgagent'
agent_store="host=127.0.0.1 port=$pg_port dbname=sensorsys_pkgagent user=postgres"
(cd /var/lib/sensorsys && /usr/bin/sensorsys-agent --config /dev/null --define store.connector=postgresql \
  --define "store.connection=$agent_store" --define agent.status_file="$work/pg-status.json" --status) \
  >"$work/pg-status.txt" 2>&1 && pg_status_rc=0 || pg_status_rc=$?
cat "$work/pg-status.txt"
check "agent --status on store.connector=postgresql exits 0" test "$pg_status_rc" -eq 0
check "the module migrated the agent's schema" test "$(psql -X -At -h 127.0.0.1 -p "$pg_port" \
  -U postgres -d sensorsys_pkgagent -c "SELECT to_regclass('sensor_project.agent_schema_migrations') IS NOT NULL")" = t
"$src/tests/support/pg_cluster.sh" stop "$pg_info" >/dev/null

echo "== dpkg -r keeps data, configuration and the user"
dpkg -r "${packages[@]}"
check "binaries removed" test ! -e /usr/bin/sensorsys-agent -a ! -e /usr/bin/sensorsys-server
check "plugins removed" test ! -e /usr/lib/sensorsys
check "buffer kept" test -f /var/lib/sensorsys/buffer.db
check "configuration kept" test -f /etc/sensorsys/agent.properties -a -f /etc/sensorsys/server.properties
check "user kept" getent passwd sensorsys

echo "== dpkg --purge leaves nothing behind"
dpkg --purge "${packages[@]}"
check "user and group removed" test -z "$(getent passwd sensorsys)$(getent group sensorsys)"
check "/var/lib/sensorsys, /var/log/sensorsys, /etc/sensorsys removed" \
  test ! -e /var/lib/sensorsys -a ! -e /var/log/sensorsys -a ! -e /etc/sensorsys
check "no statoverride left" test -z "$(dpkg-statoverride --list | grep sensorsys || true)"
if ((created_i2c)); then
  groupdel i2c
  created_i2c=0
fi
if ((added_policy)); then
  rm -f "$policy"
  added_policy=0
fi
snapshot >"$work/after.txt"
if ! diff -u "$work/before.txt" "$work/after.txt" >"$work/leftovers.diff"; then
  cat "$work/leftovers.diff" >&2
fi
check "file system, users and groups exactly as before installing" test ! -s "$work/leftovers.diff"

if ((failures)); then
  echo "install_test: $failures check(s) failed" >&2
  exit 1
fi
echo "install_test: installed, ran, removed and purged cleanly"
