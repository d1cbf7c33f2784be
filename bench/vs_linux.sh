#!/usr/bin/env bash
# tcpcore side by side with the Linux kernel, as a front for HTTP clients:
# new connections per second and what a SYN flood does to legitimate ones.
#
# Two namespaces it creates, joined by a veth pair: the client's (c0,
# 198.18.1.1) and the server's (s0). In the server's, tcpcored owns s0
# through AF_PACKET as 198.18.1.2 and serves its page with the http
# service; the kernel has 198.18.1.3 on the same s0, where khttpd
# (bench/vs_linux/khttpd.c: one thread, epoll, the same page and head)
# serves it. The two servers differ only in the TCP stack underneath. Only
# the server being measured runs: tcpcored's packet socket would otherwise
# copy every frame meant for the kernel.
#
# Measured for each server, in turns (ROUNDS rounds, tcpcore then Linux;
# tcpcore on AF_PACKET, and with its defaults also on a TUN device, tun0 in
# the server's namespace at 198.18.2.2, reached through the namespace's
# kernel routing between s0 and tun0, reported as tcpcore_tun=):
#  - new connections per second without keep-alive (wrk, Connection: close),
#    one and two client threads, with latency p50/p99; with WORKERS=N (N > 1)
#    also tcpcored -j N on AF_PACKET fanout, reported against -j 1 as
#    `vs_linux test=cps_t1_workers ...` and `cps_t2_workers`;
#  - the same with one thread while hping3 floods the server's port with
#    spoofed SYNs (--rand-source; bounded by FLOOD_PKTS packets and
#    FLOOD_SECS seconds): the share of requests that succeed, their p50/p99,
#    and the server's memory before and after (tcpcored's resident set; for
#    the kernel its TCP memory from the namespace's /proc/net/sockstat plus
#    the half-open count). tcpcore runs with its defaults and cookies-only
#    (net.inet.tcp.syncookies_only=1), the kernel with its defaults and with
#    cookies forced (net.ipv4.tcp_syncookies=2).
#  - forward under attack: tcpcored's forward service in front of khttpd as
#    a kernel backend (198.18.1.3:8080) during the same flood: every request
#    a client completed reached the backend, and the backend's kernel
#    accepted exactly those connections (no flood SYN got through).
#
# Prints one line per figure, medians over the rounds:
#  - connect rate once the ephemeral ports sit in TIME_WAIT: tcpcore as the
#    client against the kernel as the client, both against the same kernel
#    server (khttpd --peer-closes in the client's namespace, so that the
#    connecting side closes first and keeps the TIME_WAIT). tcpcored's
#    forward service relays each wrk request to that server, through
#    tcpcore (forward:...,stack, from 198.18.1.2) or through a kernel socket
#    (from 198.18.1.3); both sides get the same ephemeral range of
#    EPHEMERAL ports (default 4,096: 32768-36863), small enough for
#    CONNECT_SECS of connections to overrun it many times, so that most of the
#    run connects with every port of the range already in TIME_WAIT. The
#    downstream half (wrk to tcpcored) is the same in both.
#
# Prints one line per figure, medians over the rounds:
#   vs_linux test=NAME tcpcore=.. linux=.. ratio=..   (tcpcore / linux)
# then a last line `vs_linux rounds=.. ...` with the headline figures.
#
# Usage (root): bench/vs_linux.sh [BUILD_DIR]   (default build; `make
# vs-linux` builds it and installs wrk and hping3). Exit 77 when the
# namespaces cannot be made; nothing ever runs in the host's namespace.
set -uo pipefail

BUILD=${1:-build}
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-5}                  # seconds per measurement
CONNS=${CONNS:-16}             # wrk connections per thread
FLOOD_PKTS=${FLOOD_PKTS:-2000000}
FLOOD_SECS=${FLOOD_SECS:-10}
CONNECT_SECS=${CONNECT_SECS:-20}
WORKERS=${WORKERS:-1}          # above 1: also tcpcored -j WORKERS, without a flood
EPHEMERAL=${EPHEMERAL:-4096}

C_IP=198.18.1.1
T_IP=198.18.1.2 # tcpcored
K_IP=198.18.1.3 # the kernel
TUN_K=198.18.2.1 # the server namespace's end of tun0
TUN_T=198.18.2.2 # tcpcored on tun0

DMN=$BUILD/tools/tcpcored
KHTTPD=$BUILD/bench/vs_linux/khttpd
for prog in "$DMN" "$KHTTPD"; do
  [ -x "$prog" ] || { echo "vs_linux: $prog is not built (make vs-linux)" >&2; exit 1; }
done
for tool in ip wrk hping3 ethtool; do
  command -v $tool >/dev/null || { echo "vs_linux: needs $tool (make vs-linux installs it)" >&2; exit 1; }
done
if [ "$(id -u)" != 0 ]; then
  echo "vs_linux: needs root (namespaces, AF_PACKET)" >&2
  exit 77
fi

NSC=tcpc-vs-$$-c
NSS=tcpc-vs-$$-s
tmp=$(mktemp -d /tmp/tcpc-vs.XXXXXX)
chmod 755 "$tmp"
pids=()
vs_prog=vs_linux
vs_namespaces=("$NSC" "$NSS")
. "$(dirname "$0")/vs_linux_lib.bash"
trap vs_cleanup EXIT
trap 'exit 1' INT TERM

# In the client's or the server's namespace. Background processes are
# started with `ip netns exec` itself, never through these functions: a
# function run with & is a subshell, and $! would name it, not the process.
inc() { ip netns exec "$NSC" "$@"; }
ins() { ip netns exec "$NSS" "$@"; }

setup() {
  ip netns add "$NSC" 2>/dev/null || { echo "vs_linux: cannot create a namespace; skipped"; exit 77; }
  ip netns add "$NSS" 2>/dev/null || { echo "vs_linux: cannot create a namespace; skipped"; exit 77; }
  ip -n "$NSC" link set lo up && ip -n "$NSS" link set lo up &&
    ip link add c0 netns "$NSC" type veth peer name s0 netns "$NSS" &&
    inc sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
    ins sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
    inc sysctl -qw net.ipv4.ip_local_port_range="16384 65535" &&
    inc sysctl -qw net.ipv4.tcp_tw_reuse=1 &&
    inc ethtool -K c0 tx off tso off gso off >/dev/null &&
    ins ethtool -K s0 tx off tso off gso off >/dev/null &&
    ip -n "$NSC" addr add $C_IP/24 dev c0 &&
    ip -n "$NSS" addr add $K_IP/24 dev s0 &&
    ip -n "$NSC" link set c0 up && ip -n "$NSS" link set s0 up &&
    ip -n "$NSS" route add default via $C_IP &&
    ip -n "$NSS" tuntap add dev tun0 mode tun &&
    ip -n "$NSS" addr add $TUN_K/24 dev tun0 && ip -n "$NSS" link set tun0 up &&
    ins sysctl -qw net.ipv4.ip_forward=1 &&
    ip -n "$NSC" route add 198.18.2.0/24 via $K_IP || { echo "vs_linux: namespace setup failed" >&2; exit 1; }
  # tcpcored on TUN sits behind the server namespace's kernel, which routes
  # between s0 and tun0: the TUN figures include that forwarding.
  if [ -n "${KEEP_TMP:-}" ]; then
    ip netns exec "$NSS" ip monitor link address >"$tmp/monitor.txt" 2>&1 &
    pids+=($!)
  fi
  # The client's ephemeral ports start above the servers' ports (8001 and
  # up, one per start): the connect case runs a server in the client's
  # namespace, and its bind must not meet a wrk connection's local port.
  # The veth's offloads are off so that the packet socket gets whole,
  # checksummed frames, as from a NIC; the kernel server gets the same.
  # Replies to spoofed sources go to the client's namespace, which drops
  # them (it does not forward).
}

# start_tcpcored EXTRA_ARGS...: the daemon on s0 (on tun0 with DEV=tun);
# sets srv_pid.
start_tcpcored() {
  rm -f "$tmp/ctl.sock" "$tmp/dmn.out"
  local dev=(--af-packet s0 --addr $T_IP/24 --gateway $C_IP)
  [ "${DEV:-afp}" = tun ] && dev=(--tun tun0 --addr $TUN_T/24 --gateway $TUN_K)
  ip netns exec "$NSS" timeout -k 5 900 "$DMN" "${dev[@]}" \
    --control "$tmp/ctl.sock" --user nobody "$@" >"$tmp/dmn.out" 2>&1 &
  srv_pid=$!
  pids+=($srv_pid)
  wait_line "$tmp/dmn.out" '^tcpcored: ready' "$srv_pid" tcpcored
}

# start_khttpd ADDR PORT [NAMESPACE [OPTION]]: the kernel's responder, in
# the server's namespace unless told; sets srv_pid.
start_khttpd() {
  rm -f "$tmp/kh.out"
  ip netns exec "${3:-$NSS}" timeout -k 5 900 "$KHTTPD" ${4:-} "$1" "$2" >"$tmp/kh.out" 2>&1 &
  srv_pid=$!
  pids+=($srv_pid)
  wait_line "$tmp/kh.out" '^khttpd: ready' "$srv_pid" khttpd
}

stop_server() {
  kill -TERM "$srv_pid" 2>/dev/null
  wait "$srv_pid" 2>/dev/null
}

# The server process itself (timeout execs ip netns exec, which execs it).
server_proc() { pgrep -P "$srv_pid" | head -1; }

# The running server's CPU time (user and system, all threads, in
# microseconds) and its threads' voluntary context switches (each a sleep
# and a wake-up): "us switches".
server_usage() {
  local p hz
  p=$(server_proc)
  hz=$(getconf CLK_TCK)
  awk -v hz="$hz" '{ printf "%d ", ($14 + $15) * 1000000 / hz }' /proc/"$p"/stat
  cat /proc/"$p"/task/*/status | awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }'
}

# wrk_run THREADS URL: prints "cps ok_share p50_ms p99_ms requests_ok".
# wrk gives up at once when its first connection fails (during a flood a
# SYN can be lost or queued past its patience); such a start is retried, at
# most three times, and counted in wrk_restarts on the last line.
wrk_run() {
  local out try
  for try in 1 2 3 4; do
    out=$(inc timeout -k 5 $((DUR + 30)) wrk -t"$1" -c$((CONNS * $1)) -d"${DUR}s" --latency \
      --timeout 5s -H "Connection: close" "$2" 2>&1)
    printf '== wrk -t%s %s\n%s\n' "$1" "$2" "$out" >>"$tmp/wrk.log"
    grep -q '^unable to connect' <<<"$out" || break
    [ $try -lt 4 ] && echo "restart" >>"$tmp/wrk.restarts"
  done
  awk '
    function ms(v) {
      if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0
      if (v ~ /s$/) return v * 1000; return v }
    /requests in/ { req = $1 }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Socket errors/ { gsub(",", ""); err = $4 + $6 + $8 + $10 }
    /Non-2xx/ { bad = $5 }
    END {
      ok = req - bad; tried = req + err
      printf "%.0f %.4f %.3f %.3f %d\n", rps, (tried > 0 ? ok / tried : 0), p50, p99, ok }' <<<"$out"
}

# The server's memory: tcpcored's resident bytes, or the kernel's TCP
# memory in the server namespace plus its half-open connections.
mem_tcpcore() { awk '/VmRSS/ { print $2 * 1024 }' /proc/"$(server_proc)"/status; }
mem_kernel() {
  local pages syn
  pages=$(ins awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) }' /proc/net/sockstat)
  syn=$(ins ss -Htn state syn-recv | wc -l)
  echo "$((pages * 4096))/$syn"
}

# flood IP PORT: spoofed SYNs in the background; sets flood_pid.
flood_start() {
  ip netns exec "$NSC" timeout -k 2 "$FLOOD_SECS" hping3 -q -S --flood --rand-source -p "$2" -c "$FLOOD_PKTS" "$1" \
    >"$tmp/hping.out" 2>&1 &
  flood_pid=$!
  pids+=($flood_pid)
  sleep 1 # let the flood fill the SYN cache or backlog first
}
flood_stop() {
  wait "$flood_pid" 2>/dev/null
}
# Packets the client's end sent (to count the flood).
tx_packets() { inc cat /sys/class/net/c0/statistics/tx_packets; }

declare -A fig # fig[test.stack] = "v1 v2 ..." over the rounds

record() { fig[$1.$2]="${fig[$1.$2]:-} $3"; }

# measure STACK URL MEMFN: the no-flood runs of one round.
measure_plain() {
  local r u0 u1
  u0=$(server_usage)
  r=$(wrk_run 1 "$2")
  u1=$(server_usage)
  set -- "$1" $r
  record cps_t1 "$1" "$2"
  record p50_ms_t1 "$1" "$4"
  record p99_ms_t1 "$1" "$5"
  # What each connection cost the server process (the kernel's own part,
  # its softirq work, is charged elsewhere, so this is for tcpcored's
  # configurations against each other, not against the kernel).
  local cost
  cost=($(awk -v a="$u0" -v b="$u1" -v n="$6" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    if (n > 0) printf "%.1f %.3f\n", (y[1] - x[1]) / n, (y[2] - x[2]) / n; else print "0 0" }'))
  record cpu_us_per_conn_t1 "$1" "${cost[0]}"
  record switches_per_conn_t1 "$1" "${cost[1]}"
}
measure_plain2() {
  local r
  r=$(wrk_run 2 "$2")
  set -- "$1" $r
  record cps_t2 "$1" "$2"
  record p99_ms_t2 "$1" "$5"
}

# measure_flood STACK MODE URL MEMFN
measure_flood() {
  local stack=$1 mode=$2 url=$3 memfn=$4 before after r tx0 tx1
  before=$($memfn)
  tx0=$(tx_packets)
  local hostport=${url#http://}
  hostport=${hostport%%/*}
  flood_start "${hostport%:*}" "${hostport#*:}"
  r=$(wrk_run 1 "$url")
  after=$($memfn)
  flood_stop
  tx1=$(tx_packets)
  set -- $r
  record "flood_${mode}_ok_share" "$stack" "$2"
  record "flood_${mode}_cps" "$stack" "$1"
  record "flood_${mode}_p50_ms" "$stack" "$3"
  record "flood_${mode}_p99_ms" "$stack" "$4"
  record "flood_${mode}_mem_before" "$stack" "$before"
  record "flood_${mode}_mem_after" "$stack" "$after"
  record "flood_${mode}_pkts" "$stack" "$((tx1 - tx0))"
  if [ "$memfn" = mem_tcpcore ]; then
    record "flood_${mode}_rx_ring_drops" "$stack" "$(tcpcore_rx_dropped)"
  fi
}

# Frames the kernel dropped because tcpcored's receive ring was full.
tcpcore_rx_dropped() {
  ip netns exec "$NSS" "$BUILD/tools/tcpcore-stat" -S "$tmp/ctl.sock" -d --json 2>/dev/null |
    grep -o '"rx_dropped": *[0-9]*' | grep -o '[0-9]*$' || echo 0
}

# Each server start listens on a port of its own, so that nothing a run
# leaves behind (the kernel keeps a closed listener's half-open entries
# until they time out, and they hold the port) touches the next one.
port=8000
next_port() { port=$((port + 1)); }

round() {
  next_port
  start_tcpcored --service http:$port
  measure_plain tcpcore "http://$T_IP:$port/"
  measure_plain2 tcpcore "http://$T_IP:$port/"
  measure_flood tcpcore default "http://$T_IP:$port/" mem_tcpcore
  stop_server
  if [ "$WORKERS" -gt 1 ]; then
    next_port
    start_tcpcored -j "$WORKERS" --service http:$port
    measure_plain tcpcore_jobs "http://$T_IP:$port/"
    measure_plain2 tcpcore_jobs "http://$T_IP:$port/"
    stop_server
  fi
  next_port
  DEV=tun start_tcpcored --service http:$port
  measure_plain tcpcore_tun "http://$TUN_T:$port/"
  measure_flood tcpcore_tun default "http://$TUN_T:$port/" mem_tcpcore
  stop_server
  next_port
  start_tcpcored --service http:$port --sysctl net.inet.tcp.syncookies_only=1
  measure_flood tcpcore cookies "http://$T_IP:$port/" mem_tcpcore
  stop_server

  ins sysctl -qw net.ipv4.tcp_syncookies=1
  next_port
  start_khttpd $K_IP $port
  measure_plain linux "http://$K_IP:$port/"
  measure_plain2 linux "http://$K_IP:$port/"
  measure_flood linux default "http://$K_IP:$port/" mem_kernel
  stop_server
  ins sysctl -qw net.ipv4.tcp_syncookies=2
  next_port
  start_khttpd $K_IP $port
  measure_flood linux cookies "http://$K_IP:$port/" mem_kernel
  stop_server
  ins sysctl -qw net.ipv4.tcp_syncookies=1
}

# forward under attack: requests completed by clients == requests the
# backend answered, and the backend's kernel opened only those connections.
forward_case() {
  local passive0 passive1 r req served accepted
  next_port
  local backend=$port
  start_khttpd $K_IP $backend
  local kh_pid=$srv_pid
  next_port
  start_tcpcored --service forward:$port:$K_IP:$backend
  passive0=$(ins nstat -az TcpPassiveOpens | awk '$1 == "TcpPassiveOpens" { print $2 }')
  flood_start $T_IP $port
  r=$(wrk_run 1 "http://$T_IP:$port/")
  flood_stop
  stop_server
  sleep 1 # khttpd accepts what the relay connected just before it stopped
  passive1=$(ins nstat -az TcpPassiveOpens | awk '$1 == "TcpPassiveOpens" { print $2 }')
  srv_pid=$kh_pid
  stop_server
  served=$(sed -n 's/^khttpd accepted=\([0-9]*\) requests=\([0-9]*\)$/\2/p' "$tmp/kh.out")
  accepted=$(sed -n 's/^khttpd accepted=\([0-9]*\) .*/\1/p' "$tmp/kh.out")
  set -- $r
  req=$5
  echo "vs_linux test=forward_flood requests=$req backend_requests=$served" \
    "backend_accepted=$accepted backend_passive_opens=$((passive1 - passive0)) ok_share=$2" \
    "p50_ms=$3 p99_ms=$4"
  forward_ok=0
  [ "$req" -gt 0 ] && [ "$served" -ge "$req" ] && [ "$accepted" = "$((passive1 - passive0))" ] &&
    forward_ok=1
}

# connect_case: one round of the connect-rate comparison.
connect_case() {
  local via r tw
  next_port
  local server=$port
  start_khttpd $C_IP $server "$NSC" --peer-closes
  local kh_pid=$srv_pid
  for via in tcpcore linux; do
    next_port
    local last=$((32768 + EPHEMERAL - 1))
    if [ $via = tcpcore ]; then
      start_tcpcored --service forward:$port:$C_IP:$server,stack \
        --sysctl net.inet.ip.portrange.first=32768 --sysctl net.inet.ip.portrange.last=$last
    else
      ins sysctl -qw net.ipv4.ip_local_port_range="32768 $last"
      start_tcpcored --service forward:$port:$C_IP:$server
    fi
    local saved=$DUR
    DUR=$CONNECT_SECS
    r=$(wrk_run 1 "http://$T_IP:$port/")
    DUR=$saved
    if [ $via = tcpcore ]; then
      tw=$(ip netns exec "$NSS" "$BUILD/tools/tcpcore-stat" -S "$tmp/ctl.sock" 2>/dev/null |
        awk -v s="$C_IP.$server" '$5 == s && $6 == "TIME_WAIT"' | wc -l)
    else
      tw=$(ins ss -Htn state time-wait dst $C_IP:$server | wc -l)
    fi
    stop_server
    ins sysctl -qw net.ipv4.ip_local_port_range="32768 60999"
    set -- $r
    record connect_tw_cps "$via" "$1"
    record connect_tw_ok_share "$via" "$2"
    record connect_tw_client_timewait "$via" "$tw"
  done
  srv_pid=$kh_pid
  stop_server
}

report() {
  local t tc lx ratio tn
  for t in cps_t1 cps_t2 p50_ms_t1 p99_ms_t1 p99_ms_t2 \
    flood_default_ok_share flood_default_cps flood_default_p50_ms flood_default_p99_ms \
    flood_default_mem_before flood_default_mem_after flood_default_pkts flood_default_rx_ring_drops \
    flood_cookies_ok_share flood_cookies_cps flood_cookies_p50_ms flood_cookies_p99_ms \
    flood_cookies_mem_before flood_cookies_mem_after flood_cookies_pkts flood_cookies_rx_ring_drops \
    connect_tw_cps connect_tw_ok_share connect_tw_client_timewait; do
    tc=$(median "${fig[$t.tcpcore]}")
    lx=$(median "${fig[$t.linux]:-}")
    ratio=$(awk -v a="${tc%%/*}" -v b="${lx%%/*}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    tn=""
    [ -n "${fig[$t.tcpcore_tun]:-}" ] &&
      tn=" tcpcore_tun=$(median "${fig[$t.tcpcore_tun]}") tcpcore_tun_range=$(range "${fig[$t.tcpcore_tun]}")"
    echo "vs_linux test=$t tcpcore=$tc linux=$lx ratio=$ratio" \
      "tcpcore_range=$(range "${fig[$t.tcpcore]}") linux_range=$(range "${fig[$t.linux]:-}")$tn"
  done
  [ "$WORKERS" -gt 1 ] || return 0
  local one many
  for t in cps_t1 cps_t2; do
    one=$(median "${fig[$t.tcpcore]}")
    many=$(median "${fig[$t.tcpcore_jobs]}")
    echo "vs_linux test=${t}_workers workers=$WORKERS tcpcore_j1=$one tcpcore_jN=$many" \
      "ratio=$(awk -v a="$many" -v b="$one" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')" \
      "j1_range=$(range "${fig[$t.tcpcore]}") jN_range=$(range "${fig[$t.tcpcore_jobs]}")"
  done
  # Where the time went with one client thread: the daemon's CPU time and
  # sleeps per connection.
  echo "vs_linux test=cost_t1_workers workers=$WORKERS" \
    "j1_cpu_us_per_conn=$(median "${fig[cpu_us_per_conn_t1.tcpcore]}")" \
    "jN_cpu_us_per_conn=$(median "${fig[cpu_us_per_conn_t1.tcpcore_jobs]}")" \
    "j1_switches_per_conn=$(median "${fig[switches_per_conn_t1.tcpcore]}")" \
    "jN_switches_per_conn=$(median "${fig[switches_per_conn_t1.tcpcore_jobs]}")"
}

setup
for ((i = 1; i <= ROUNDS; i++)); do
  round
  connect_case
done
report
forward_case
cps1=$(median "${fig[cps_t1.tcpcore]}")
lcps1=$(median "${fig[cps_t1.linux]}")
echo "vs_linux rounds=$ROUNDS cps_t1=$cps1 linux_cps_t1=$lcps1" \
  "ratio_cps_t1=$(awk -v a="$cps1" -v b="$lcps1" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')" \
  "flood_ok_share=$(median "${fig[flood_default_ok_share.tcpcore]}")" \
  "flood_cookies_ok_share=$(median "${fig[flood_cookies_ok_share.tcpcore]}")" \
  "linux_flood_ok_share=$(median "${fig[flood_default_ok_share.linux]}")" \
  "forward_all_reached_backend=$forward_ok" \
  "wrk_restarts=$(cat "$tmp/wrk.restarts" 2>/dev/null | wc -l)"
