#!/usr/bin/env bash
# The backends that spread received packets over per-core queues, two queues
# each, inside a namespace this script creates and always deletes: a
# multiqueue TUN device (flows the kernel sends into it land on both queues,
# each flow on one), AF_PACKET fanout by the kernel's hash on a veth pair
# (the same for frames), and fanout by tcpcore's ownership program (a frame
# to ephemeral port p on socket p mod 2, IPv4 and IPv6; others where the
# rule's C form says). Skips (77) without root, ip or namespaces.
set -u
build=${1:?usage: mq_spread.sh BUILD_DIR}
prog=$build/tests/interop/mq_selftest
[ -x "$prog" ] || { echo "FAIL: $prog is not built" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v ip >/dev/null 2>&1 || { echo "SKIP: needs ip (iproute2)"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }

ns=tcpc-$$-mq
trap 'ip netns del "$ns" 2>/dev/null' EXIT
ip netns add "$ns" 2>/dev/null || { echo "SKIP: cannot create a network namespace"; exit 77; }
ip -n "$ns" link set lo up || exit 1
# The TUN device carries the kernel's side of 198.18.0.0/24 and 2001:db8::/64.
ip -n "$ns" tuntap add dev tq mode tun multi_queue || exit 1
ip -n "$ns" addr add 198.18.0.1/24 dev tq || exit 1
ip -n "$ns" addr add 2001:db8::1/64 dev tq nodad || exit 1
ip -n "$ns" link set tq up || exit 1
# The veth pair carries no kernel addresses: only the test's frames.
ip -n "$ns" link add va type veth peer name vb || exit 1
for dev in va vb; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.$dev.disable_ipv6=1
  ip -n "$ns" link set "$dev" up || exit 1
done

rc=0
for mode in "tun tq" "hash va vb" "owner va vb"; do
  # shellcheck disable=SC2086 # the mode's words are its arguments
  timeout 30 ip netns exec "$ns" "$prog" $mode || rc=1
done
[ $rc -eq 0 ] && echo "mq_spread: passed" || echo "mq_spread: FAILED"
exit $rc
