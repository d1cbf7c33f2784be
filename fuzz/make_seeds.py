#!/usr/bin/env python3
"""Writes the seed inputs under fuzz/regress/<target>/.

The seeds are packets the Linux kernel sent (captured off a tun device or,
for the Ethernet frames, a veth pair, so their checksums are real, not
offloaded; scripts/capture-link-vectors.sh) plus a few built here around them:
a data segment with timestamps and SACK, an IPv6 SYN behind a destination
options header, and ICMP errors quoting the SYNs. Run from anywhere; it
only (re)writes the seed-*.bin files, never the regression inputs found
by fuzzing.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

SYN4 = bytes.fromhex(
    "4500003c6b994000400642fbc6120001c6120002855c00507a21727f00000000"
    "a002faf026070000020405b40402080a67d9c0b6000000000103030a")
SYN6 = bytes.fromhex(
    "60092f640028064020010db800000000000000000000000120010db800000000"
    "0000000000000002e7b800503e2fdba300000000a002fd203f0c0000020405a0"
    "0402080a70e83dab000000000103030a")
# A TCP-AO SYN as Linux sent it (RFC 9235 4.1.1, HMAC-SHA-1-96).
AO_SYN4 = bytes.fromhex(
    "45e0004cdd0f4000ff06bf6b0a0b0c0dac1b1c1de9d700b3fbfbab5a00000000"
    "e002ffffcac40000020405b4010303080402080a00155ab7000000001d103d54"
    "2ee437c6f8ede6d7c4d602e7")
UNREACH4 = bytes.fromhex(
    "45c00040660c0000400187c7c6130001c61300020303a74800000000"
    "450000241234400040119c6bc6130002c61300019c40000900100000746370636f726521")
UNREACH6 = bytes.fromhex(
    "6000688000403a4020010db800010000000000000000000120010db800010000"
    "0000000000000002010431db00000000600000000010114020010db800010000"
    "000000000000000220010db80001000000000000000000019c41000900104eb2"
    "746370636f726521")

# Frames from Linux on a veth pair (tests/harness/vectors.h has the same).
ARP_REQUEST = bytes.fromhex(
    "ffffffffffff52540012340108060001080006040001525400123401c6120001000000000000c6120002")
ARP_REPLY = bytes.fromhex(
    "52540012340252540012340108060001080006040002525400123401c6120001525400123402c6120002")
ECHO4 = bytes.fromhex(
    "525400123402525400123401080045000028f22740004001bc85c6120001c6120002080075c7ea0c0001"
    "746370636f72652070696e67")
NS6 = bytes.fromhex(
    "3333ff00000252540012340186dd6000000000203aff20010db8000000000000000000000001ff02000000"
    "00000000000001ff000002870097c00000000020010db80000000000000000000000020101525400123401")
NA6 = bytes.fromhex(
    "52540012340252540012340186dd6000000000203aff20010db800000000000000000000000120010db800"
    "000000000000000000028800060d6000000020010db80000000000000000000000010201525400123401")
ECHO6 = bytes.fromhex(
    "52540012340252540012340186dd6009b7fa00143a4020010db800000000000000000000000120010db800"
    "000000000000000000028000a202ea0d0001746370636f72652070696e67")


def cksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(src, dst, proto, payload, ident=1):
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                              0x4000, 64, proto, 0, bytes(src), bytes(dst)))
    h[10:12] = struct.pack("!H", cksum(bytes(h)))
    return bytes(h) + payload


def ip6(src, dst, nh, payload):
    return struct.pack("!IHBB", 0x6000_0000, len(payload), nh, 64) + src + dst + payload


def with_sum(seg, off, pseudo):
    seg = bytearray(seg)
    seg[off:off + 2] = b"\0\0"
    seg[off:off + 2] = struct.pack("!H", cksum(pseudo + bytes(seg)))
    return bytes(seg)


def pseudo4(src, dst, proto, n):
    return bytes(src) + bytes(dst) + struct.pack("!xBH", proto, n)


def pseudo6(src, dst, proto, n):
    return src + dst + struct.pack("!I3xB", n, proto)


A4, B4 = [198, 18, 0, 1], [198, 18, 0, 2]
R4 = [203, 0, 113, 1]
A6, B6 = SYN6[8:24], SYN6[24:40]
R6 = bytes.fromhex("20010db8ff00000000000000000000fe")


def data_segment():
    """An ACK with data, timestamps (NOP NOP TS) and two SACK blocks."""
    opts = bytes([1, 1, 8, 10]) + struct.pack("!II", 1000, 2000)
    opts += bytes([1, 1, 5, 18]) + struct.pack("!IIII", 10, 20, 30, 40)
    hdr = struct.pack("!HHIIBBHHH", 40000, 443, 1, 2, (20 + len(opts)) // 4 << 4,
                      0x18, 502, 0, 0)
    seg = hdr + opts + b"GET / HTTP/1.0\r\n\r\n"
    return with_sum(seg, 16, pseudo4(A4, B4, 6, len(seg)))


def syn6_dstopts():
    """The IPv6 SYN behind an 8-byte destination options header (PadN)."""
    ext = bytes([6, 0, 1, 4, 0, 0, 0, 0])
    return ip6(A6, B6, 60, ext + SYN6[40:])


def icmp4(typ, code, rest, quote):
    msg = bytearray(struct.pack("!BBHI", typ, code, 0, rest) + quote)
    msg[2:4] = struct.pack("!H", cksum(bytes(msg)))
    return bytes(msg)


def icmp6(typ, code, rest, quote, src=R6, dst=A6):
    msg = struct.pack("!BBHI", typ, code, 0, rest) + quote
    return with_sum(msg, 2, pseudo6(src, dst, 58, len(msg)))


def vlan(frame, tpid=0x8100, tci=(5 << 13) | 100):
    """The frame with an 802.1Q (or 802.1ad) tag after its addresses."""
    return frame[:12] + struct.pack("!HH", tpid, tci) + frame[12:]


def nd_for_fuzz(msg, src, dst):
    """An ND message re-checksummed for the fixed header fuzz_nd uses."""
    return with_sum(msg, 2, pseudo6(src, dst, 58, len(msg)))


def ra():
    """A router advertisement with source link-layer and MTU options."""
    msg = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0x40, 1800, 30000, 1000)
    msg += bytes([1, 1]) + ARP_REQUEST[6:12] + struct.pack("!BBHI", 5, 1, 0, 1500)
    return msg


def link_scripts():
    """Scripts for fuzz_link: kind byte, then that step's fixed-size body.
    Address indices are fuzz_link.c's fz_addr_text (0 = 198.18.0.1, ours)."""
    raw, arp, nd, tcp, echo, time, connect, config = range(8)
    sec = [time, 0x03, 0xe8]  # 1000 ms
    meet4 = [arp, 0x00, 2, 1, 0]  # 198.18.0.2 asks who has 198.18.0.1
    syn4 = [tcp, 0x82, 1, 0, 1, 0, 1, 0, 2]  # SYN from .2 to .1:80
    ns6 = [nd, 0x82, 0x21, 7, 8, 2]  # NS for ::1 from ::2, source option
    na6 = [nd, 0x7b, 0x61, 8, 8, 2]  # NA for ::2 to ::1, solicited + override
    return {
        "meet-syn4": bytes(meet4 + syn4 + sec + [echo, 1, 0, 2]),
        "gateway": bytes([config, 2, 3, connect, 4, 80, arp, 0x03, 3, 3, 0] + sec * 3),
        "fail4": bytes([connect, 2, 81] + sec * 7),
        "nd6": bytes(ns6 + [connect, 8, 81] + na6 + sec * 40 + [connect, 8, 83] + sec * 8),
        "addr-churn": bytes([config, 1, 0, connect, 1, 1, config, 0x60, 0, connect, 1, 3] + sec),
    }


# --- fuzz_stack scripts (see fuzz/fuzz_stack.c for the record formats) ---

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
# Edge bases: SEQ 0 RCV.NXT, 1 RCV.NXT+RCV.WND, 2 last advertised right edge,
# 3 RCV.NXT-len, 4 right edge-len, 5 IRS, 6 RCV.NXT-RCV.WND, 7 last ACK sent;
# ACK 0 SND.UNA, 1 SND.NXT, 2 SND.MAX, 3 ISS, 4 SND.UNA-window, 5/6 seq/end
# of the flow's last segment, 7 the last seq sent.  Distance classes: 0 d,
# 1 2^31+d, 2 d<<8, 3 d<<16.
O_MSS, O_WS, O_SACKOK, O_TS, O_SACK = 1, 2, 4, 8, 16


def edge(flow=0, flags=ACK, seq=(0, 0, 0), ack=(0, 0, 0), data=0, opts=O_TS, wshift=0,
         win=65535, mss=1460, dts=1, tscls=0, delivery=0, repeat=False, wrong=0):
    ctl = flow | delivery << 3 | (0xE0 if repeat else 0)
    seqsel = seq[0] | seq[1] << 3
    acksel = ack[0] | ack[1] << 3
    optbits = opts | (wshift // 2) << 5
    return bytes([4, ctl, flags, seqsel, acksel]) + struct.pack(
        "<bbBBHHbBbB", seq[2], ack[2], data, optbits, win, mss, dts, tscls, 0, wrong)


def tmpl_syn(port_sel=1, tsval=1000):
    # SYN to the listener from port 40000 + (port_sel >> 4), every option.
    return bytes([1]) + struct.pack("<BBBBbbHI", SYN, 0x7F, port_sel, 0, 0, 0, 65535, tsval)


def api(op, arg=0):
    return bytes([3, op, arg])


def deadline(d=0):
    return bytes([6, d & 0xFF])


def step_ms(ms):
    return bytes([2]) + struct.pack(">H", ms)


def active_open(flow=0, opts=O_MSS | O_WS | O_SACKOK | O_TS, mss=1460, wshift=6):
    return edge(flow, SYN | ACK, seq=(0, 3, 64), ack=(1, 0, 0), opts=opts, mss=mss,
                wshift=wshift)


def stack_seeds():
    established = active_open() + api(0x00, 25) + edge(ack=(2, 0, 0))
    # Both lengths at and around each edge of the receive window (the
    # acceptability table of RFC 9293 3.10.7.4).
    window_edges = b"".join(
        edge(flow=1, seq=(base, cls, d), ack=(2, 0, 0), data=n)
        for base, cls, d in [(1, 0, 0), (1, 0, 1), (1, 0, -1), (1, 1, 0), (1, 1, -1),
                             (4, 0, 0), (4, 0, 1), (3, 0, 0), (6, 0, 0), (0, 1, 0)]
        for n in ([0, 100] if base not in (3, 4) else [100]))
    return {
        # Active open, data both ways, half close, TIME_WAIT, reopen on the
        # old port (RFC 6191 takeover).
        "handshake": bytes([0x02]) + established
        + edge(flags=ACK | PSH, ack=(2, 0, 0), data=200) + api(0x01, 255) + api(0x02, 1)
        + edge(flags=FIN | ACK, ack=(2, 0, 0)) + step_ms(100) + api(0x03) + api(0x09, 0x80)
        + active_open() + deadline() + deadline(),
        # Passive open through the SYN cache, accept, then segments on and
        # around every edge of the window, then an orphaned close.
        "passive-edges": bytes([0x02]) + tmpl_syn() + edge(flow=1, ack=(1, 0, 0))
        + api(0x04) + api(0x10, 50) + edge(flow=1, ack=(2, 0, 0))
        + window_edges
        + api(0x13) + edge(flow=1, seq=(1, 1, 0), ack=(2, 0, 0)) + deadline() + deadline(),
        # IPv6 at MTU 1280: the SYN retransmits until a RST refuses it.
        "synsent-v6": bytes([0x09]) + deadline() + deadline() + deadline(10)
        + edge(flags=RST | ACK, ack=(1, 0, 0), opts=0),
        # A NIC flow hash: the right hash reaches the connection, a wrong
        # one falls through to the listener.
        "flowhash": bytes([0x42]) + tmpl_syn() + edge(flow=1, ack=(1, 0, 0), delivery=1)
        + api(0x04) + edge(flow=1, flags=ACK | PSH, ack=(2, 0, 0), data=10, delivery=1)
        + edge(flow=1, flags=ACK | PSH, ack=(2, 0, 0), data=10, delivery=2, wrong=0x5A)
        + edge(flow=1, flags=ACK | PSH, ack=(2, 0, 0), data=10, delivery=0),
        # Issue 14, defect 1: a pure ACK at exactly RCV.NXT+RCV.WND, with a
        # zero window, moved SND.UNA and closed the send window (caught by
        # the harness's beyond-the-window check).
        "ack-at-right-edge": bytes([0x02]) + tmpl_syn() + edge(flow=1, ack=(1, 0, 0))
        + api(0x04) + api(0x10, 50) + edge(flow=1, seq=(1, 0, 0), ack=(2, 0, 0), win=0),
        # Issue 14, defect 7: a SYN and an ACK carrying a wrong NIC hash miss
        # the established connection, complete a second one on its 4-tuple
        # through the SYN cache, and the failed insert left it unindexed
        # (caught by the harness's table check).
        "wrong-hash-second-connection": bytes([0x42]) + tmpl_syn()
        + edge(flow=1, ack=(1, 0, 0), delivery=1) + api(0x04)
        + edge(flow=1, flags=SYN, seq=(0, 1, 0), opts=O_MSS, delivery=2, wrong=0x33)
        + edge(flow=1, seq=(7, 0, 0), ack=(6, 0, 0), opts=0, delivery=2, wrong=0x33),
        # IPv4 at MTU 65535 with a 128 KiB send buffer: the largest segments.
        # Urgent data (an edge segment's pointer is its mss field): a byte
        # out of band, read and peeked at; a pointer 65535 ahead; SO_OOBINLINE;
        # an urgent send of our own; URG with a zero pointer.
        "urgent": bytes([0x02]) + tmpl_syn() + edge(flow=1, ack=(1, 0, 0)) + api(0x04)
        + edge(flow=1, flags=ACK | PSH | URG, ack=(2, 0, 0), data=10, mss=4)
        + api(0x1E, 0x03) + api(0x1E, 0x01) + api(0x11, 255)
        + edge(flow=1, flags=ACK | URG, ack=(2, 0, 0), data=10, mss=65535)
        + api(0x1E, 0x0C) + api(0x11, 255) + api(0x1D, 5)
        + edge(flow=1, flags=ACK | URG, ack=(2, 0, 0), data=3, mss=0) + deadline(),
        "jumbo": bytes([0x32]) + active_open(mss=65535, wshift=14) + api(0x06, 8)
        + api(0x00, 0xFF) + edge(ack=(1, 0, 0), win=65535) + edge(ack=(2, 0, 0))
        + deadline() + edge(ack=(2, 0, 0)),
    }


def seeds():
    seg4 = data_segment()
    lla = bytes.fromhex("fe800000000000000000000000000001")
    glb = bytes.fromhex("20010db8000000000000000000000002")
    snm = bytes.fromhex("ff0200000000000000000001ff000002")
    pkt4 = ip4(A4, B4, 6, seg4)
    needfrag = icmp4(3, 4, 1400, SYN4[:28])
    ptb = icmp6(2, 0, 1280, SYN6)
    return {
        "ip4": {"syn": SYN4, "data": pkt4, "icmp-unreach": UNREACH4,
                "needfrag": ip4(R4, A4, 1, needfrag)},
        "ip6": {"syn": SYN6, "syn-dstopts": syn6_dstopts(), "icmp-unreach": UNREACH6,
                "ptb": ip6(R6, A6, 58, ptb)},
        "tcp": {"syn4": SYN4[20:], "syn6": SYN6[40:], "data": seg4, "ao-syn4": AO_SYN4[20:]},
        "icmp": {"unreach4": UNREACH4[20:], "unreach6": UNREACH6[40:],
                 "needfrag4": needfrag, "ptb6": ptb, "echo4": ECHO4[34:], "echo6": ECHO6[54:]},
        "eth": {"arp-request": ARP_REQUEST, "ns6": NS6, "echo4": ECHO4,
                "vlan": vlan(ECHO4), "qinq": vlan(ECHO4, 0x88a8)},
        "arp": {"request": ARP_REQUEST[14:], "reply": ARP_REPLY[14:],
                "probe": ARP_REQUEST[14:28] + bytes(4) + ARP_REQUEST[32:]},
        "nd": {"ns": nd_for_fuzz(NS6[54:], lla, glb), "na": nd_for_fuzz(NA6[54:], lla, glb),
               "dad-ns": nd_for_fuzz(NS6[54:78], bytes(16), snm),
               "ra": nd_for_fuzz(ra(), lla, glb)},
        "link": link_scripts(),
        "roundtrip": {"syn4": SYN4, "syn6": SYN6, "data4": pkt4, "ao-syn4": AO_SYN4,
                      "syn6-dstopts": syn6_dstopts()},
        "stack": stack_seeds(),
    }


def main():
    for target, files in seeds().items():
        d = os.path.join(HERE, "regress", target)
        os.makedirs(d, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(d, "seed-%s.bin" % name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
