#!/usr/bin/env bash
# Fails when an include in src/ runs upward (docs/ARCHITECTURE.md, "Layers").
# A module may include its own layer's headers, the public API
# (tcpcore/...) and system headers, and the layers strictly below it.
# usage: check-layers.sh SRC_DIR
set -euo pipefail
src=${1:?usage: check-layers.sh SRC_DIR}

# Rank of each layer, bottom to top; equal ranks in different directories
# (util and wire) may not include each other either.
declare -A rank=([util]=0 [wire]=0 [core]=1 [link]=2 [pcb]=3 [tcp]=4 [stack]=5)

bad=0
for file in "$src"/*/*.[ch]; do
  layer=$(basename "$(dirname "$file")")
  if [[ -z ${rank[$layer]+x} ]]; then
    echo "check-layers: $file: directory '$layer' has no place in the layer picture" >&2
    bad=1
    continue
  fi
  while IFS= read -r line; do
    dep=${line#*\"}
    dep=${dep%%/*}
    [[ $line == *'"'*/*'"'* ]] || continue # same-directory include ("ip.h")
    [[ $dep == tcpcore || $dep == "$layer" ]] && continue
    if [[ -z ${rank[$dep]+x} ]]; then
      echo "check-layers: $file includes \"${line#*\"}: unknown layer '$dep'" >&2
      bad=1
    elif ((rank[$dep] >= rank[$layer])); then
      echo "check-layers: $file ($layer) includes \"${line#*\"} ($dep): upward or sideways" >&2
      bad=1
    fi
  done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
done
if ((bad)); then
  exit 1
fi
echo "check-layers: every include in $src points down"
