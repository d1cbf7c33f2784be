# Shared by the interop test scripts (tests/interop/*.sh); not a test itself.
#
# Each case gets a network namespace of its own (tcpc-<pid>-<case>) holding a
# TUN device, tun0. The kernel's side of tun0 is 198.18.0.1/24 and
# 2001:db8::1/64; the tcpcore stack (tools/tcpcore-peer, attached to tun0) is
# 198.18.0.2 and 2001:db8::2, on the far side of the device. Every packet stays
# inside the namespace. The kernel end runs kpeer (plain sockets). An EXIT
# trap kills only the processes this script started and deletes the
# namespaces it created, so a failing or interrupted test cleans up too.
#
# Without root, `ip` or /dev/net/tun the script exits 77 (CTest: skipped); it
# never falls back to the host's namespace.
#
# Environment: TCPC_INTEROP_BYTES (default 10485760) bytes each way,
# TCPC_INTEROP_TRACE=1 to run tcpcore-peer with --trace (to its log),
# TCPC_INTEROP_LOGDIR=DIR to keep every case's logs there (with
# TCPC_INTEROP_TCPDUMP=1 also a capture of tun0, if tcpdump is installed),
# TCPC_INTEROP_URGENT=1 to have each side send a byte out of band after its
# stream (--urgent) and check that the other read it with MSG_OOB.

set -u

INTEROP_BUILD=${1:-}
if [ -z "$INTEROP_BUILD" ]; then
  echo "usage: bash $0 BUILD_DIR" >&2
  exit 2
fi
INTEROP_PEER=$INTEROP_BUILD/tools/tcpcore-peer
INTEROP_KPEER=$INTEROP_BUILD/tests/interop/kpeer
INTEROP_BYTES=${TCPC_INTEROP_BYTES:-10485760}
INTEROP_TIMEOUT=120 # seconds, every process of a case
INTEROP_PORT=5001

interop_skip() {
  echo "SKIP: $*"
  exit 77
}

for prog in "$INTEROP_PEER" "$INTEROP_KPEER"; do
  if [ ! -x "$prog" ]; then
    echo "FAIL: $prog is not built" >&2
    exit 1
  fi
done
[ "$(id -u)" -eq 0 ] || interop_skip "needs root (network namespaces, TUN devices)"
command -v ip >/dev/null 2>&1 || interop_skip "needs ip (iproute2)"
command -v timeout >/dev/null 2>&1 || interop_skip "needs timeout (coreutils)"
[ -c /dev/net/tun ] || interop_skip "needs /dev/net/tun"

interop_pids=()
interop_namespaces=()
interop_tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcpc-interop.XXXXXX") || exit 1
interop_cases=0
interop_failures=0

interop_cleanup() {
  local pid ns
  for pid in "${interop_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${interop_pids[@]}"; do
    wait "$pid" 2>/dev/null
  done
  for ns in "${interop_namespaces[@]}"; do
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$interop_tmp"
}
trap interop_cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM HUP

# interop_netns NAME: creates the namespace with tun0 up and addressed.
# Returns 77 when namespaces cannot be created at all, 1 on other errors.
interop_netns() {
  local ns=$1
  if ! ip netns add "$ns" 2>"$interop_tmp/netns.err"; then
    echo "cannot create network namespace $ns: $(cat "$interop_tmp/netns.err")"
    return 77
  fi
  interop_namespaces+=("$ns")
  ip -n "$ns" link set lo up &&
    ip -n "$ns" tuntap add dev tun0 mode tun &&
    ip -n "$ns" addr add 198.18.0.1/24 dev tun0 &&
    ip -n "$ns" -6 addr add 2001:db8::1/64 dev tun0 nodad &&
    ip -n "$ns" link set tun0 up || {
    echo "cannot set up tun0 in $ns"
    return 1
  }
}

interop_netns_del() {
  local ns=$1 keep=() n
  ip netns del "$ns" 2>/dev/null
  for n in "${interop_namespaces[@]}"; do
    [ "$n" = "$ns" ] || keep+=("$n")
  done
  interop_namespaces=("${keep[@]}")
}

# interop_start NS LOG PROG ARGS...: starts PROG in NS in the background,
# bounded by INTEROP_TIMEOUT; stdout to LOG.out, stderr to LOG.err.
interop_start() {
  local ns=$1 log=$2
  shift 2
  timeout -k 5 "$INTEROP_TIMEOUT" ip netns exec "$ns" "$@" >"$log.out" 2>"$log.err" &
  interop_last_pid=$!
  interop_pids+=("$interop_last_pid")
}

# interop_wait_listening PID LOG: until LOG.out says "listening" (10 s).
interop_wait_listening() {
  local pid=$1 log=$2 i
  for ((i = 0; i < 1000; i++)); do
    grep -q '^listening' "$log.out" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.01
  done
  return 1
}

# interop_field LOG NAME: the value of NAME=... on LOG.out's result line.
# interop_fin_race LOG: tcpcore-peer's counters in LOG show a retransmitted
# FIN answered from TIME_WAIT (tcps_tw_finrearm, tcps_tw_responds) and one
# reset received there (tcps_tw_resets=1).
interop_fin_race() {
  local c
  c=$(grep -o 'tcps_tw_[a-z]*=[0-9]*' "$1" 2>/dev/null | tr '\n' ' ')
  [[ " $c" == *" tcps_tw_resets=1 "* ]] && [[ " $c" == *" tcps_tw_finrearm="[1-9]* ]] &&
    [[ " $c" == *" tcps_tw_responds="[1-9]* ]]
}

interop_field() {
  sed -n 's/^sent=.*/&/p' "$1.out" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

interop_reap() {
  local pid=$1 keep=() p
  wait "$pid"
  local rc=$?
  for p in "${interop_pids[@]}"; do
    [ "$p" = "$pid" ] || keep+=("$p")
  done
  interop_pids=("${keep[@]}")
  return $rc
}

# interop_case FAMILY CLIENT CLOSER [LOSS_PPM]: one connection, INTEROP_BYTES
# each way.
#   FAMILY v4|v6; CLIENT kernel|tcpcore (who connects); CLOSER kernel|tcpcore
#   (who shuts its side down first; the other waits for end of stream);
#   LOSS_PPM: tcpcore-peer loses that many packets per million, each way.
interop_case() {
  local fam=$1 client=$2 closer=$3 loss=${4:-0}
  local ns="tcpc-$$-$fam-${client:0:1}c-${closer:0:1}f"
  [ "$loss" = 0 ] || ns="$ns-l"
  local kaddr=198.18.0.1 taddr=198.18.0.2
  if [ "$fam" = v6 ]; then
    kaddr=2001:db8::1
    taddr=2001:db8::2
  fi
  local server_name=tcpcore
  [ "$client" = tcpcore ] && server_name=kernel
  local title="$fam $client -> $server_name, $closer closes first"
  [ "$loss" = 0 ] || title="$title, loss $loss ppm"
  local tlog=$interop_tmp/$ns.tcpcore klog=$interop_tmp/$ns.kernel
  local targs=(--tun tun0 --addr "$taddr" --send-bytes "$INTEROP_BYTES" --seed 2
    --timeout $((INTEROP_TIMEOUT - 20)))
  local kargs=(--addr "$kaddr" --send-bytes "$INTEROP_BYTES" --seed 3
    --timeout $((INTEROP_TIMEOUT - 20)))
  [ "$closer" = tcpcore ] && targs+=(--close-first)
  [ "$closer" = kernel ] && kargs+=(--close-first)
  [ "$loss" = 0 ] || targs+=(--loss "$loss")
  local urgent=${TCPC_INTEROP_URGENT:-0}
  if [ "$urgent" = 1 ]; then
    targs+=(--urgent)
    kargs+=(--urgent)
    title="$title, urgent byte"
  fi
  [ "${TCPC_INTEROP_TRACE:-0}" = 1 ] && targs+=(--trace)
  interop_cases=$((interop_cases + 1))

  interop_netns "$ns"
  local rc=$?
  if [ $rc -ne 0 ]; then
    interop_netns_del "$ns"
    # Nothing ran yet: this host cannot run the test at all.
    [ $rc -eq 77 ] && [ $interop_cases -eq 1 ] && interop_skip "cannot create a network namespace"
    echo "FAIL $title: namespace setup"
    interop_failures=$((interop_failures + 1))
    return 1
  fi

  local why="" spid cpid slog clog t0 t1 dpid=""
  if [ "${TCPC_INTEROP_TCPDUMP:-0}" = 1 ] && [ -n "${TCPC_INTEROP_LOGDIR:-}" ] &&
    command -v tcpdump >/dev/null 2>&1; then
    mkdir -p "$TCPC_INTEROP_LOGDIR"
    interop_start "$ns" "$interop_tmp/$ns.tcpdump" tcpdump -U -ni tun0 -s 128 \
      -w "$TCPC_INTEROP_LOGDIR/$ns.pcap"
    dpid=$interop_last_pid
    sleep 0.5 # tcpdump needs a moment before it captures
  fi
  if [ "$client" = kernel ]; then
    interop_start "$ns" "$tlog" "$INTEROP_PEER" "${targs[@]}" --listen $INTEROP_PORT
    slog=$tlog
  else
    interop_start "$ns" "$klog" "$INTEROP_KPEER" "${kargs[@]}" --listen $INTEROP_PORT
    slog=$klog
  fi
  spid=$interop_last_pid
  if ! interop_wait_listening "$spid" "$slog"; then
    why="the server did not start listening"
  else
    t0=$(date +%s.%N)
    if [ "$client" = kernel ]; then
      interop_start "$ns" "$klog" "$INTEROP_KPEER" "${kargs[@]}" --connect "$taddr" $INTEROP_PORT
      clog=$klog
    else
      interop_start "$ns" "$tlog" "$INTEROP_PEER" "${targs[@]}" --connect "$kaddr" $INTEROP_PORT
      clog=$tlog
    fi
    cpid=$interop_last_pid
    interop_reap "$cpid" || why="client exited with status $? (124: timeout)"
  fi
  interop_reap "$spid" || why="${why:+$why; }server exited with status $? (124: timeout)"
  t1=$(date +%s.%N)
  if [ -n "$dpid" ]; then
    sleep 0.2
    kill -INT "$dpid" 2>/dev/null
    interop_reap "$dpid"
  fi

  if [ -z "$why" ]; then
    local f
    for f in "$tlog" "$klog"; do
      [ "$(interop_field "$f" sent)" = "$INTEROP_BYTES" ] || why="${why:+$why; }$f: short send"
      [ "$(interop_field "$f" received)" = "$INTEROP_BYTES" ] ||
        why="${why:+$why; }$f: short receive"
      [ "$urgent" != 1 ] || [ "$(interop_field "$f" oob)" = 21 ] ||
        why="${why:+$why; }$f: out-of-band byte not read (oob=$(interop_field "$f" oob))"
    done
    [ -n "$(interop_field "$tlog" sha256)" ] &&
      [ "$(interop_field "$tlog" sha256)" = "$(interop_field "$klog" sent_sha256)" ] ||
      why="${why:+$why; }kernel -> tcpcore bytes differ (sha256)"
    [ -n "$(interop_field "$klog" sha256)" ] &&
      [ "$(interop_field "$klog" sha256)" = "$(interop_field "$tlog" sent_sha256)" ] ||
      why="${why:+$why; }tcpcore -> kernel bytes differ (sha256)"
    # The kernel's view of the close: nothing left but TIME_WAIT, no resets.
    local left
    left=$(ip netns exec "$ns" ss -tanH 2>/dev/null | awk '$1 != "TIME-WAIT" && $1 != "LISTEN"')
    [ -z "$left" ] || why="${why:+$why; }kernel sockets not closed: $left"
    if command -v nstat >/dev/null 2>&1; then
      local rsts
      rsts=$(ip netns exec "$ns" nstat -asz TcpOutRsts TcpEstabResets 2>/dev/null |
        awk '$1 ~ /^Tcp/ && $2 != 0 {printf "%s=%s ", $1, $2}')
      # One reset is the close working as it should when the machine is
      # slow: the kernel retransmitted its FIN before tcpcore's ACK of it
      # arrived, tcpcore's TIME_WAIT acknowledged the copy, and that second
      # ACK found the kernel's socket already closed. tcpcore's counters
      # show each step; the reset must have landed in TIME_WAIT.
      if [ "$rsts" = "TcpOutRsts=1 " ] && interop_fin_race "$tlog.err"; then
        echo "note: the kernel retransmitted its FIN and reset TIME_WAIT's second ACK (a slow machine's race)"
        rsts=
      fi
      [ -z "$rsts" ] || why="${why:+$why; }kernel counted resets: $rsts"
    fi
  fi

  local secs
  secs=$(awk -v a="$t0" -v b="${t1:-$t0}" 'BEGIN {printf "%.2f", b - a}' 2>/dev/null)
  if [ -z "$why" ]; then
    local kinfo
    kinfo=$(grep '^kpeer: options' "$klog.err" | sed 's/^kpeer: //')
    # kpeer's time runs from its connect (or accept wait) to its socket closed.
    echo "PASS $title: $INTEROP_BYTES bytes each way, sha256 match," \
      "kernel side $(interop_field "$klog" secs) s, case ${secs} s [kernel: $kinfo]"
  else
    echo "FAIL $title: $why"
    local f
    for f in "$tlog" "$klog"; do
      echo "---- ${f##*/} (stdout, last lines of stderr)"
      cat "$f.out" 2>/dev/null
      tail -n 30 "$f.err" 2>/dev/null
    done
    interop_failures=$((interop_failures + 1))
  fi
  if [ -n "${TCPC_INTEROP_LOGDIR:-}" ]; then
    mkdir -p "$TCPC_INTEROP_LOGDIR" && cp "$tlog".* "$klog".* "$TCPC_INTEROP_LOGDIR"/ 2>/dev/null
  fi
  interop_netns_del "$ns"
  [ -z "$why" ]
}

# interop_finish: the script's exit status.
interop_finish() {
  echo "$((interop_cases - interop_failures)) of $interop_cases cases passed"
  [ $interop_failures -eq 0 ]
}
