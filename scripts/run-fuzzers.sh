#!/usr/bin/env bash
# Runs each libFuzzer binary in $1 for $2 seconds, starting from the
# committed regression inputs (fuzz/regress/<target>) and kept corpus
# (fuzz/corpus/<target>), which it never modifies: new inputs go to the
# first directory, under build/. Exits non-zero if any target crashed.
set -uo pipefail
dir=$1
seconds=$2
status=0
mkdir -p "$dir/corpus" "$dir/crashes"
# clang-19 ships no llvm-symbolizer of its own; any version reads the
# binaries' debug info, so crash reports get file and line.
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && command -v llvm-symbolizer >/dev/null; then
  export ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer)
fi
# Every input of the whole-stack target creates and frees a stack (about
# 0.4 MB in some fifty blocks). ASan's default 256 MB quarantine makes
# each of those blocks fresh memory, page-faulted in, and the 4 KiB it
# fills in each new block is written for nothing: an 8 MB quarantine
# still outlives any one input, so a use after free within an input is
# still caught, and the fixed cost per input drops by about a quarter.
# fuzz_stack carries these as its own defaults (__asan_default_options);
# exported here for every target. The caller's own ASAN_OPTIONS come last
# and win.
export ASAN_OPTIONS="quarantine_size_mb=8:max_malloc_fill_size=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# What a failed run leaves in its log where a CI log keeps it: where the
# report starts (which check, which sanitizer, the frames), how it ends,
# and each input it wrote, small enough to carry as base64, so that a
# crash found on another machine replays here (base64 -d > f, then the
# replay binary on its directory, or the libFuzzer binary on the file).
report_crash() {
  local dir=$1 target=$2 stamp=$3
  grep -m1 -B3 -A30 -E '^==[0-9]+== ?ERROR|^fuzz(_[a-z]+)?: |runtime error' "$dir/$target.log" >&2
  echo "..." >&2
  tail -20 "$dir/$target.log" >&2
  find "$dir/crashes" -name "$target-*" -newer "$stamp" -size -64k -type f | while read -r f; do
    echo "fuzz: input $(basename "$f") as base64:" >&2
    base64 -w0 "$f" >&2
    echo >&2
  done
}

failed=()
stamp=$(mktemp) # older than every input this run writes
trap 'rm -f "$stamp"' EXIT
for bin in "$dir"/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  target=$(basename "$bin"); target=${target#fuzz_}
  corpus="$dir/corpus/$target"
  mkdir -p "$corpus"
  seeds=fuzz/regress/$target
  kept=fuzz/corpus/$target
  # The whole-stack target runs without entropic scheduling: with tens of
  # thousands of features, its bookkeeping (every new feature walks the
  # whole corpus) took about a third of each run, and this target steers by
  # its own script format rather than by rare features.
  extra=()
  [ "$target" = stack ] && extra=(-entropic=0)
  echo "fuzz: $target for ${seconds}s"
  if ! "$bin" "${extra[@]}" -max_total_time="$seconds" -print_final_stats=1 \
       -artifact_prefix="$dir/crashes/$target-" "$corpus" $( [ -d "$seeds" ] && echo "$seeds") $( [ -d "$kept" ] && echo "$kept") \
       >"$dir/$target.log" 2>&1; then
    echo "fuzz: $target FAILED; see $dir/$target.log and $dir/crashes/" >&2
    failed+=("$target")
    status=1
  else
    grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$dir/$target.log" | tail -1
  fi
done
# Last, so that a log cut to its end still holds them.
for target in "${failed[@]}"; do
  report_crash "$dir" "$target" "$stamp"
done
exit $status
