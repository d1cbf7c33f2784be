/*
 * ICMP errors that matter to TCP: ICMPv4 destination unreachable (RFC 792,
 * RFC 1191 fragmentation-needed) and time exceeded in transit, and ICMPv6
 * destination unreachable, packet too big, time exceeded in transit and
 * parameter problem "unrecognized Next Header" (RFC 4443). The error quotes
 * the start of the packet we sent; parsing digs out the quoted IP addresses
 * and the first 8 bytes of its TCP header (ports and sequence number), which
 * is all RFC 792 promises.
 *
 * Also echo request and reply of both families (RFC 792, RFC 4443 4.1 and
 * 4.2), which the stack answers, and the ICMP checksum every ICMP module
 * (ND in nd.c too) computes the same way.
 */
#ifndef TCPCORE_WIRE_ICMP_H
#define TCPCORE_WIRE_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip.h"

#define ICMP4_UNREACH           3
#define ICMP4_UNREACH_NEEDFRAG  4
#define ICMP4_TIMXCEED          11
#define ICMP6_UNREACH           1
#define ICMP6_PACKET_TOO_BIG    2
#define ICMP6_TIME_EXCEEDED     3
#define ICMP6_PARAM_PROB        4
#define ICMP6_PARAMPROB_NEXTHDR 1 /* unrecognized Next Header: IPv6's "protocol unreachable" */
#define ICMP4_ECHOREPLY         0
#define ICMP4_ECHO              8
#define ICMP6_ECHO_REQUEST      128
#define ICMP6_ECHO_REPLY        129
#define ICMP_HDR_LEN            8 /* type, code, checksum and one 32-bit word */

enum icmp_kind {
    ICMP_KIND_UNREACH = 1, /* host, net, port, protocol, admin unreachable; v6 next header */
    ICMP_KIND_NEEDFRAG,    /* IPv4 fragmentation needed or IPv6 packet too big */
    ICMP_KIND_TIMXCEED,    /* hop limit exceeded in transit (code 0 only) */
};

struct icmp_repr {
    uint8_t kind;       /* enum icmp_kind */
    uint8_t type, code; /* as received */
    uint32_t mtu;       /* next-hop MTU for NEEDFRAG, else 0 */
    /* The quoted packet: the one we sent, so src is our address. */
    struct tcpc_addr quoted_src, quoted_dst;
    uint8_t quoted_proto;
    uint16_t quoted_sport, quoted_dport;
    /* The quoted packet's whole length as its own IP header gives it, not
     * the few bytes a router copied: what a too-big message says was too big. */
    uint32_t quoted_len;
    uint32_t quoted_seq;
};

/*
 * Parses the ICMP message that follows the outer IP header `ip` (buf holds
 * ip->payload_len bytes). The family comes from ip->version; for ICMPv6 the
 * checksum covers the pseudo-header built from ip. Returns 0 and fills *out,
 * -WIRE_ICMP_NOTERROR for a message type tcpcore ignores (echo, redirect...),
 * or another -WIRE_ICMP_* reason for malformed input.
 */
int icmp_parse(const struct ip_repr *ip, const uint8_t *buf, size_t buflen, struct icmp_repr *out);

/*
 * Emits a whole IP packet carrying an ICMP error of the given type/code (and
 * mtu for NEEDFRAG/too-big) from ip->src to ip->dst, quoting up to quotelen
 * bytes of `quote` (the offending packet). For tests, fuzz round trips and
 * tools; the stack itself never sends ICMP. Returns the packet length or
 * -WIRE_NOSPACE.
 */
int icmp_emit_packet(const struct ip_repr *ip, uint8_t type, uint8_t code, uint32_t mtu,
                     const uint8_t *quote, size_t quotelen, uint8_t *buf, size_t buflen);

/* An echo request or reply: identifier, sequence number and the data to
 * reflect (pointing into the parsed buffer). */
struct icmp_echo_repr {
    uint8_t type; /* ICMP4_ECHO / ICMP4_ECHOREPLY or ICMP6_ECHO_REQUEST / _REPLY */
    uint16_t id, seq;
    const uint8_t *data;
    size_t datalen;
};

/*
 * Parses an echo request or reply of ip's family (buf holds the ICMP
 * message, ip->payload_len bytes). The code is not checked: RFC 792 and
 * RFC 4443 give it no meaning for echo. Returns 0, -WIRE_ICMP_SHORT,
 * -WIRE_ICMP_BADSUM, or -WIRE_ICMP_NOTECHO for any other type.
 */
int icmp_echo_parse(const struct ip_repr *ip, const uint8_t *buf, size_t buflen,
                    struct icmp_echo_repr *out);

/*
 * Emits a whole IP packet from ip->src to ip->dst (TTL, TOS and so on from
 * ip) carrying an echo message of the given type, identifier, sequence and
 * data. data may point into buf (it is moved, not copied). Returns the
 * packet length or -WIRE_NOSPACE.
 */
int icmp_echo_emit_packet(const struct ip_repr *ip, const struct icmp_echo_repr *echo, uint8_t *buf,
                          size_t buflen);

/* Whether an ICMP message of ip's family has a correct checksum (for
 * ICMPv6, over the pseudo-header built from ip, RFC 4443 2.3). */
bool icmp_cksum_ok(const struct ip_repr *ip, const uint8_t *msg, size_t msglen);

/* Computes and stores the checksum of an ICMP message of ip's family,
 * whose checksum field (bytes 2..3) may hold anything. */
void icmp_cksum_set(const struct ip_repr *ip, uint8_t *msg, size_t msglen);

#endif
