#!/usr/bin/env bash
# Instructions per operation of every benchmark in bench/, counted by
# callgrind at a small size: the counts do not depend on the machine's load
# or clock, so anyone who builds the same code gets the same figures.
#
# Each benchmark times the body of functions named bench_op_<op> and prints
# `ops <op>=<count> ...` (bench/bench.h). This script runs it once under
# callgrind, collecting only inside those functions, takes each one's
# inclusive instruction count and divides it by its count, then prints
#   <name> <flag>=<value> ... instr_per_<op>=<instructions> ...
# A benchmark without a small size below is an error, so none is skipped.
#
# With --check (a CTest test, on the sanitizer build) it runs each program
# natively at the same size with two repetitions instead, and fails unless
# the program exits 0, its last line starts with its name and gives a
# median with its range, and every op of its ops line is a function
# bench_op_<op> in the binary: the contract the counting relies on.
#
# Usage: scripts/bench-instructions.sh [--check] [BENCH_DIR]   (default
# build/bench, built by `make bench`; `make bench-instructions` does both)
set -euo pipefail

check=0
if [ "${1:-}" = "--check" ]; then
  check=1
  shift
fi
dir=${1:-build/bench}

# The small size each benchmark runs at under callgrind (about 50 times
# slower than natively), one repetition.
small_args() {
  case "$1" in
    pcb_lookup) echo "--conns 100000 --lookups 65536 --reps 1" ;;
    groups) echo "--conns 2000 --lookups 50000 --reps 1" ;;
    synflood) echo "--syns 200000 --reps 1" ;;
    synflood-cookies) echo "--syns 200000 --reps 1 --mode cookies" ;;
    timewait) echo "--entries 20000 --reps 1" ;;
    sockets) echo "--sockets 100000 --reps 1" ;;
    transfer) echo "--bytes 4000000 --loss-bytes 1000000 --rr 5000 --segments 5000 --sim-bytes 500000 --reps 1" ;;
    *) return 1 ;;
  esac
}

# Runs beside the one per program (a second mode of the same program).
extra_runs() {
  case "$1" in
    synflood) echo "synflood-cookies" ;;
  esac
}

fail() {
  echo "bench-instructions: $*" >&2
  exit 1
}

if [ "$check" = 0 ]; then
  command -v callgrind_annotate >/dev/null ||
    fail "valgrind is missing (scripts/install-deps.sh installs it)"
fi
[ -d "$dir" ] || fail "no $dir; run make bench first"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --check: program $1 run natively with arguments $2 keeps the contract.
check_one() {
  local prog=$1 args=${2/--reps 1/--reps 2} last ops
  # shellcheck disable=SC2086 # args are words
  "$dir/$prog" $args >"$tmp/out" 2>"$tmp/err" || {
    cat "$tmp/err" >&2
    fail "$prog $args failed"
  }
  last=$(tail -n 1 "$tmp/out")
  case "$last" in
    "$prog "*_min=*_max=*) ;;
    *) fail "$prog: last line is not '$prog key=median key_min=.. key_max=..': $last" ;;
  esac
  ops=$(sed -n 's/^ops //p' "$tmp/out")
  [ -n "$ops" ] || fail "$prog printed no ops line"
  nm "$dir/$prog" >"$tmp/nm"
  for kv in $ops; do
    grep -q " bench_op_${kv%%=*}\$" "$tmp/nm" || fail "$prog: ops names ${kv%%=*}, but there is no bench_op_${kv%%=*}"
  done
  echo "$prog $args: ok"
}

# One run: program $1 with the arguments of entry $2.
count() {
  local prog=$1 entry=$2 args
  args=$(small_args "$entry") || fail "no small size for $entry; add one to $0"
  if [ "$check" = 1 ]; then
    check_one "$prog" "$args"
    return
  fi
  # callgrind counts each byte a `rep movsb` moves as one instruction, where
  # the CPU moves dozens per cycle; glibc copies above a threshold (a few
  # KiB) that way, so the threshold is raised past any copy the programs
  # make, and glibc copies with its vector loop, counted as it runs.
  # shellcheck disable=SC2086 # args are words
  GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=16777216 valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" --collect-atstart=no \
    --toggle-collect='bench_op_*' "$dir/$prog" $args >"$tmp/out" 2>"$tmp/err" || {
    cat "$tmp/err" >&2
    fail "$prog $args failed under callgrind"
  }
  local ops
  ops=$(sed -n 's/^ops //p' "$tmp/out")
  [ -n "$ops" ] || fail "$prog printed no ops line"
  callgrind_annotate --inclusive=yes --threshold=100 "$tmp/cg" >"$tmp/ann"
  # name, then the size flags as key=value (the repetition count left out)
  local line
  line="$prog$(echo " $args" | sed -e 's/ --reps [0-9]*//' -e 's/ --\([a-z_-]*\) \([^ ]*\)/ \1=\2/g')"
  for kv in $ops; do
    local op=${kv%%=*} n=${kv#*=} ir
    # lines look like "  12,345 (1.23%)  ???:bench_op_lookup [/path/prog]"
    ir=$(awk -v fn="bench_op_$op" '
      { for (i = 2; i <= NF; i++) { f = $i; sub(/^.*:/, "", f); if (f == fn) { gsub(",", "", $1); print $1; exit } } }' "$tmp/ann")
    [ -n "$ir" ] || fail "$prog: callgrind saw no bench_op_$op"
    line+=" instr_per_$op=$(awk -v ir="$ir" -v n="$n" 'BEGIN { printf "%.1f", ir / n }')"
  done
  echo "$line"
}

found=0
for path in "$dir"/*; do
  if [ ! -f "$path" ] || [ ! -x "$path" ]; then
    continue
  fi
  prog=$(basename "$path")
  found=1
  count "$prog" "$prog"
  for extra in $(extra_runs "$prog"); do
    count "$prog" "$extra"
  done
done
[ "$found" = 1 ] || fail "no programs in $dir"
