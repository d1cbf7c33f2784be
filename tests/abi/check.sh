#!/usr/bin/env bash
# The ABI check: what abi_layout prints (sizes, offsets, constants) and the
# symbols libtcpcore.so exports, against the committed baseline
# (tests/abi/baseline.txt). A baseline line missing from this build is a
# break: a removed function, a moved field, a renumbered constant. Lines
# only this build has are additions, which programs built before cannot
# notice; they are listed, and the baseline takes them with --update.
# Usage: check.sh ABI_LAYOUT LIBTCPCORE_SO BASELINE [--update]
set -euo pipefail
layout=$1 lib=$2 baseline=$3 update=${4:-}

current=$(mktemp)
trap 'rm -f "$current"' EXIT
{
  "$layout"
  nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print "symbol " $3 }'
} | LC_ALL=C sort -u >"$current"

if [ "$update" = --update ]; then
  cp "$current" "$baseline"
  echo "baseline updated: $baseline ($(wc -l <"$baseline") lines)"
  exit 0
fi
broken=$(LC_ALL=C comm -23 "$baseline" "$current")
added=$(LC_ALL=C comm -13 "$baseline" "$current")
if [ -n "$added" ]; then
  echo "additions (compatible; take them into the baseline with --update):"
  echo "$added" | sed 's/^/  /'
fi
if [ -n "$broken" ]; then
  echo "FAIL: the ABI changed: these baseline facts no longer hold:"
  echo "$broken" | sed 's/^/  /'
  echo "Restore them, or, for a deliberate break, bump TCPC_VERSION_MAJOR (the SONAME)"
  echo "and rewrite the baseline: bash tests/abi/check.sh ABI_LAYOUT LIB BASELINE --update"
  exit 1
fi
echo "ok: $(wc -l <"$baseline") baseline facts hold"
