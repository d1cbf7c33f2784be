#!/usr/bin/env bash
# make demo: a real client talks to tcpcore. Builds tcpcored (Release),
# makes a private network namespace with a TUN device, starts tcpcored in
# it (198.18.0.2 and 2001:db8::2; the kernel's end is .1 and ::1), then the
# kernel's own clients fetch a page and a million bytes with curl and get
# an echo back from nc, tcpcore-stat shows the connections and counters,
# and tcpcored stops on SIGTERM. Everything made here is removed on exit,
# also when a step fails. Needs root (namespaces, TUN). Usage: demo.sh BUILD_DIR
set -euo pipefail
BUILD=${1:-build}
if [ "$(id -u)" -ne 0 ]; then
  echo "demo: needs root (it creates a network namespace and a TUN device)" >&2
  exit 1
fi
[ -c /dev/net/tun ] || {
  echo "demo: /dev/net/tun is missing (modprobe tun)" >&2
  exit 1
}

ns=tcpc-demo-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcpc-demo.XXXXXX")
dpid=""
holder=""
cleanup() {
  set +e
  [ -n "$holder" ] && kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null
  [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if [ -t 1 ]; then
  step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
else
  step() { printf '\n==> %s\n' "$*"; }
fi
in_ns() { ip netns exec "$ns" timeout 60 "$@"; }

step "namespace $ns: tun0 is 198.18.0.1/24 and 2001:db8::1/64 on the kernel's side"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev tun0 mode tun
ip -n "$ns" addr add 198.18.0.1/24 dev tun0
ip -n "$ns" -6 addr add 2001:db8::1/64 dev tun0 nodad
ip -n "$ns" link set tun0 up

ctl=$tmp/run/tcpcored.sock
step "tcpcored on tun0 (the userspace stack is 198.18.0.2 and 2001:db8::2)"
ip netns exec "$ns" timeout 300 "$BUILD/tools/tcpcored" --tun tun0 \
  --addr 198.18.0.2/24 --addr 2001:db8::2/64 \
  --service http:80 --service echo:7 --service source:19:100000 \
  --control "$ctl" --pcap "$tmp/demo.pcap" >"$tmp/tcpcored.out" 2>"$tmp/tcpcored.err" &
dpid=$!
for _ in $(seq 500); do
  grep -q '^tcpcored: ready' "$tmp/tcpcored.out" 2>/dev/null && break
  kill -0 "$dpid" 2>/dev/null || break
  sleep 0.01
done
cat "$tmp/tcpcored.out" "$tmp/tcpcored.err"
grep -q '^tcpcored: ready' "$tmp/tcpcored.out"

step "curl http://198.18.0.2/   (the kernel's curl, tcpcore's TCP)"
in_ns curl -sS -i http://198.18.0.2/

step "curl http://[2001:db8::2]/bytes/1000000 | sha256sum   (IPv6, a million bytes)"
got=$(in_ns curl -sS "http://[2001:db8::2]/bytes/1000000" | sha256sum | cut -d' ' -f1)
want=$("$BUILD/tests/interop/kpeer" --stream-sha256 1000000 --seed 1)
echo "received sha256 $got"
echo "expected sha256 $want"
[ "$got" = "$want" ]

step "ping -c 3 198.18.0.2   (tcpcore answers ICMP echo)"
in_ns ping -c 3 -i 0.2 198.18.0.2

step "echo ... | nc 198.18.0.2 7   (the echo service)"
echo "hello from the kernel's nc" | in_ns nc -N 198.18.0.2 7

step "nc 198.18.0.2 19 | wc -c   (source: 100000 bytes, tcpcore closes first)"
in_ns nc 198.18.0.2 19 </dev/null | wc -c

# One connection stays open while the listing is taken.
ip netns exec "$ns" timeout 60 bash -c 'exec 3<>/dev/tcp/198.18.0.2/7; sleep 30' &
holder=$!
for _ in $(seq 300); do
  "$BUILD/tools/tcpcore-stat" -S "$ctl" | grep -q ESTABLISHED && break
  sleep 0.01
done

step "tcpcore-stat   (the listing, as netstat -an; TIME_WAIT with its time left)"
"$BUILD/tools/tcpcore-stat" -S "$ctl"

step "tcpcore-stat -s   (the counters, as netstat -s -p tcp)"
"$BUILD/tools/tcpcore-stat" -S "$ctl" -s

step "tcpdump -r demo.pcap   (tcpcored's capture of the first connection)"
tcpdump -n -c 8 -r "$tmp/demo.pcap" 'tcp port 80' 2>/dev/null

kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null || true
holder=""
step "SIGTERM: tcpcored closes its connections and prints what moved"
kill -TERM "$dpid"
wait "$dpid"
dpid=""
cat "$tmp/tcpcored.out" | sed -n '/stopped after/,$p'

step "done: the namespace, the TUN device and the files are removed"
