# Shared by the daemon's interop scripts (tests/interop/daemon_*.sh); not a
# test itself. Builds on interop-lib.bash: one network namespace per script
# (tcpc-<pid>-<name>) holding tun0, the kernel's side 198.18.0.1/24 and
# 2001:db8::1/64; tcpcored runs inside it as 198.18.0.2/24 and
# 2001:db8::2/64, attached to tun0, dropping root to nobody. The kernel's
# clients and servers (curl, nc, kpeer, kconns) run in the same namespace.
# The EXIT trap kills only the processes started here and deletes the
# namespace. Without root, ip or /dev/net/tun: exit 77 (skipped).
#
# With DMN_LINK=afp (set by the daemon_afp_*.sh scripts before sourcing a
# TUN script or this file) the namespace holds a veth pair instead: k0, the
# kernel's end, addressed as tun0 is, and t0, left without kernel addresses
# (IPv6 off) for tcpcored to own through AF_PACKET (--af-packet t0). The
# stack then resolves the kernel by ARP and ND and the kernel resolves it:
# the same cases run over an Ethernet link. Checksum and segmentation
# offloads are off on k0 so that the kernel hands whole, checksummed frames
# to the packet socket, as a NIC would.

source "$(dirname "$0")/interop-lib.bash"

DMN=$INTEROP_BUILD/tools/tcpcored
DMN_STAT=$INTEROP_BUILD/tools/tcpcore-stat
DMN_KCONNS=$INTEROP_BUILD/tests/interop/kconns
for prog in "$DMN" "$DMN_STAT" "$DMN_KCONNS"; do
  if [ ! -x "$prog" ]; then
    echo "FAIL: $prog is not built" >&2
    exit 1
  fi
done
DMN_LINK=${DMN_LINK:-tun}
if [ "$DMN_LINK" = afp ]; then
  command -v ethtool >/dev/null 2>&1 || interop_skip "needs ethtool (veth offloads)"
  DMN_DEVICE=(--af-packet t0)
else
  DMN_DEVICE=(--tun tun0)
fi
K4=198.18.0.1
T4=198.18.0.2
K6=2001:db8::1
T6=2001:db8::2

# dmn_setup NAME: the namespace, or skip the whole script.
dmn_setup() {
  DMN_NAME=$1
  DMN_NS="tcpc-$$-$1"
  if [ "$DMN_LINK" = afp ]; then
    dmn_veth_netns "$DMN_NS"
  else
    interop_netns "$DMN_NS"
  fi
  local rc=$?
  [ $rc -eq 77 ] && interop_skip "cannot create a network namespace"
  [ $rc -eq 0 ] || {
    echo "FAIL: namespace setup"
    exit 1
  }
  DMN_CTL=$interop_tmp/$1-run/ctl.sock
  DMN_LOG=$interop_tmp/$1.tcpcored
}

# dmn_veth_netns NAME: the namespace with the veth pair; 77 when namespaces
# cannot be made at all.
dmn_veth_netns() {
  local ns=$1
  ip netns add "$ns" 2>/dev/null || return 77
  interop_namespaces+=("$ns")
  ip -n "$ns" link set lo up &&
    ip -n "$ns" link add k0 type veth peer name t0 &&
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.t0.disable_ipv6=1 &&
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.k0.accept_dad=0 &&
    ip netns exec "$ns" ethtool -K k0 tx off tso off gso off >/dev/null &&
    ip -n "$ns" addr add $K4/24 dev k0 &&
    ip -n "$ns" -6 addr add $K6/64 dev k0 nodad &&
    ip -n "$ns" link set t0 up &&
    ip -n "$ns" link set k0 up || {
    echo "cannot set up the veth pair in $ns"
    return 1
  }
}

# The kernel's MAC on the veth (what tcpcore's neighbour cache must hold).
dmn_kernel_mac() {
  ip -n "$DMN_NS" -br link show k0 | awk '{print $3}'
}

# dmn_start ARGS...: tcpcored with both addresses, the control socket and
# ARGS; returns once it says it is ready (60 s at most, by the clock: on a
# loaded machine under ASan each poll costs more than its nap).
dmn_start() {
  # A restart's old log says "ready" too: gone before the new daemon starts,
  # which truncates the file only once its shell runs.
  rm -f "$DMN_LOG.out" "$DMN_LOG.err"
  interop_start "$DMN_NS" "$DMN_LOG" "$DMN" "${DMN_DEVICE[@]}" --addr "$T4/24" --addr "$T6/64" \
    --control "$DMN_CTL" "$@"
  DMN_PID=$interop_last_pid
  local until=$((SECONDS + 60))
  while ((SECONDS < until)); do
    grep -q '^tcpcored: ready' "$DMN_LOG.out" 2>/dev/null && return 0
    kill -0 "$DMN_PID" 2>/dev/null || break
    sleep 0.01
  done
  echo "FAIL: tcpcored did not start"
  cat "$DMN_LOG.out" "$DMN_LOG.err"
  exit 1
}

# dmn_stop: SIGTERM, then the daemon's exit status (0 after a clean stop).
# In the script's own shell, not in $(...): only it can wait for the daemon.
dmn_stop() {
  kill -TERM "$DMN_PID" 2>/dev/null
  interop_reap "$DMN_PID"
}

# The tcpcored process itself (timeout -> ip netns exec, which execs it).
dmn_pid() {
  pgrep -P "$DMN_PID" -x tcpcored
}

dmn_stat() {
  "$DMN_STAT" -S "$DMN_CTL" "$@"
}

# In the namespace, bounded in time.
kexec() {
  ip netns exec "$DMN_NS" timeout -k 5 "$INTEROP_TIMEOUT" "$@"
}

# dmn_case TITLE FUNCTION ARGS...: one case; the function prints what went
# wrong and returns non-zero on failure.
dmn_case() {
  local title=$1 out rc
  shift
  [ "$DMN_LINK" = afp ] && title="afp $title"
  interop_cases=$((interop_cases + 1))
  out=$("$@" 2>&1)
  rc=$?
  if [ $rc -eq 0 ]; then
    echo "PASS $title${out:+: $(tail -n 1 <<<"$out")}"
  else
    echo "FAIL $title"
    sed 's/^/    /' <<<"$out" | tail -n 40
    interop_failures=$((interop_failures + 1))
  fi
}

# dmn_backend LOG ADDR PORT KPEER_ARGS...: a kpeer listener on ADDR PORT
# in the namespace (60 s at most), for a forward to reach; returns once it
# listens, its PID in DMN_BACKEND_PID, output in LOG.out and LOG.err.
dmn_backend() {
  local log=$1 addr=$2 port=$3
  shift 3
  rm -f "$log.out" "$log.err" # a listener before it on the port said "listening" too
  ip netns exec "$DMN_NS" timeout 60 "$INTEROP_KPEER" --addr "$addr" --listen "$port" "$@" \
    >"$log.out" 2>"$log.err" &
  DMN_BACKEND_PID=$!
  interop_pids+=("$DMN_BACKEND_PID")
  interop_wait_listening "$DMN_BACKEND_PID" "$log" || {
    echo "the backend did not listen: $(cat "$log.err")"
    return 1
  }
}

# kpeer's result field: field LINE NAME
field() {
  tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"
}

# The hash of the first N bytes of the stream tcpcored's source and
# /bytes/N send.
stream_sha() {
  "$INTEROP_KPEER" --stream-sha256 "$1" --seed 1
}

# dmn_page ADDR, dmn_bytes ADDR: curl fetches the page; /bytes/1000000 has
# the stream's SHA-256. ADDR as in a URL ([v6]).
dmn_page() {
  local body
  body=$(kexec curl -sS -m 10 "http://$1/") || return 1
  grep -q "Hello from tcpcore" <<<"$body" || {
    echo "unexpected page: $body"
    return 1
  }
  echo "$(wc -c <<<"$body") bytes"
}

dmn_bytes() {
  local want got
  want=$(stream_sha 1000000)
  got=$(kexec curl -sS -m 30 "http://$1/bytes/1000000" | sha256sum | cut -d' ' -f1)
  [ "$got" = "$want" ] || {
    echo "sha256 $got, want $want"
    return 1
  }
  echo "sha256 $got"
}

# dmn_capture_has FILE WHAT PATTERN...: tcpdump reads FILE back and every
# PATTERN (grep) is in what it prints; else which one WHAT lacks.
dmn_capture_has() {
  local file=$1 what=$2 text p
  shift 2
  text=$(tcpdump -n -r "$file" 2>&1) || {
    echo "$text" | head
    return 1
  }
  for p in "$@"; do
    grep -q -- "$p" <<<"$text" || {
      echo "the capture lacks $what ($p):"
      head -n 20 <<<"$text"
      return 1
    }
  done
  echo "$(wc -l <<<"$text") packets read back by tcpdump"
}

# dmn_unprivileged: the daemon runs as nobody (every uid), its control
# socket is 0600 and nobody's: root was dropped after the device opened.
dmn_unprivileged() {
  local pid uid want
  pid=$(dmn_pid) || {
    echo "no tcpcored process"
    return 1
  }
  want=$(id -u nobody)
  uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
  [ "$uid" = "$want $want $want $want" ] || {
    echo "uids (real effective saved fs): $uid, want $want"
    return 1
  }
  [ "$(stat -c '%a %U' "$DMN_CTL")" = "600 nobody" ] || {
    echo "control socket: $(stat -c '%a %U' "$DMN_CTL")"
    return 1
  }
  echo "uid $uid; control socket 600 nobody"
}

# dmn_stop_case: stops the daemon, as one case: exit 0 and counters printed.
dmn_stop_case() {
  dmn_stop
  DMN_STATUS=$?
  dmn_case "SIGTERM: tcpcored exits 0 and prints its counters" dmn_stopped_ok
}

dmn_stopped_ok() {
  [ "$DMN_STATUS" -eq 0 ] || {
    echo "tcpcored exited with status $DMN_STATUS"
    tail -n 20 "$DMN_LOG.err"
    return 1
  }
  grep -q '^tcpcored: stopped after' "$DMN_LOG.out" || {
    echo "no counters printed"
    return 1
  }
  echo "exit 0, $(grep -c '^  [a-z]' "$DMN_LOG.out") counters printed"
}

# dmn_finish: the script's exit status, after the daemon's last words.
dmn_finish() {
  echo "---- tcpcored stderr (last lines)"
  tail -n 5 "$DMN_LOG.err"
  interop_finish
}
