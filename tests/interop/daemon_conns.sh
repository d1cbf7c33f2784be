#!/usr/bin/env bash
# tcpcored with many connections from the kernel, IPv4 and IPv6: 1,000 in a
# row, then 500 open at once (each echoes its own line; tcpcore-stat must
# list all 500 as ESTABLISHED while they are held).
# Usage: bash $0 BUILD_DIR (CTest passes it). See daemon-lib.bash.
source "$(dirname "$0")/daemon-lib.bash"

dmn_setup conns
dmn_start --service echo:7

sequential() {
  kexec "$DMN_KCONNS" --addr "$1" --connect "$2" 7 --count 1000 --sequential
}

concurrent() {
  local log=$interop_tmp/kconns-$3 out estab i
  ip netns exec "$DMN_NS" timeout 60 "$DMN_KCONNS" --addr "$1" --connect "$2" 7 --count 500 \
    --concurrent --hold 3 >"$log.out" 2>"$log.err" &
  local pid=$!
  for ((i = 0; i < 3000; i++)); do
    grep -q '^holding' "$log.out" 2>/dev/null && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.01
  done
  estab=$(dmn_stat | awk -v p="$2.7" '$4 == p && $6 == "ESTABLISHED"' | wc -l)
  wait $pid
  local rc=$?
  cat "$log.out" "$log.err"
  [ $rc -eq 0 ] || return 1
  [ "$estab" -ge 500 ] || {
    echo "tcpcore-stat listed $estab ESTABLISHED connections on port 7 while 500 were held"
    return 1
  }
  echo "500 held at once, tcpcore-stat listed $estab ESTABLISHED"
}

dmn_case "v4 1000 connections in a row" sequential $K4 $T4
dmn_case "v6 1000 connections in a row" sequential $K6 $T6
dmn_case "v4 500 connections at once" concurrent $K4 $T4 v4
dmn_case "v6 500 connections at once" concurrent $K6 $T6 v6
dmn_stop_case
dmn_finish
