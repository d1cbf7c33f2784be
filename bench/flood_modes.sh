#!/usr/bin/env bash
# tcpcored's SYN-flood modes side by side (issue 11): for each MODE, a new
# daemon on AF_PACKET as in bench/vs_linux.sh (two namespaces it creates, a
# veth pair, offloads off), warmed up with 5 s of wrk -t1 and 5 s of wrk -t2
# as that script does before its default-mode flood, then a bounded spoofed
# SYN flood (hping3 --rand-source, FLOOD_PKTS packets, FLOOD_SECS seconds)
# with wrk -t1 running from 1 s into it for DUR seconds. Modes run in turns,
# ROUNDS times, so that a loaded machine weighs on all of them alike.
#
# MODES (default "default cookies"): a word containing "cookies" runs with
# net.inet.tcp.syncookies_only=1; one starting with "before-" runs
# $BEFORE/tools/tcpcored (another build, to compare a change); one
# containing "fresh" skips the warm-up. SERIES=1 also samples
# `tcpcore-stat -d -s --json` every 100 ms during the flood; PERF=1 records
# `perf record -g` of the daemon during the flood's wrk.
#
# Writes into OUT_DIR: wrk outputs, counter snapshots (stat1 before the
# flood's wrk, stat2 after it), series-*.txt; prints one line per run
# (CPU ticks of the daemon, packets the flood sent). Nothing is computed
# here; the files are what docs/syncache.md's figures were read from.
#
# Usage (root): bench/flood_modes.sh BUILD_DIR OUT_DIR [ROUNDS]
# Exit 77 when the namespaces cannot be made.
set -uo pipefail
BUILD=$(realpath "${1:?usage: flood_modes.sh BUILD_DIR OUT_DIR [ROUNDS]}")
OUT=${2:?usage: flood_modes.sh BUILD_DIR OUT_DIR [ROUNDS]}
ROUNDS=${3:-2}
DUR=${DUR:-5}
CONNS=16
FLOOD_PKTS=${FLOOD_PKTS:-2000000}
FLOOD_SECS=${FLOOD_SECS:-10}
PERF=${PERF:-0}
BEFORE=${BEFORE:-}
for tool in ip wrk hping3 ethtool; do
  command -v $tool >/dev/null || { echo "flood_modes: needs $tool" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "flood_modes: needs root" >&2; exit 77; }
mkdir -p "$OUT" && chmod 755 "$OUT"
C_IP=198.18.1.1
T_IP=198.18.1.2
NSC=tcpc-fm-$$-c
NSS=tcpc-fm-$$-s
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  ip netns del $NSC 2>/dev/null
  ip netns del $NSS 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM
inc() { ip netns exec "$NSC" "$@"; }
ins() { ip netns exec "$NSS" "$@"; }

if ! ip netns add $NSC 2>/dev/null || ! ip netns add $NSS 2>/dev/null; then
  echo "flood_modes: no namespace; skipped"
  exit 77
fi
ip -n $NSC link set lo up && ip -n $NSS link set lo up &&
  ip link add c0 netns $NSC type veth peer name s0 netns $NSS &&
  inc sysctl -qw net.ipv6.conf.all.disable_ipv6=1 && ins sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
  inc sysctl -qw net.ipv4.ip_local_port_range="16384 65535" && inc sysctl -qw net.ipv4.tcp_tw_reuse=1 &&
  inc ethtool -K c0 tx off tso off gso off >/dev/null && ins ethtool -K s0 tx off tso off gso off >/dev/null &&
  ip -n $NSC addr add $C_IP/24 dev c0 && ip -n $NSS addr add 198.18.1.3/24 dev s0 &&
  ip -n $NSC link set c0 up && ip -n $NSS link set s0 up || { echo "flood_modes: setup failed" >&2; exit 1; }

port=8000
cpu_ticks() { awk '{ print $14 + $15 }' /proc/"$1"/stat; }
stat_json() { ins "$BUILD/tools/tcpcore-stat" -S "$OUT/ctl.sock" -d -s --json 2>/dev/null; }
stat_series() {
  while kill -0 "$1" 2>/dev/null; do
    echo "$(date +%s.%N) $(stat_json | tr -d '\n')"
    sleep 0.1
  done
}
wrk_to() { # THREADS FILE
  inc wrk -t"$1" -c$((CONNS * $1)) -d"${DUR}s" --latency --timeout 5s -H "Connection: close" \
    "http://$T_IP:$port/" >"$2" 2>&1
}

run_mode() { # MODE ROUND
  local mode=$1 r=$2 extra=() bin=$BUILD
  case $mode in *cookies*) extra=(--sysctl net.inet.tcp.syncookies_only=1) ;; esac
  case $mode in before-*) bin=${BEFORE:?BEFORE=DIR names the other build} ;; esac
  port=$((port + 1))
  rm -f "$OUT/ctl.sock"
  ip netns exec $NSS timeout -k 5 300 "$bin/tools/tcpcored" --af-packet s0 --addr $T_IP/24 \
    --gateway $C_IP --control "$OUT/ctl.sock" --user nobody --service http:$port "${extra[@]}" \
    >"$OUT/dmn-$mode-$r.out" 2>&1 &
  local sp=$! i
  pids+=("$sp")
  for ((i = 0; i < 500; i++)); do
    grep -q '^tcpcored: ready' "$OUT/dmn-$mode-$r.out" && break
    sleep 0.02
  done
  local dp t0 t1 t2 t3 tx0 tx1 pp=""
  dp=$(pgrep -P $sp | head -1)
  t0=$(cpu_ticks "$dp")
  case $mode in
  *fresh*) ;;
  *)
    wrk_to 1 "$OUT/wrk-plain-$mode-$r.txt"
    wrk_to 2 "$OUT/wrk-plain2-$mode-$r.txt"
    ;;
  esac
  t1=$(cpu_ticks "$dp")
  tx0=$(inc cat /sys/class/net/c0/statistics/tx_packets)
  ip netns exec $NSC timeout -k 2 "$FLOOD_SECS" hping3 -q -S --flood --rand-source -p $port \
    -c "$FLOOD_PKTS" $T_IP >"$OUT/hping-$mode-$r.txt" 2>&1 &
  local fp=$!
  pids+=("$fp")
  [ "${SERIES:-0}" = 1 ] && { stat_series $fp >"$OUT/series-$mode-$r.txt" & }
  sleep 1
  t2=$(cpu_ticks "$dp")
  if [ "$PERF" = 1 ]; then
    perf record -g -F 999 -p "$dp" -o "$OUT/perf-$mode-$r.data" -- sleep "$DUR" >/dev/null 2>&1 &
    pp=$!
  fi
  stat_json >"$OUT/stat1-$mode-$r.json"
  wrk_to 1 "$OUT/wrk-flood-$mode-$r.txt"
  t3=$(cpu_ticks "$dp")
  stat_json >"$OUT/stat2-$mode-$r.json"
  [ -n "$pp" ] && wait $pp
  wait $fp
  tx1=$(inc cat /sys/class/net/c0/statistics/tx_packets)
  kill -TERM $sp
  wait $sp
  echo "flood_modes mode=$mode round=$r cpu_warmup_ticks=$((t1 - t0))" \
    "cpu_flood_wrk_ticks=$((t3 - t2)) flood_pkts=$((tx1 - tx0))" | tee -a "$OUT/summary.txt"
}

for ((r = 1; r <= ROUNDS; r++)); do
  for m in ${MODES:-default cookies}; do run_mode "$m" $r; done
done
