/*
 * IPv4 (RFC 791) and IPv6 (RFC 8200) headers: parse into a host-order
 * representation and emit from one.
 *
 * The representation carries both families through one struct: the address
 * type holds IPv4 as v4-mapped, and `version` says which header the bytes
 * had or should get. What tcpcore does not act on is checked and skipped:
 * IPv4 options, IPv6 extension headers (walked, at most IP6_EXT_MAX of them).
 * Fragments are refused with WIRE_IP_FRAGMENT; tcpcore does not reassemble.
 */
#ifndef TCPCORE_WIRE_IP_H
#define TCPCORE_WIRE_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpcore/addr.h"

#define IPPROTO_TCP_   6
#define IPPROTO_ICMP_  1
#define IPPROTO_ICMP6_ 58

#define IP4_HDR_LEN 20
#define IP6_HDR_LEN 40
/* What the length fields can hold: an IPv4 packet's total length (header
 * included) and an IPv6 packet's payload length (its fixed header excluded;
 * jumbograms are not supported). */
#define IP4_MAXPACKET  0xffff
#define IP6_MAXPAYLOAD 0xffff
/* Extension headers walked before giving up (a bound against chains built
 * to burn cycles; Linux and FreeBSD bound the same walk). */
#define IP6_EXT_MAX 8

/* The ECN field: the low two bits of the TOS / traffic class (RFC 3168 5). */
#define IPTOS_ECN_MASK   0x03
#define IPTOS_ECN_NOTECT 0x00
#define IPTOS_ECN_ECT1   0x01
#define IPTOS_ECN_ECT0   0x02
#define IPTOS_ECN_CE     0x03

/* The IPv6 flow label's bits (RFC 8200 3, RFC 6437). */
#define IP6_FLOWLABEL_MASK 0xfffffu

struct ip_repr {
    struct tcpc_addr src, dst;
    uint8_t version;      /* 4 or 6 */
    uint8_t proto;        /* upper-layer protocol after any extension headers */
    uint8_t ttl;          /* TTL or hop limit */
    uint8_t tos;          /* TOS or traffic class */
    bool df;              /* IPv4 don't-fragment; ignored for IPv6 */
    uint16_t id;          /* IPv4 identification; ignored for IPv6 */
    uint32_t flowlabel;   /* IPv6 flow label (20 bits); ignored for IPv4 */
    uint16_t hdrlen;      /* bytes before the upper-layer payload */
    uint16_t payload_len; /* bytes of upper-layer payload */
};

/*
 * Parses the IP header at buf (version taken from the first nibble). On
 * success returns hdrlen (the offset of the payload) and fills *out; the
 * payload is buf[hdrlen .. hdrlen + payload_len). Bytes past the IP total
 * length (link padding) are ignored. Returns -WIRE_* on malformed input.
 * An IPv6 header carrying a v4-mapped source or destination is refused with
 * WIRE_IP_BADSRC: tcpcore stores IPv4 in that form, so it would be taken for
 * IPv4 traffic.
 */
int ip_parse(const uint8_t *buf, size_t buflen, struct ip_repr *out);

/* Family-specific parsers, for callers that already know the version. */
int ip4_parse(const uint8_t *buf, size_t buflen, struct ip_repr *out);
int ip6_parse(const uint8_t *buf, size_t buflen, struct ip_repr *out);

/* Length of the header ip_emit writes for ip (20 for IPv4, 40 for IPv6). */
size_t ip_header_len(const struct ip_repr *ip);

/*
 * Writes the IP header for ip into buf (ip->payload_len bytes of payload are
 * expected to follow), with the IPv4 header checksum filled in. No options
 * and no extension headers are emitted. Returns the header length,
 * -WIRE_NOSPACE when buflen is too small, or -WIRE_IP_BADLEN when an IPv4
 * total length would not fit its 16-bit field.
 */
int ip_emit(const struct ip_repr *ip, uint8_t *buf, size_t buflen);

/* a with every bit past the first plen of its 128-bit form cleared (an
 * IPv4 address is mapped: its prefixes start at 96): a prefix's network
 * address, for routes and for the keys of RFC 2385 and RFC 5925. */
struct tcpc_addr ip_addr_prefix(const struct tcpc_addr *a, unsigned plen);

#endif
