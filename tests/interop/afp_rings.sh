#!/usr/bin/env bash
# The AF_PACKET backend's TPACKET_V2 RX ring and mmap'ed TX ring against the
# kernel, on a veth pair inside a namespace this script creates and always
# deletes: frames go both ways whole and in order, and a TX ring the kernel
# cannot drain (a 4 KiB send buffer behind a 100 kbit/s qdisc) refuses
# frames with ENOBUFS instead of losing them; frames sent while nothing reads
# overrun the RX ring and are each either received or counted as dropped.
# Skips (77) without root or ip.
set -u
build=${1:?usage: afp_rings.sh BUILD_DIR}
prog=$build/tests/interop/afp_selftest
[ -x "$prog" ] || { echo "FAIL: $prog is not built" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v ip >/dev/null 2>&1 || { echo "SKIP: needs ip (iproute2)"; exit 77; }

ns=tcpc-$$-afp
trap 'ip netns del "$ns" 2>/dev/null' EXIT
ip netns add "$ns" 2>/dev/null || { echo "SKIP: cannot create a network namespace"; exit 77; }
ip -n "$ns" link add va type veth peer name vb || exit 1
for dev in va vb; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.$dev.disable_ipv6=1
  ip -n "$ns" link set "$dev" up || exit 1
done

rc=0
timeout 20 ip netns exec "$ns" "$prog" va vb rxtx || rc=1
if ip -n "$ns" link show vb >/dev/null 2>&1 &&
  command -v tc >/dev/null 2>&1 &&
  ip netns exec "$ns" tc qdisc add dev va root tbf rate 100kbit burst 1600 limit 3000 2>/dev/null; then
  timeout 20 ip netns exec "$ns" "$prog" va vb full || rc=1
else
  echo "FAIL: cannot install a tbf qdisc on the veth (tc, sch_tbf)"
  rc=1
fi
[ $rc -eq 0 ] && echo "afp_rings: passed" || echo "afp_rings: FAILED"
exit $rc
