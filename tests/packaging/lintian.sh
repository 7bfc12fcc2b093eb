#!/usr/bin/env bash
# lintian on every package: no error, and every warning tag that remains is justified in
# packaging/README.md (the tag's name appears there in backquotes).
#   lintian.sh PACKAGE_DIR README
set -euo pipefail
dir=${1:?usage: lintian.sh PACKAGE_DIR README}
readme=${2:?usage: lintian.sh PACKAGE_DIR README}
command -v lintian >/dev/null || { echo "lintian.sh: lintian not installed (scripts/install-deps.sh)" >&2; exit 1; }

shopt -s nullglob
debs=("$dir"/*.deb)
((${#debs[@]} > 0)) || { echo "lintian.sh: no .deb in $dir" >&2; exit 1; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
# Exit status 2 is lintian's own failure; 1 only says that tags at --fail-on level were found.
lintian --fail-on error --tag-display-limit 0 "${debs[@]}" >"$out" 2>&1 || status=$?
cat "$out"
if ((status > 1)); then
  echo "lintian.sh: lintian itself failed (exit $status)" >&2
  exit 1
fi

errors=$(grep -c '^E: ' "$out" || true)
warnings=$(grep -c '^W: ' "$out" || true)
unjustified=0
while read -r tag; do
  if ! grep -qF "\`$tag\`" "$readme"; then
    echo "lintian.sh: warning '$tag' is not justified in $readme" >&2
    unjustified=$((unjustified + 1))
  fi
done < <(sed -n 's/^W: [^ ]*: \([^ ]*\).*/\1/p' "$out" | sort -u)

echo "lintian: ${#debs[@]} packages, $errors error(s), $warnings warning(s), $unjustified unjustified"
((status == 0 && errors == 0 && unjustified == 0))
