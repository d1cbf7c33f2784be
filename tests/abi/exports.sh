#!/usr/bin/env bash
# The shared library's face: its SONAME is libtcpcore.so.MAJOR, and the
# only symbols it defines for others are the public API's tcpc_ names
# (src/libtcpcore.map). An internal function (syncache_expand, pcb_lookup)
# or a stray global that leaves the library fails this test, because a
# program that came to depend on it would break when the internals change.
# And the other way round: every function the public headers declare is
# exported (a declaration without a definition, or a definition the
# version script hides, fails here rather than in a user's link).
# Usage: exports.sh LIBTCPCORE_SO MAJOR PUBLIC_INCLUDE_DIR
set -euo pipefail
lib=$1 major=$2 include=$3

soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
if [ "$soname" != "libtcpcore.so.$major" ]; then
  echo "FAIL: $lib has SONAME '$soname', expected libtcpcore.so.$major"
  exit 1
fi

# Defined dynamic symbols, without their version suffix; the version node
# itself (TCPCORE_0) is listed as an absolute symbol and is not code.
mapfile -t syms < <(nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }')
bad=()
for s in "${syms[@]}"; do
  [[ $s == tcpc_* ]] || bad+=("$s")
done
if [ ${#bad[@]} -ne 0 ]; then
  echo "FAIL: $lib exports symbols outside the public tcpc_ API:"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
if [ ${#syms[@]} -eq 0 ]; then
  echo "FAIL: $lib exports nothing"
  exit 1
fi
# Declarations start a line with their return type (static inline helpers,
# typedefs and macros aside), as clang-format lays them out.
mapfile -t declared < <(grep -hE '^[a-z]' "$include"/tcpcore/*.h |
  grep -vE '^(static|typedef|struct|enum)' | grep -oE 'tcpc_[a-z0-9_]+\(' | tr -d '(' | sort -u)
missing=()
for d in "${declared[@]}"; do
  # Not grep -q: it may exit before printf is done, and the SIGPIPE that
  # printf then takes fails the pipeline under pipefail.
  printf '%s\n' "${syms[@]}" | grep -x "$d" >/dev/null || missing+=("$d")
done
if [ ${#missing[@]} -ne 0 ]; then
  echo "FAIL: functions the public headers declare that $lib does not export:"
  printf '  %s\n' "${missing[@]}"
  exit 1
fi
echo "ok: $soname exports ${#syms[@]} symbols, all tcpc_, and all ${#declared[@]} functions the headers declare"
