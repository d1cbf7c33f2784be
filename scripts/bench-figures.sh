#!/usr/bin/env bash
# The README's figures: every benchmark in bench/ run at its full size, a
# few invocations one after another, summarised as the README quotes them.
#
# Each program repeats its measurement (--reps) and prints a last line
# `name key=median key_min=.. key_max=..`. The machine's speed drifts between
# invocations more than within one, so one invocation's range is too narrow
# to say what a rerun gives. This script runs each program RUNS times and
# prints, per program, a line
#   figures <name> key=<median of the invocations' medians>
#           key_min=<lowest min> key_max=<highest max> ... runs=<RUNS> load=<..>
# keeping keys without a range (sizes, byte counts) as the first invocation
# gave them. load is the 1-minute load average before and after: a figure
# taken beside other work is slower, and says so.
#
# Usage: scripts/bench-figures.sh [BENCH_DIR] [RUNS]   (default build/bench,
# built by `make bench`, and 3; `make bench-figures` does both)
set -euo pipefail

dir=${1:-build/bench}
runs=${2:-3}
[ -d "$dir" ] || {
  echo "bench-figures: no $dir; run make bench first" >&2
  exit 1
}

# name|arguments: the invocations the README's table quotes.
programs=(
  "pcb_lookup|"
  "pcb_lookup|--conns 10000000"
  "synflood|"
  "synflood|--mode cookies"
  "timewait|"
  "sockets|"
  "sockets|--idle 1000000"
  "transfer|"
  "groups|"
)

load() { cut -d' ' -f1 /proc/loadavg; }

# Reads the invocations' last lines on stdin and prints the summary.
summarise() {
  awk -v runs="$runs" -v label="$1" -v load="$2" '
    {
      for (i = 2; i <= NF; i++) {
        split($i, kv, "=")
        k = kv[1]; v = kv[2]
        if (!(k in seen)) { seen[k] = 1; order[++nk] = k; first[k] = v }
        vals[k, NR] = v
      }
    }
    function median(k,   n, i, j, t, a) {
      n = 0
      for (i = 1; i <= NR; i++) if ((k, i) in vals) a[++n] = vals[k, i] + 0
      for (i = 2; i <= n; i++)
        for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function extreme(k, want_max,   i, r, v, have) {
      have = 0
      for (i = 1; i <= NR; i++) {
        if (!((k, i) in vals)) continue
        v = vals[k, i] + 0
        if (!have || (want_max ? v > r : v < r)) { r = v; have = 1 }
      }
      return r
    }
    function fmt(v) {
      if (v == int(v)) return sprintf("%d", v)
      return v >= 100 ? sprintf("%.1f", v) : sprintf("%.3f", v)
    }
    END {
      line = "figures " label
      for (n = 1; n <= nk; n++) {
        k = order[n]
        if (k ~ /_(min|max)$/) continue
        if ((k "_min") in seen) {
          line = line " " k "=" fmt(median(k)) " " k "_min=" fmt(extreme(k "_min", 0)) \
                 " " k "_max=" fmt(extreme(k "_max", 1))
        } else {
          line = line " " k "=" first[k]
        }
      }
      print line " runs=" runs " load=" load
    }'
}

for entry in "${programs[@]}"; do
  name=${entry%%|*}
  args=${entry#*|}
  label="$name${args:+ $args}"
  before=$(load)
  lines=""
  for ((i = 1; i <= runs; i++)); do
    # shellcheck disable=SC2086 # args are words
    last=$("$dir/$name" $args | tail -1)
    echo "$label: $last"
    lines+="$last"$'\n'
  done
  printf '%s' "$lines" | summarise "${label// /_}" "$before-$(load)"
done
