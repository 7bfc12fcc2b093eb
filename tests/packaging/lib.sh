# Shared by the packaging tests that install the packages into this machine's root.
# shellcheck shell=bash

# Installing into / is only allowed on a throwaway machine: CI (CI=true, as root). Anywhere
# else the test is skipped (exit 77, ctest SKIP_RETURN_CODE) and says how to run it.
require_throwaway_machine() {
  if [[ "${CI:-}" != "true" ]]; then
    echo "SKIPPED: $(basename "$0") installs and purges the sensorsys packages in this machine's" \
      "root; it runs only on a throwaway CI machine (CI=true, as root). Run it there, or" \
      "deliberately with CI=true ctest -L packaging."
    exit 77
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "SKIPPED: $(basename "$0") needs root to run dpkg -i (CI runs as root)."
    exit 77
  fi
  local present
  present=$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' 'sensorsys-*' 2>/dev/null |
    awk '$1 != "not-installed" { print $2 }' | tr '\n' ' ' || true)
  if [[ -n "$present" ]]; then
    echo "$(basename "$0"): sensorsys packages are already on this machine ($present): refusing to" \
      "touch a real installation; purge them first" >&2
    exit 1
  fi
  if getent passwd sensorsys >/dev/null || [[ -e /var/lib/sensorsys || -e /etc/sensorsys ]]; then
    echo "$(basename "$0"): a sensorsys user or /var/lib/sensorsys or /etc/sensorsys exists without" \
      "the packages: refusing to run over it" >&2
    exit 1
  fi
}

# debs_for ARCH PACKAGE... -> the .deb paths in $pkg_dir
debs_for() {
  local arch=$1 package found
  shift
  for package in "$@"; do
    found=("$pkg_dir/${package}"_*_"$arch".deb)
    [[ -f "${found[0]}" ]] || { echo "no $package package for $arch in $pkg_dir" >&2; return 1; }
    echo "${found[0]}"
  done
}

# Everything under the places a package can write to, with owner and mode, plus the user and
# group databases: compared before installing and after purging.
snapshot() {
  {
    find /etc /usr /lib /opt /srv /var/lib /var/log /var/cache/sensorsys -xdev \
      \( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/log/journal \
      -o -path /var/lib/postgresql -o -path /var/log/postgresql -o -path /etc/ld.so.cache \
      -o -path /var/lib/systemd/timers -o -path /var/lib/ucf -o -path /var/cache/debconf \
      -o -path /var/log/apt -o -path /var/lib/lintian \) -prune -o \
      -printf '%p %u:%g %m\n' 2>/dev/null || true
    getent passwd | cut -d: -f1,3,4,6,7
    getent group | cut -d: -f1,3,4
    dpkg-statoverride --list
  } | grep -v -e '/__pycache__' -e '^/var/log/dpkg.log' -e '^/var/log/alternatives.log' -e '^/etc/\(shadow\|gshadow\|passwd\|group\)-' | sort
}

failures=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    echo "ok: $what"
  else
    echo "FAIL: $what" >&2
    failures=$((failures + 1))
  fi
}
