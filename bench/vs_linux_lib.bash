# What bench/vs_linux.sh and bench/vs_linux_transfer.sh share: cleaning up
# their processes, namespaces and temporary folder, waiting for a program
# to say it is ready, and medians and ranges over rounds. Sourced; the
# script sets vs_prog (its name in messages), vs_namespaces (the
# namespaces it made), tmp and pids (the processes it started).

vs_cleanup() {
  local p ns
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.2
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for ns in "${vs_namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
  [ -n "${KEEP_TMP:-}" ] && echo "$vs_prog: kept $tmp" || rm -rf "$tmp"
}

# wait_line FILE REGEX PID NAME: until FILE has a line matching REGEX, for
# 10 s at most or until PID exits; exits 1 saying so.
wait_line() {
  local i
  for ((i = 0; i < 1000; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.01
  done
  echo "$vs_prog: $4 did not start:" >&2
  cat "$1" >&2
  exit 1
}

# median of numbers; "a/b" pairs (memory/half-open) by their first part.
median() {
  tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -t/ -k1,1g | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }'
}
range() {
  tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -t/ -k1,1g | awk 'NR == 1 { lo = $0 } { hi = $0 } END { print lo "-" hi }'
}
