#!/usr/bin/env bash
# TCP Fast Open (RFC 7413) between tcpcored and the Linux kernel, both ways,
# IPv4 and IPv6. The namespace's kernel has net.ipv4.tcp_fastopen=3 (client
# and server, real cookies: it is per namespace); tcpcored runs with
# --tcp-fastopen both; kpeer --fastopen opens with sendto(MSG_FASTOPEN) or
# listens with TCP_FASTOPEN and says syn_data=1 when the SYN's data was
# acknowledged by the SYN-ACK (TCPI_OPT_SYN_DATA).
#   kernel -> tcpcored echo: the first connection asks for a cookie (no
#     data on the SYN; tcps_tfo_cookie_req_rcv), the second carries its
#     first bytes on the SYN with the cookie, tcpcored takes them there
#     (tcps_tfo_syn_data_rcv); 100 kB echoed intact both times.
#   tcpcored -> kernel (forward,stack to a kernel listener): the first
#     connection gets the kernel's cookie, the second's SYN carries the
#     bytes the client sent (the kernel counts TcpExtTCPFastOpenPassive).
#   a stale cookie: tcpcored restarted has new keys, so the kernel's cached
#     cookie is one no key made: the data is refused on the SYN
#     (tcps_tfo_cookie_invalid), sent again after the handshake, intact; the
#     new cookie that SYN-ACK gave works on the next connection.
#   --tcp-fastopen off: the kernel's SYN with cookie and data gets a plain
#     SYN-ACK and the data follows the handshake, intact.
# Usage: bash $0 BUILD_DIR (CTest passes it). See daemon-lib.bash.
source "$(dirname "$0")/daemon-lib.bash"

BYTES=100000
dmn_setup tfo
ip netns exec "$DMN_NS" sysctl -qw net.ipv4.tcp_fastopen=3 ||
  interop_skip "the kernel has no per-namespace net.ipv4.tcp_fastopen"
# A refused SYN's data must not make the kernel give up Fast Open for a
# while (the stale-cookie case refuses one on purpose).
ip netns exec "$DMN_NS" sysctl -qw net.ipv4.tcp_fastopen_blackhole_timeout_sec=0 2>/dev/null
SERVICES=(--service echo:7 --service "forward:8080:$K4:8000,stack"
  --service "forward:8086:[$K6]:8006,stack")
dmn_start "${SERVICES[@]}" --tcp-fastopen both

counter() {
  dmn_stat --json -s | grep -o "\"$1\": [0-9]*" | grep -o '[0-9]*$'
}

# The kernel's counter TcpExtNAME in the namespace, as nstat names it
# (/proc/net is per namespace; its header line says NAME).
kcounter() {
  ip netns exec "$DMN_NS" cat /proc/net/netstat | awk -v n="${1#TcpExt}" '
    $1 == "TcpExt:" && !names { for (i = 2; i <= NF; i++) col[$i] = i; names = 1; next }
    $1 == "TcpExt:" { print $col[n] }'
}

# A named counter's rise since its value in the associative array `before`.
declare -A before
snap() {
  local c
  for c in "$@"; do
    case $c in
    TcpExt*) before[$c]=$(kcounter "$c") ;;
    *) before[$c]=$(counter "$c") ;;
    esac
  done
}
rise() {
  local now
  case $1 in
  TcpExt*) now=$(kcounter "$1") ;;
  *) now=$(counter "$1") ;;
  esac
  echo $((now - ${before[$1]}))
}

# want_rise COUNTER N: the counter rose by exactly N since snap.
want_rise() {
  local got
  got=$(rise "$1")
  [ "$got" = "$2" ] || {
    echo "$1 rose by $got, want $2"
    return 1
  }
}

# got_all WHO LINE SENT_SHA SYN_DATA: kpeer's result LINE has BYTES
# received, hashing to SENT_SHA, and syn_data=SYN_DATA.
got_all() {
  [ "$(field "$2" received)" = $BYTES ] && [ "$(field "$2" sha256)" = "$3" ] || {
    echo "$1 got something else: $2"
    return 1
  }
  [ "$(field "$2" syn_data)" = "$4" ] || {
    echo "$1: syn_data=$(field "$2" syn_data), want $4: $2"
    return 1
  }
}

# echo_once KERNEL_ADDR TCPCORE_ADDR SYN_DATA: one Fast Open echo of BYTES;
# kpeer must say syn_data=SYN_DATA and the echo be intact.
echo_once() {
  local out
  out=$(kexec "$INTEROP_KPEER" --addr "$1" --connect "$2" 7 --send-bytes $BYTES --close-first \
    --fastopen --timeout 30) || {
    echo "kpeer failed: $out"
    return 1
  }
  got_all "the echo" "$out" "$(field "$out" sent_sha256)" "$3"
}

# tfo_echo KERNEL_ADDR TCPCORE_ADDR: a cookie, then data on the SYN.
tfo_echo() {
  local cs=(tcps_tfo_cookie_req_rcv tcps_tfo_syn_data_rcv TcpExtTCPFastOpenActive)
  snap "${cs[@]}"
  echo_once "$1" "$2" 0 || return 1
  want_rise tcps_tfo_cookie_req_rcv 1 && want_rise tcps_tfo_syn_data_rcv 0 || return 1
  snap "${cs[@]}"
  echo_once "$1" "$2" 1 || return 1
  want_rise tcps_tfo_syn_data_rcv 1 && want_rise TcpExtTCPFastOpenActive 1 &&
    want_rise tcps_tfo_cookie_req_rcv 0 || return 1
  echo "cookie fetched, then the SYN's data taken; $BYTES bytes echoed intact twice"
}

# forward_once KERNEL_ADDR TCPCORE_ADDR PORT BACKEND_PORT SYN_DATA: the
# kernel's Fast Open client sends BYTES to tcpcored's forward, which opens
# its own connection to a kernel listener with TCP_FASTOPEN; the backend
# must say syn_data=SYN_DATA and have the client's bytes.
forward_once() {
  local k=$1 t=$2 port=$3 bport=$4 log out
  log=$interop_tmp/backend-$bport
  dmn_backend "$log" "$k" "$bport" --fastopen --timeout 30 || return 1
  local bpid=$DMN_BACKEND_PID
  out=$(kexec "$INTEROP_KPEER" --addr "$k" --connect "$t" "$port" --send-bytes $BYTES \
    --close-first --fastopen --timeout 30) || {
    echo "client failed: $out"
    kill "$bpid" 2>/dev/null
    return 1
  }
  interop_reap "$bpid" || {
    echo "backend failed: $(cat "$log.err")"
    return 1
  }
  got_all "the backend" "$(tail -n 1 "$log.out")" "$(field "$out" sent_sha256)" "$5"
}

# tfo_forward KERNEL_ADDR TCPCORE_ADDR PORT BACKEND_PORT: tcpcore's cookie
# request to the kernel, then its SYN with the cookie and data.
tfo_forward() {
  local cs=(tcps_tfo_cookie_req tcps_tfo_cookie_rcv tcps_tfo_syn_data_sent
    tcps_tfo_syn_data_acked TcpExtTCPFastOpenPassive TcpExtTCPFastOpenCookieReqd)
  snap "${cs[@]}"
  forward_once "$@" 0 || return 1
  want_rise tcps_tfo_cookie_req 1 && want_rise tcps_tfo_cookie_rcv 1 &&
    want_rise TcpExtTCPFastOpenCookieReqd 1 && want_rise TcpExtTCPFastOpenPassive 0 || return 1
  snap "${cs[@]}"
  forward_once "$@" 1 || return 1
  want_rise tcps_tfo_syn_data_sent 1 && want_rise tcps_tfo_syn_data_acked 1 &&
    want_rise TcpExtTCPFastOpenPassive 1 || return 1
  echo "tcpcore fetched the kernel's cookie, then its SYN's data was taken; $BYTES bytes intact"
}

# stale_cookie KERNEL_ADDR TCPCORE_ADDR: after the restart the kernel's
# cookie is refused, the data resent; the next connection's cookie works.
stale_cookie() {
  snap tcps_tfo_cookie_invalid tcps_tfo_syn_data_rcv
  echo_once "$1" "$2" 0 || return 1
  want_rise tcps_tfo_cookie_invalid 1 && want_rise tcps_tfo_syn_data_rcv 0 || return 1
  echo_once "$1" "$2" 1 || return 1
  want_rise tcps_tfo_syn_data_rcv 1 || return 1
  echo "the old cookie refused (data resent, intact), the new one taken"
}

# refused KERNEL_ADDR TCPCORE_ADDR: tcpcored without Fast Open ignores the
# kernel's cookie; the data follows the handshake.
refused() {
  snap tcps_tfo_cookie_invalid tcps_tfo_syn_data_rcv tcps_tfo_cookie_req_rcv
  echo_once "$1" "$2" 0 || return 1
  want_rise tcps_tfo_syn_data_rcv 0 && want_rise tcps_tfo_cookie_invalid 0 &&
    want_rise tcps_tfo_cookie_req_rcv 0 || return 1
  echo "a plain handshake, $BYTES bytes echoed intact"
}

# restart ARGS...: tcpcored again, with the same services and ARGS (new
# Fast Open keys: the stack makes them at start). In the script's own shell
# (only it can wait for the daemon), so counted here rather than by dmn_case.
restart() {
  dmn_stop
  local rc=$?
  interop_cases=$((interop_cases + 1))
  if [ $rc -eq 0 ]; then
    echo "PASS tcpcored stops cleanly and starts again with $*"
  else
    echo "FAIL tcpcored exited with status $rc before the restart with $*"
    interop_failures=$((interop_failures + 1))
  fi
  dmn_start "${SERVICES[@]}" "$@"
}

dmn_case "IPv4: kernel -> tcpcored echo, cookie then data on the SYN" tfo_echo $K4 $T4
dmn_case "IPv6: kernel -> tcpcored echo, cookie then data on the SYN" tfo_echo $K6 $T6
dmn_case "IPv4: tcpcored forward -> kernel listener, cookie then data on the SYN" \
  tfo_forward $K4 $T4 8080 8000
dmn_case "IPv6: tcpcored forward -> kernel listener, cookie then data on the SYN" \
  tfo_forward $K6 $T6 8086 8006
restart --tcp-fastopen both
dmn_case "IPv4: a stale cookie after a restart is refused, the data resent" stale_cookie $K4 $T4
dmn_case "IPv6: a stale cookie after a restart is refused, the data resent" stale_cookie $K6 $T6
restart --tcp-fastopen off
dmn_case "IPv4: --tcp-fastopen off, the kernel falls back to a plain open" refused $K4 $T4
dmn_case "IPv6: --tcp-fastopen off, the kernel falls back to a plain open" refused $K6 $T6
dmn_stop_case
dmn_finish
