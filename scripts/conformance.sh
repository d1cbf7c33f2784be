#!/usr/bin/env bash
# make conformance: FreeBSD's TCP test suite, run by packetdrill against
# libtcpcore_packetdrill.so (docs/packetdrill.md).
#
#   scripts/conformance.sh [--check] [--update]
#
# Builds packetdrill (from the conformance material) and a non-sanitized
# libtcpcore_packetdrill.so under $BUILD, runs every script of the suite
# (FreeBSD branch of its #ifdefs, from its own directory, in a network
# namespace of its own, $TIMEOUT s each, $JOBS at a time), prints passed /
# failed / not runnable by directory and the line
#   conformance freebsd passed=.. failed=.. unrunnable=..
# Results, one line per script, go to $BUILD/results.txt.
#   --check   compare with tests/conformance/expected.txt: exit 1 when a
#             script expected to pass does not (new passes are reported)
#   --update  rewrite tests/conformance/expected.txt from this run
# Environment: CONFORMANCE (default ../shared/conformance from the repo
# root), BUILD (build/conformance), JOBS (nproc), TIMEOUT (20),
# PDRILL_LENIENT (passed on to packetdrill; a lenient run cannot --update),
# ONLY (a substring: run only the scripts whose path contains it).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
material=${CONFORMANCE:-$root/../shared/conformance}
build=${BUILD:-$root/build/conformance}
jobs=${JOBS:-$(nproc)}
timeout_s=${TIMEOUT:-20}
expected=$root/tests/conformance/expected.txt
reasons=$root/tests/conformance/reasons.txt
check=0 update=0
for a in "$@"; do
  case $a in
  --check) check=1 ;;
  --update) update=1 ;;
  *) echo "usage: $0 [--check] [--update]" >&2; exit 2 ;;
  esac
done

suite=$material/freebsd-tcp-testsuite
if [ ! -d "$suite" ] || [ ! -x "$material/build-packetdrill.sh" ]; then
  echo "conformance: material not found at $material (set CONFORMANCE=DIR)" >&2
  exit 1
fi
if [ -n "${PDRILL_LENIENT:-}" ] && [ $update = 1 ]; then
  echo "conformance: a lenient run does not define the expected results" >&2
  exit 2
fi
if ! unshare -n true 2>/dev/null; then
  echo "conformance: cannot create a network namespace (unshare -n needs root)" >&2
  exit 1
fi
mkdir -p "$build"
build=$(cd "$build" && pwd)

# packetdrill, rebuilt when the material changes.
stamp=$(cat "$material/build-packetdrill.sh" "$material/packetdrill/so-interface.patch" | cksum)
if [ ! -x "$build/packetdrill" ] || [ "$(cat "$build/packetdrill.stamp" 2>/dev/null)" != "$stamp" ]; then
  "$material/build-packetdrill.sh" "$build" >/dev/null
  echo "$stamp" >"$build/packetdrill.stamp"
fi
# The adapter, without sanitizers: packetdrill loads it with RTLD_DEEPBIND.
cmake -S "$root" -B "$build/cmake" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTCPC_CONFORMANCE_DIR="$material" >/dev/null
cmake --build "$build/cmake" -j"$jobs" --target tcpcore_packetdrill >/dev/null
so=$build/cmake/tools/libtcpcore_packetdrill.so

# One script: prints "path<TAB>verdict<TAB>first error line".
run_one() {
  local rel=$1 dir base out log status msg
  dir=$suite/$(dirname "$rel")
  base=$(basename "$rel")
  out=$build/scripts/$rel
  log=$out.log
  mkdir -p "$(dirname "$out")"
  awk -f "$root/tests/conformance/freebsd-ifdef.awk" "$dir/$base" >"$out"
  if ! (cd "$dir" && "$build/packetdrill" --dry_run "$out") >"$log" 2>&1; then
    msg=$(grep -m1 . "$log" | sed "s|$out|$base|g" || true)
    printf '%s\tunrunnable\t%s\n' "$rel" "${msg:-packetdrill cannot parse it}"
    return
  fi
  status=0
  (cd "$dir" && unshare -n timeout "$timeout_s" "$build/packetdrill" --so_filename="$so" "$out") \
    >"$log" 2>&1 || status=$?
  if [ $status = 0 ]; then
    printf '%s\tpass\t\n' "$rel"
  elif [ $status = 124 ]; then
    printf '%s\tfail\ttimed out after %ss\n' "$rel" "$timeout_s"
  else
    # The first error, with the packets packetdrill compared when it says.
    msg=$(grep -v -m1 -e '^pdrill-lenient:' -e '^$' "$log" | sed "s|$out|$base|g" || true)
    line=$(sed -n 's/^[^ ]*\.pkt:\([0-9][0-9]*\): .*/\1/p' <<<"$msg" | head -1)
    if [ -n "$line" ] && ! grep -q '^script packet:' "$log"; then
      msg+=" | line: $(sed -n "${line}p" "$out" | sed 's/^[ \t]*//' | cut -c1-100)"
    fi
    msg+=$(sed -n -e 's/^script packet: *[0-9.]* / | script: /p' \
      -e 's/^actual packet: *[0-9.]* / | actual: /p' "$log" | head -2 | tr -d '\n')
    printf '%s\tfail\t%s\n' "$rel" "${msg:-exit status $status}"
  fi
}
export -f run_one
export suite build root so timeout_s

(cd "$suite" && find . -name '*.pkt' | sed 's|^\./||' | sort) | grep -F -- "${ONLY:-}" |
  xargs -P "$jobs" -I{} bash -c 'run_one "$1"' _ {} | sort >"$build/results.raw"

# Reason classes: the first pattern of reasons.txt the error line matches.
awk -F'\t' -v OFS='\t' -v reasons="$reasons" '
  BEGIN { while ((getline l < reasons) > 0) if (l !~ /^#/ && l ~ /\t/) {
            split(l, f, "\t"); n++; pat[n] = f[1]; why[n] = f[2] } }
  { r = $3
    if ($2 == "fail") { r = "not yet analysed: " $3
      for (i = 1; i <= n; i++) if ($3 ~ pat[i]) { r = why[i] " [" $3 "]"; break } }
    print $1, $2, r }' "$build/results.raw" >"$build/results.txt"

awk -F'\t' '
  { d = $1; sub(/\/.*/, "", d); dirs[d] = 1; c[d, $2]++; t[$2]++ }
  END {
    printf "%-22s %7s %7s %11s\n", "directory", "passed", "failed", "unrunnable"
    for (d in dirs) printf "%-22s %7d %7d %11d\n", d, c[d, "pass"], c[d, "fail"], c[d, "unrunnable"] | "sort"
    close("sort")
    printf "conformance freebsd passed=%d failed=%d unrunnable=%d\n", t["pass"], t["fail"], t["unrunnable"]
  }' "$build/results.txt" >"$build/summary.txt"

# The failure classes, most frequent first.
awk -F'\t' '$2 == "fail" { r = $3; sub(/ \[.*$/, "", r); n[r]++ }
  END { for (r in n) printf "%5d  %s\n", n[r], r }' "$build/results.txt" | sort -rn \
  >"$build/classes.txt"

if [ $update = 1 ]; then
  { echo "# FreeBSD tcp-testsuite verdicts for tcpcore: script<TAB>verdict<TAB>reason."
    echo "# Written by 'make conformance-update'; 'make check' fails when a pass turns into"
    echo "# anything else. Reasons come from tests/conformance/reasons.txt [first mismatch]."
    cat "$build/results.txt"; } >"$expected"
  echo "conformance: wrote $expected"
fi

status=0
if [ $check = 1 ]; then
  regressions=$(awk -F'\t' 'NR == FNR { if ($0 !~ /^#/) v[$1] = $2; next }
    ($1 in v) && v[$1] == "pass" && $2 != "pass" { print "  " $1 ": " $3 }' \
    "$expected" "$build/results.txt")
  gained=$(awk -F'\t' 'NR == FNR { if ($0 !~ /^#/) v[$1] = $2; next }
    $2 == "pass" && v[$1] != "pass" { print "  " $1 }' "$expected" "$build/results.txt")
  if [ -n "$gained" ]; then
    echo "conformance: scripts that now pass (run 'make conformance-update' and commit):"
    echo "$gained"
  fi
  if [ -n "$regressions" ]; then
    echo "conformance: scripts that passed and now fail:"
    echo "$regressions"
    status=1
  fi
fi
[ -s "$build/classes.txt" ] && { echo "failure classes:"; head -20 "$build/classes.txt"; }
cat "$build/summary.txt"
exit $status
