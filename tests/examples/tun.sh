#!/usr/bin/env bash
# The TUN examples, as built against the installed tree by install.sh, in a
# network namespace this script creates: examples/epoll_echo serves on tun0
# (198.18.0.2/24, 2001:db8::2/64; the kernel's end .1 and ::1) and
# examples/many_clients runs on tun1 (198.18.1.2/24; the kernel's end
# 198.18.1.1). The kernel routes between the two devices, so the tcpcore
# client reaches the tcpcore server through it, and the kernel's own nc
# talks to the server over each family.
# Without root, ip or /dev/net/tun, or when the namespace cannot be made, it
# exits 77 (skipped); it never uses the host's namespace. An EXIT trap
# stops the processes it started, by PID, and deletes the namespace.
# Usage: tun.sh BUILD_DIR [CONNS [BYTES]]
set -u
build=$1 conns=${2:-200} bytes=${3:-20000}
bin=$build/examples-installed/pc
for prog in epoll_echo many_clients; do
  [ -x "$bin/$prog" ] || {
    echo "FAIL: $bin/$prog is not built (the examples_install test builds it)"
    exit 1
  }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v ip >/dev/null 2>&1 || { echo "SKIP: needs ip (iproute2)"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: needs /dev/net/tun"; exit 77; }

ns=tcpc-$$-examples
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcpc-examples.XXXXXX") || exit 1
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null
    wait "$server" 2>/dev/null
  fi
  ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if ! ip netns add "$ns" 2>"$tmp/err"; then
  echo "SKIP: cannot create a network namespace: $(cat "$tmp/err")"
  exit 77
fi
in_ns() { ip netns exec "$ns" "$@"; }
ip -n "$ns" link set lo up &&
  ip -n "$ns" tuntap add dev tun0 mode tun &&
  ip -n "$ns" tuntap add dev tun1 mode tun &&
  ip -n "$ns" addr add 198.18.0.1/24 dev tun0 &&
  ip -n "$ns" -6 addr add 2001:db8::1/64 dev tun0 nodad &&
  ip -n "$ns" addr add 198.18.1.1/24 dev tun1 &&
  ip -n "$ns" link set tun0 up && ip -n "$ns" link set tun1 up &&
  in_ns sysctl -qw net.ipv4.ip_forward=1 || {
  echo "FAIL: setting up the namespace"
  exit 1
}

timeout -k 5 120 ip netns exec "$ns" "$bin/epoll_echo" tun0 7 198.18.0.2/24 2001:db8::2/64 \
  >"$tmp/server.out" 2>"$tmp/server.err" &
server=$!
for ((i = 0; i < 500; i++)); do
  grep -q '^listening' "$tmp/server.out" && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.01
done
grep -q '^listening' "$tmp/server.out" || {
  echo "FAIL: epoll_echo did not start"
  cat "$tmp/server.err"
  exit 1
}

failures=0
for addr in 198.18.0.2 2001:db8::2; do
  line="the kernel's nc to $addr"
  got=$(echo "$line" | timeout 10 ip netns exec "$ns" nc -N -w 5 "$addr" 7)
  if [ "$got" = "$line" ]; then
    echo "ok: $line, echoed"
  else
    echo "FAIL: $line: got '$got'"
    failures=$((failures + 1))
  fi
done

if timeout -k 5 90 ip netns exec "$ns" "$bin/many_clients" tun1 198.18.1.2/24 198.18.0.2 7 \
  "$conns" "$bytes" >"$tmp/client.out" 2>"$tmp/client.err"; then
  echo "ok: many_clients: $(cat "$tmp/client.out")"
else
  echo "FAIL: many_clients: $(cat "$tmp/client.out" "$tmp/client.err")"
  failures=$((failures + 1))
fi

kill -TERM "$server"
wait "$server"
rc=$?
server=""
served=$(sed -n 's/^served=//p' "$tmp/server.out")
if [ $rc -ne 0 ] || [ "${served:-0}" -lt $((conns + 2)) ]; then
  echo "FAIL: epoll_echo exited $rc having served ${served:-?} connections, expected $((conns + 2))"
  cat "$tmp/server.err"
  failures=$((failures + 1))
else
  echo "ok: epoll_echo served $served connections and stopped on SIGTERM"
fi
[ $failures -eq 0 ]
