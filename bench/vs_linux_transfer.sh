#!/usr/bin/env bash
# Bulk transfer side by side with the Linux kernel over one impaired path:
# tcpcore as the sender against the kernel's CUBIC and BBR, the receiver
# always the kernel. This kernel has no netem, so the path is our own
# impairment relay (tools/impair-relay): per direction a fixed delay, a
# token-bucket bottleneck behind a drop-tail queue, and seeded random loss.
#
# Two namespaces it creates, joined only through the relay, which owns a
# TUN device in each (ra in the sender's, rb in the receiver's):
#   sender's:   the kernel sender at 198.18.5.1 on ra; tcpcore-peer on its
#               own TUN device tc0 (tcpcore 198.18.7.2, the kernel's end
#               198.18.7.1), whose packets the namespace's kernel routes
#               between tc0 and ra;
#   receiver's: kpeer at 198.18.6.1 on rb, receiving and hashing.
# The path: RTT_MS round trip (half each way), RATE_MBIT each way with a
# drop-tail queue of QUEUE bytes (default one bandwidth-delay product), and
# for each loss rate of LOSSES (percent) that loss in each direction.
#
# For each loss rate, ROUNDS rounds, each in turn: tcpcore-peer (the stack's
# default buffers and congestion control, or TCPCORE_BUFSIZE bytes and
# TCPCORE_CC: newreno or cubic, and any TCPCORE_SYSCTLS="name=value ..."),
# then kpeer with CUBIC, then
# kpeer with BBR (TCP_CONGESTION on the sender's socket; bbr_mbps=na when
# the kernel offers no bbr). Each sender sends SIZE bytes of the peer
# stream, or what it can in CAP_SECS seconds, whichever ends first (so the
# whole run is bounded: with the defaults under 10 minutes); the receiver's
# figure is what it received over the time from its accept to the end of
# the stream, in Mbit/s, and the bytes must match the sender's (SHA-256).
#
# Prints, medians over the rounds, one line per loss rate:
#   vs_linux loss=..% tcpcore_mbps=.. cubic_mbps=.. bbr_mbps=.. ratio_cubic=..
# (ratio_cubic = tcpcore / cubic), each followed by the rounds' ranges, and
# before it what the relay did in that loss rate (its seed, packets lost
# and dropped at the queue per direction: replay with SEED=).
#
# CAPTURE=DIR: each transfer's packet headers, as seen on tc0 or ra (the
# sender's side) and on rb (the receiver's), into DIR/<stack>.<port>.*.pcap.
# STACKS="tcpcore cubic ..." runs only those senders (default all three;
# for debugging one side, e.g. STACKS=tcpcore LOSSES=0 ROUNDS=1 KEEP_TMP=1,
# which keeps each sender's and receiver's output under /tmp/tcpc-vt.*).
#
# Usage (root): bench/vs_linux_transfer.sh [BUILD_DIR]   (default build;
# `make vs-linux-transfer` builds what it needs). Exit 77 when the
# namespaces cannot be made; nothing ever runs in the host's namespace.
set -uo pipefail

BUILD=${1:-build}
ROUNDS=${ROUNDS:-3}
SIZE=${SIZE:-100000000}
CAP_SECS=${CAP_SECS:-12}
LOSSES=${LOSSES:-0 0.1 1 5}
RTT_MS=${RTT_MS:-20}
RATE_MBIT=${RATE_MBIT:-100}
QUEUE=${QUEUE:-$((RATE_MBIT * 1000000 / 8 * RTT_MS / 1000))}
SEED=${SEED:-1}
TCPCORE_BUFSIZE=${TCPCORE_BUFSIZE:-}
TCPCORE_CC=${TCPCORE_CC:-}
# TCPCORE_SYSCTLS="name=value ...": tunables for tcpcore-peer (--sysctl).
tcpcore_sysctls=()
for kv in ${TCPCORE_SYSCTLS:-}; do tcpcore_sysctls+=(--sysctl "$kv"); done

S_K=198.18.5.1 # the kernel sender, on ra
R_K=198.18.6.1 # the kernel receiver, on rb
T_K=198.18.7.1 # the sender namespace's end of tc0
T_T=198.18.7.2 # tcpcore on tc0

RELAY=$BUILD/tools/impair-relay
TPEER=$BUILD/tools/tcpcore-peer
KPEER=$BUILD/tests/interop/kpeer
for prog in "$RELAY" "$TPEER" "$KPEER"; do
  [ -x "$prog" ] || { echo "vs_linux_transfer: $prog is not built (make vs-linux-transfer)" >&2; exit 1; }
done
command -v ip >/dev/null || { echo "vs_linux_transfer: needs ip (iproute2)" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
  echo "vs_linux_transfer: needs root (namespaces, TUN devices)" >&2
  exit 77
fi

NSS=tcpc-vt-$$-s
NSR=tcpc-vt-$$-r
tmp=$(mktemp -d /tmp/tcpc-vt.XXXXXX)
pids=()
vs_prog=vs_linux_transfer
vs_namespaces=("$NSS" "$NSR")
. "$(dirname "$0")/vs_linux_lib.bash"
trap vs_cleanup EXIT
trap 'exit 1' INT TERM

setup() {
  ip netns add "$NSS" 2>/dev/null || { echo "vs_linux_transfer: cannot create a namespace; skipped"; exit 77; }
  ip netns add "$NSR" 2>/dev/null || { echo "vs_linux_transfer: cannot create a namespace; skipped"; exit 77; }
  local ns
  for ns in "$NSS" "$NSR"; do
    ip -n "$ns" link set lo up &&
      ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 net.ipv4.conf.all.rp_filter=0 \
        net.ipv4.conf.default.rp_filter=0 ||
      { echo "vs_linux_transfer: namespace setup failed" >&2; exit 1; }
  done
  # The devices persist (the relay attaches to them, started anew for each
  # loss rate); addresses and routes stay while it is away.
  ip -n "$NSS" tuntap add dev ra mode tun &&
    ip -n "$NSR" tuntap add dev rb mode tun &&
    ip -n "$NSS" tuntap add dev tc0 mode tun &&
    ip -n "$NSS" addr add $S_K/32 dev ra &&
    ip -n "$NSR" addr add $R_K/32 dev rb &&
    ip -n "$NSS" addr add $T_K/24 dev tc0 &&
    ip -n "$NSS" link set ra up && ip -n "$NSR" link set rb up && ip -n "$NSS" link set tc0 up &&
    ip -n "$NSS" route add $R_K/32 dev ra src $S_K &&
    ip -n "$NSR" route add $S_K/32 dev rb src $R_K &&
    ip -n "$NSR" route add 198.18.7.0/24 dev rb src $R_K &&
    ip netns exec "$NSS" sysctl -qw net.ipv4.ip_forward=1 ||
    { echo "vs_linux_transfer: namespace setup failed" >&2; exit 1; }
}

# relay_start LOSS: the relay for one loss rate; sets relay_pid.
relay_start() {
  local half
  half=$(awk -v r="$RTT_MS" 'BEGIN { printf "%.3f", r / 2 }')
  ip netns exec "$NSS" timeout -k 5 3600 "$RELAY" --netns-a "/run/netns/$NSS" \
    --netns-b "/run/netns/$NSR" --seed "$SEED" --delay-ms "$half" --rate-mbit "$RATE_MBIT" \
    --queue "$QUEUE" --loss "$1" ra rb >"$tmp/relay.out" 2>&1 &
  relay_pid=$!
  pids+=($relay_pid)
  wait_line "$tmp/relay.out" '^impair-relay: ready' "$relay_pid" impair-relay
}

# relay_stop LOSS: stops it and prints what it did.
relay_stop() {
  kill -TERM "$relay_pid" 2>/dev/null
  wait "$relay_pid" 2>/dev/null
  awk -v loss="$1" '
    /^impair-relay: seed=/ { split($2, s, "="); seed = s[2] }
    /^impair-relay dir=/ {
      d = substr($2, 5)
      for (i = 3; i <= NF; i++) { split($i, kv, "="); v[d "_" kv[1]] = kv[2] } }
    END {
      printf "vs_linux_relay loss=%s%% seed=%s", loss, seed
      split("a2b b2a", ds, " ")
      for (j = 1; j <= 2; j++)
        printf " %s_packets=%s %s_lost=%s %s_queue_drops=%s %s_max_queue_bytes=%s", ds[j],
          v[ds[j] "_packets"], ds[j], v[ds[j] "_lost"], ds[j], v[ds[j] "_queue_drops"], ds[j],
          v[ds[j] "_max_queue_bytes"]
      printf "\n" }' "$tmp/relay.out"
}

# capture_start STACK: tcpdump on the sender's device and on rb, into
# caps (the pids); capture_stop ends them.
capture_start() {
  local dev=ra f
  [ "$1" = tcpcore ] && dev=tc0
  mkdir -p "$CAPTURE"
  for f in "$NSS:$dev" "$NSR:rb"; do
    ip netns exec "${f%%:*}" tcpdump -n -s 100 -U -i "${f##*:}" \
      -w "$CAPTURE/$1.$port.${f##*:}.pcap" 2>"$tmp/tcpdump.err" &
    caps+=($!)
    pids+=($!)
  done
  local i
  for ((i = 0; i < 50; i++)); do
    [ "$(grep -c listening "$tmp/tcpdump.err" 2>/dev/null)" -ge 1 ] && break
    sleep 0.1
  done
  sleep 0.5
}
capture_stop() {
  local p
  for p in "${caps[@]}"; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}

field() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | head -1; }

# transfer STACK: one transfer (tcpcore, cubic or bbr) to a new kpeer; sets
# rate to the receiver's rate in Mbit/s, or to "fail" (the reason on
# stderr). Not run in a subshell: port and pids must carry over.
port=5000
transfer() {
  local stack=$1 t=$((CAP_SECS + 60)) rcv snd rpid spid rrc src
  port=$((port + 1))
  rate=fail
  rcv=$tmp/rcv.$port snd=$tmp/snd.$port
  ip netns exec "$NSR" timeout -k 5 $((t + 10)) "$KPEER" --addr $R_K --listen $port \
    --timeout $t >"$rcv" 2>"$rcv.err" &
  rpid=$!
  pids+=($rpid)
  wait_line "$rcv" '^listening' "$rpid" kpeer
  local caps=()
  [ -n "${CAPTURE:-}" ] && capture_start "$stack"
  if [ "$stack" = tcpcore ]; then
    ip netns exec "$NSS" timeout -k 5 $((t + 10)) "$TPEER" --tun tc0 --addr $T_T \
      --connect $R_K $port --send-bytes "$SIZE" --send-secs "$CAP_SECS" --close-first \
      --timeout $t --linger-ms 3000 ${TCPCORE_BUFSIZE:+--bufsize "$TCPCORE_BUFSIZE"} \
      ${TCPCORE_CC:+--congestion "$TCPCORE_CC"} "${tcpcore_sysctls[@]}" >"$snd" 2>"$snd.err" &
  else
    ip netns exec "$NSS" timeout -k 5 $((t + 10)) "$KPEER" --addr $S_K --connect $R_K $port \
      --send-bytes "$SIZE" --send-secs "$CAP_SECS" --close-first --congestion "$stack" \
      --timeout $t >"$snd" 2>"$snd.err" &
  fi
  spid=$!
  pids+=($spid)
  wait "$spid"
  src=$?
  # A sender that failed leaves the receiver waiting for its connection.
  [ $src -eq 0 ] || kill -TERM "$rpid" 2>/dev/null
  wait "$rpid"
  rrc=$?
  [ -n "${CAPTURE:-}" ] && capture_stop
  if [ $src -ne 0 ] || [ $rrc -ne 0 ]; then
    echo "vs_linux_transfer: $stack transfer failed (sender $src, receiver $rrc):" >&2
    cat "$snd.err" "$rcv.err" >&2
    return
  fi
  if [ "$(field "$rcv" received)" != "$(field "$snd" sent)" ] ||
    [ "$(field "$rcv" sha256)" != "$(field "$snd" sent_sha256)" ]; then
    echo "vs_linux_transfer: $stack: the receiver's bytes differ from the sender's" >&2
    return
  fi
  rate=$(awk -v b="$(field "$rcv" received)" -v s="$(field "$rcv" data_secs)" \
    'BEGIN { printf "%.2f", (s > 0 ? b * 8 / s / 1e6 : 0) }')
  [ -z "${KEEP_TMP:-}" ] && rm -f "$rcv" "$rcv.err" "$snd" "$snd.err"
}

# fig_of FN LOSS STACK: median or range of a figure's rounds, "na" for none.
fig_of() {
  local v=${fig[$2.$3]:-}
  [ -n "${v// /}" ] && $1 "$v" || echo na
}

setup
stacks="tcpcore cubic"
if grep -qw bbr <(sysctl -n net.ipv4.tcp_available_congestion_control 2>/dev/null); then
  stacks="$stacks bbr"
else
  echo "vs_linux_transfer: this kernel offers no bbr (net.ipv4.tcp_available_congestion_control); bbr_mbps=na" >&2
fi
stacks=${STACKS:-$stacks}
echo "vs_linux_transfer: rtt_ms=$RTT_MS rate_mbit=$RATE_MBIT queue=$QUEUE size=$SIZE" \
  "cap_secs=$CAP_SECS rounds=$ROUNDS seed=$SEED tcpcore_bufsize=${TCPCORE_BUFSIZE:-default}" \
  "tcpcore_cc=${TCPCORE_CC:-default}" ${TCPCORE_SYSCTLS:+"tcpcore_sysctls=${TCPCORE_SYSCTLS// /,}"} \
  "load=$(cut -d' ' -f1-3 /proc/loadavg)"
failed=0
declare -A fig
for loss in $LOSSES; do
  relay_start "$loss"
  for ((i = 1; i <= ROUNDS; i++)); do
    for st in $stacks; do
      transfer $st
      if [ "$rate" = fail ]; then
        failed=1
      else
        fig[$loss.$st]="${fig[$loss.$st]:-} $rate"
      fi
    done
  done
  relay_stop "$loss"
  tc=$(fig_of median "$loss" tcpcore)
  cu=$(fig_of median "$loss" cubic)
  bb=$(fig_of median "$loss" bbr)
  ratio=$(awk -v a="$tc" -v b="$cu" 'BEGIN { if (a != "na" && b > 0) printf "%.2f", a / b; else print "na" }')
  echo "vs_linux loss=$loss% tcpcore_mbps=$tc cubic_mbps=$cu bbr_mbps=$bb ratio_cubic=$ratio" \
    "tcpcore_range=$(fig_of range "$loss" tcpcore) cubic_range=$(fig_of range "$loss" cubic)" \
    "bbr_range=$(fig_of range "$loss" bbr)"
done
exit $failed
