/*
 * Packets captured from the Linux kernel (on a tun device or a veth pair,
 * so with real checksums and no offload), shared by the wire and link
 * tests as known answers, and the decoder for the hex they are written in.
 */
#ifndef TCPCORE_TESTS_VECTORS_H
#define TCPCORE_TESTS_VECTORS_H

#include <stddef.h>
#include <stdint.h>

/* Linux 6.x SYN 198.18.0.1:34140 -> 198.18.0.2:80 (MSS, SACKPERM+TS, NOP+WS). */
static const char syn4_hex[] = "4500003c6b994000400642fbc6120001c6120002855c00507a21727f00000000"
                               "a002faf026070000020405b40402080a67d9c0b6000000000103030a";
/* Linux 6.x SYN [2001:db8::1]:59320 -> [2001:db8::2]:80. */
static const char syn6_hex[] = "60092f640028064020010db800000000000000000000000120010db800000000"
                               "0000000000000002e7b800503e2fdba300000000a002fd203f0c0000020405a0"
                               "0402080a70e83dab000000000103030a";

/*
 * Ethernet frames the Linux kernel (6.18) sent, captured with an AF_PACKET
 * socket on one end of a veth pair whose other end was in a network
 * namespace (scripts/capture-link-vectors.sh rebuilds them). The kernel's
 * side is 52:54:00:12:34:01 with 198.18.0.1 and 2001:db8::1; the capturing
 * side is 52:54:00:12:34:02 with 198.18.0.2 and 2001:db8::2. veth frames are
 * not padded to the 60-byte minimum, so the ARP frames are 42 bytes.
 */
/* ARP request: who has 198.18.0.2, tell 198.18.0.1 (broadcast). */
static const char linux_arp_request_hex[] =
    "ffffffffffff52540012340108060001080006040001525400123401c6120001000000000000c6120002";
/* ARP reply: 198.18.0.1 is at 52:54:00:12:34:01 (to a request from .2). */
static const char linux_arp_reply_hex[] =
    "52540012340252540012340108060001080006040002525400123401c6120001525400123402c6120002";
/* Echo request 198.18.0.1 -> 198.18.0.2 from a ping socket, id 0xea0c seq 1,
 * 12 bytes "tcpcore ping". */
static const char linux_echo4_request_hex[] =
    "525400123402525400123401080045000028f22740004001bc85c6120001c6120002080075c7ea0c0001"
    "746370636f72652070696e67";
/* Echo reply 198.18.0.1 -> 198.18.0.2 to a request with id 0x1234 seq 1. */
static const char linux_echo4_reply_hex[] =
    "525400123402525400123401080045000028f48f00004001fa1dc6120001c6120002000055a012340001"
    "746370636f72652070696e67";
/* Neighbour solicitation for 2001:db8::2 from 2001:db8::1 to its
 * solicited-node group ff02::1:ff00:2 (MAC 33:33:ff:00:00:02), with the
 * source link-layer address option. */
static const char linux_ns_hex[] =
    "3333ff00000252540012340186dd6000000000203aff20010db8000000000000000000000001ff02000000"
    "00000000000001ff000002870097c00000000020010db80000000000000000000000020101525400123401";
/* Neighbour advertisement 2001:db8::1 -> 2001:db8::2 answering a
 * solicitation: solicited and override, target link-layer address option. */
static const char linux_na_hex[] =
    "52540012340252540012340186dd6000000000203aff20010db800000000000000000000000120010db800"
    "00000000000000000000028800060d6000000020010db80000000000000000000000010201525400123401";
/* ICMPv6 echo request 2001:db8::1 -> 2001:db8::2 from a ping socket, id
 * 0xea0d seq 1, "tcpcore ping". */
static const char linux_echo6_request_hex[] =
    "52540012340252540012340186dd6009b7fa00143a4020010db800000000000000000000000120010db800"
    "00000000000000000000028000a202ea0d0001746370636f72652070696e67";
/* ICMPv6 echo reply 2001:db8::1 -> 2001:db8::2 to id 0x1234 seq 1. */
static const char linux_echo6_reply_hex[] =
    "52540012340252540012340186dd600ee85800143a4020010db800000000000000000000000120010db800"
    "0000000000000000000002810078dc12340001746370636f72652070696e67";

/* Decodes hex text (either case, spaces skipped) into out; returns the byte
 * count. Fails the test on overflow or an odd digit count. */
size_t unhex(const char *hex, uint8_t *out, size_t cap);

#endif
