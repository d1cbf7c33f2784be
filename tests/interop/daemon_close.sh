#!/usr/bin/env bash
# Who closes first, and what tcpcore-stat lists, with tcpcored and the
# kernel, IPv4 and IPv6. A SYN from an address the kernel does not own
# (IP_TRANSPARENT) gets its SYN-ACK lost: the half-open SYN cache entry shows
# as SYN_RECEIVED. Then the
# kernel (its FIN first to echo: TIME_WAIT on the kernel's side, none in
# tcpcore), then tcpcore (source sends 1 MB and its FIN first: the TIME_WAIT
# entry shows in tcpcore-stat with the time it has left). Last, SIGTERM
# with a connection open: tcpcored sends its FIN, the kernel's peer closes
# cleanly, and the daemon exits 0.
# Usage: bash $0 BUILD_DIR (CTest passes it). See daemon-lib.bash.
source "$(dirname "$0")/daemon-lib.bash"

dmn_setup close
dmn_start --service echo:7 --service source:19:1000000

# The kernel-side port of kpeer's last connection, from its TCP_INFO line:
# not printed, so find the connection by the listing instead.
kernel_first() {
  local out tw
  out=$(kexec "$INTEROP_KPEER" --addr "$1" --connect "$2" 7 --send-bytes 100000 --close-first \
    --timeout 30) || return 1
  [ "$(field "$out" sha256)" = "$(field "$out" sent_sha256)" ] || {
    echo "echo differs: $out"
    return 1
  }
  tw=$(ip netns exec "$DMN_NS" ss -tanH state time-wait dst "$3:7" | wc -l)
  [ "$tw" -ge 1 ] || {
    echo "no kernel TIME-WAIT to port 7"
    return 1
  }
  if dmn_stat | grep -q "\.7 .*TIME_WAIT"; then
    echo "tcpcore holds a TIME_WAIT for port 7, though the kernel closed first"
    return 1
  fi
  echo "kernel in TIME-WAIT ($tw), tcpcore not"
}

tcpcore_first() {
  local out line left
  out=$(kexec "$INTEROP_KPEER" --addr "$1" --connect "$2" 19 --timeout 30) || return 1
  [ "$(field "$out" received)" = 1000000 ] && [ "$(field "$out" sha256)" = "$(stream_sha 1000000)" ] || {
    echo "source sent something else: $out"
    return 1
  }
  line=$(dmn_stat | grep " $2\.19 .*TIME_WAIT" | head -n 1)
  left=$(awk '{print $7}' <<<"$line")
  [ -n "$line" ] && [ "${left%s}" != "$left" ] && awk -v l="${left%s}" 'BEGIN {exit !(l > 0)}' || {
    echo "no TIME_WAIT entry with time left for $2.19 in tcpcore-stat:"
    dmn_stat
    return 1
  }
  echo "tcpcore-stat: $line"
}

half_open() {
  local log=$interop_tmp/syn-$3 line i
  ip netns exec "$DMN_NS" timeout 20 "$DMN_KCONNS" --addr "$1" --connect "$2" 7 --count 1 \
    --syn-only --hold 3 >"$log.out" 2>"$log.err" &
  local pid=$!
  for ((i = 0; i < 300; i++)); do
    line=$(dmn_stat | grep " $1\.[0-9]* *SYN_RECEIVED")
    [ -n "$line" ] && break
    sleep 0.01
  done
  wait $pid || {
    cat "$log.err"
    return 1
  }
  [ -n "$line" ] || {
    echo "no SYN_RECEIVED entry from $1:"
    dmn_stat
    return 1
  }
  dmn_stat --json | grep -q '"source": "syncache"' || {
    echo "the JSON listing does not mark the entry as the SYN cache's"
    return 1
  }
  echo "tcpcore-stat: $line"
}

DMN_HELD=$interop_tmp/held
sigterm_closes() {
  [ "$DMN_STATUS" -eq 0 ] || {
    echo "tcpcored exited with status $DMN_STATUS"
    return 1
  }
  [ "$HELD_STATUS" -eq 0 ] || {
    echo "the held connection did not close cleanly:"
    cat "$DMN_HELD.out" "$DMN_HELD.err"
    return 1
  }
  grep -q "closing 1 connection" "$DMN_LOG.err" || {
    echo "tcpcored did not say it was closing the connection"
    return 1
  }
  echo "the kernel's peer saw our FIN and closed; tcpcored exit 0"
}

dmn_case "v4 a half-open connection shows as SYN_RECEIVED" half_open 198.18.0.77 $T4 v4
dmn_case "v6 a half-open connection shows as SYN_RECEIVED" half_open 2001:db8::77 $T6 v6
dmn_case "v4 the kernel closes first" kernel_first $K4 $T4 $T4
dmn_case "v6 the kernel closes first" kernel_first $K6 $T6 "[$T6]"
dmn_case "v4 tcpcore closes first: TIME_WAIT in tcpcore-stat" tcpcore_first $K4 $T4
dmn_case "v6 tcpcore closes first: TIME_WAIT in tcpcore-stat" tcpcore_first $K6 $T6

# A connection that waits for the daemon's FIN, then SIGTERM.
interop_start "$DMN_NS" "$DMN_HELD" "$INTEROP_KPEER" --addr $K4 --connect $T4 7 --timeout 30
held_pid=$interop_last_pid
for ((i = 0; i < 500; i++)); do
  dmn_stat | grep -q "$T4\.7 .*ESTABLISHED" && break
  sleep 0.01
done
dmn_stop
DMN_STATUS=$?
interop_reap "$held_pid"
HELD_STATUS=$?
dmn_case "SIGTERM closes an open connection, then tcpcored exits 0" sigterm_closes
dmn_finish
