#!/usr/bin/env bash
# Captures the Ethernet frames in tests/harness/vectors.h (linux_*_hex) from
# the running Linux kernel: one namespace holds the kernel's end of a veth
# pair (52:54:00:12:34:01, 198.18.0.1/24, 2001:db8::1/64), the other an
# AF_PACKET socket that plays the peer (52:54:00:12:34:02, .2 and ::2). The
# kernel's ARP request, neighbour solicitation and echo requests come from
# a ping socket in its namespace; its ARP reply, advertisement and echo
# replies answer frames the socket sends. Needs root and python3; prints
# "RX <name> <hex>" lines (IP identification, ping ids and flow labels
# differ from run to run). Both namespaces are removed on exit.
set -euo pipefail
A=tcpc-vec-k.$$
B=tcpc-vec-p.$$
cleanup() {
    ip netns del "$A" 2>/dev/null || true
    ip netns del "$B" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$A" || exit 77
ip netns add "$B"
ip link add va netns "$A" type veth peer name vb netns "$B"
ip -n "$A" link set va address 52:54:00:12:34:01
ip -n "$B" link set vb address 52:54:00:12:34:02
ip netns exec "$A" sysctl -qw net.ipv6.conf.va.accept_ra=0 net.ipv4.ping_group_range="0 2147483647"
ip netns exec "$B" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$A" link set va up
ip -n "$B" link set vb up arp off
ip -n "$A" addr add 198.18.0.1/24 dev va
ip -n "$A" addr add 2001:db8::1/64 dev va nodad
sleep 2

PEER=$(cat <<'PY'
import select, socket, struct, sys, time
MY, KM = bytes.fromhex("525400123402"), bytes.fromhex("525400123401")
A4, B4 = bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2])
A6 = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
B6 = socket.inet_pton(socket.AF_INET6, "2001:db8::2")
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("vb", 0))

def cks(b):
    b += b"\0" * (len(b) % 2)
    x = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while x >> 16:
        x = (x & 0xffff) + (x >> 16)
    return ~x & 0xffff

def icmp6(src, dst, m):
    ph = src + dst + struct.pack("!I3xB", len(m), 58)
    return m[:2] + struct.pack("!H", cks(ph + m)) + m[4:]

def ip6(src, dst, hl, pl):
    return struct.pack("!IHBB", 0x60000000, len(pl), 58, hl) + src + dst + pl

def ip4(src, dst, pl):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(pl), 0x1234, 0x4000, 64, 1, 0, src, dst)
    return h[:10] + struct.pack("!H", cks(h)) + h[12:] + pl

def frames(seconds):
    end = time.time() + seconds
    while time.time() < end:
        if not select.select([s], [], [], 0.2)[0]:
            continue
        f, addr = s.recvfrom(4096)
        if addr[2] != socket.PACKET_OUTGOING:
            yield f

def answer(f):
    """Plays the peer: ARP replies and neighbour advertisements."""
    if f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x01":
        s.send(f[6:12] + MY + b"\x08\x06" + bytes.fromhex("0001080006040002") + MY + f[38:42]
               + f[22:28] + f[28:32])
    elif f[12:14] == b"\x86\xdd" and f[20] == 58 and f[54] == 135:
        na = struct.pack("!BBHI", 136, 0, 0, 0x60000000) + f[62:78] + bytes([2, 1]) + MY
        s.send(f[6:12] + MY + b"\x86\xdd" + ip6(f[62:78], f[22:38], 255, icmp6(f[62:78], f[22:38], na)))

mode = sys.argv[1]
if mode == "listen":
    for f in frames(4):
        kind = {b"\x08\x06": "arp", b"\x08\x00": "ip4", b"\x86\xdd": "ip6"}.get(f[12:14], "other")
        print("RX kernel-sent-%s %s" % (kind, f.hex()), flush=True)
        answer(f)
else:
    echo4 = bytes([8, 0, 0, 0, 0x12, 0x34, 0, 1]) + b"tcpcore ping"
    echo4 = echo4[:2] + struct.pack("!H", cks(echo4)) + echo4[4:]
    snm = bytes.fromhex("ff0200000000000000000001ff000001")
    ns = struct.pack("!BBHI", 135, 0, 0, 0) + A6 + bytes([1, 1]) + MY
    probes = [
        ("arp-reply", b"\xff" * 6 + MY + b"\x08\x06" + bytes.fromhex("0001080006040001") + MY + B4
         + b"\0" * 6 + A4, lambda g: g[12:14] == b"\x08\x06"),
        ("echo4-reply", KM + MY + b"\x08\x00" + ip4(B4, A4, echo4),
         lambda g: g[12:14] == b"\x08\x00"),
        ("na", bytes.fromhex("3333ff000001") + MY + b"\x86\xdd" + ip6(B6, snm, 255, icmp6(B6, snm, ns)),
         lambda g: g[12:14] == b"\x86\xdd" and g[54] == 136),
        ("echo6-reply", KM + MY + b"\x86\xdd"
         + ip6(B6, A6, 64, icmp6(B6, A6, bytes([128, 0, 0, 0, 0x12, 0x34, 0, 1]) + b"tcpcore ping")),
         lambda g: g[12:14] == b"\x86\xdd" and g[54] == 129),
    ]
    for name, frame, want in probes:
        s.send(frame)
        print("RX %s %s" % (name, next((g.hex() for g in frames(2) if want(g)), None)), flush=True)
PY
)
PING=$(cat <<'PY'
import socket
for fam, dst, typ in ((socket.AF_INET, "198.18.0.2", 8), (socket.AF_INET6, "2001:db8::2", 128)):
    s = socket.socket(fam, socket.SOCK_DGRAM, socket.IPPROTO_ICMP if typ == 8 else socket.IPPROTO_ICMPV6)
    s.settimeout(1)
    s.sendto(bytes([typ, 0, 0, 0, 0, 0, 0, 1]) + b"tcpcore ping", (dst, 0))
    try:
        s.recv(100)
    except OSError:
        pass
PY
)
ip netns exec "$B" python3 -c "$PEER" listen &
LISTENER=$!
sleep 0.5
ip netns exec "$A" python3 -c "$PING"
wait "$LISTENER"
ip netns exec "$B" python3 -c "$PEER" probe
