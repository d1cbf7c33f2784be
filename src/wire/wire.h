/*
 * The wire layer's shared vocabulary: why a parser refused its input.
 *
 * Parsers take (buf, buflen), never read past buflen, never allocate and hold
 * no protocol state. They return a non-negative count of bytes consumed, or
 * one of these negative reasons, each distinct so that the caller can bump the
 * counter that names it (the mapping to FreeBSD's counter names lives in
 * src/core/input.c, not here: the wire layer knows nothing of a stack).
 */
#ifndef TCPCORE_WIRE_WIRE_H
#define TCPCORE_WIRE_WIRE_H

#define WIRE_ERRORS(X)                                                                             \
    X(WIRE_IP_SHORT, "shorter than an IP header")                                                  \
    X(WIRE_IP_BADVERSION, "IP version is neither 4 nor 6")                                         \
    X(WIRE_IP_BADHLEN, "IPv4 header length below 20 or past the packet")                           \
    X(WIRE_IP_BADLEN, "IP total/payload length disagrees with the packet")                         \
    X(WIRE_IP_BADSUM, "IPv4 header checksum")                                                      \
    X(WIRE_IP_FRAGMENT, "IP fragment (reassembly is not supported)")                               \
    X(WIRE_IP_BADSRC, "source is multicast, broadcast, unspecified, or IPv6 is v4-mapped")         \
    X(WIRE_IP6_EXTLIMIT, "too many IPv6 extension headers")                                        \
    X(WIRE_IP6_EXTSHORT, "IPv6 extension header runs past the packet")                             \
    X(WIRE_TCP_SHORT, "shorter than a TCP header")                                                 \
    X(WIRE_TCP_BADOFF, "TCP data offset below 5 or past the segment")                              \
    X(WIRE_TCP_BADSUM, "TCP checksum")                                                             \
    X(WIRE_TCPOPT_BADLEN, "TCP option length is wrong or runs past the header")                    \
    X(WIRE_ICMP_SHORT, "shorter than an ICMP header")                                              \
    X(WIRE_ICMP_BADSUM, "ICMP checksum")                                                           \
    X(WIRE_ICMP_BADQUOTE, "ICMP error quotes too little of the original packet")                   \
    X(WIRE_ICMP_NOTERROR, "ICMP type is not an error tcpcore acts on")                             \
    X(WIRE_ICMP_NOTECHO, "ICMP type is not an echo request or reply")                              \
    X(WIRE_ETH_SHORT, "shorter than an Ethernet header (with its VLAN tag)")                       \
    X(WIRE_ETH_BADSRC, "Ethernet source is a group (multicast or broadcast) address")              \
    X(WIRE_ARP_SHORT, "shorter than an ARP packet for IPv4 over Ethernet")                         \
    X(WIRE_ARP_BADFORMAT, "ARP for a hardware or protocol other than Ethernet and IPv4")           \
    X(WIRE_ARP_BADOP, "ARP operation is neither request nor reply")                                \
    X(WIRE_ARP_BADADDR, "ARP sender is a group MAC or a multicast/broadcast IPv4 address")         \
    X(WIRE_ND_SHORT, "neighbour discovery message shorter than its type's fixed part")             \
    X(WIRE_ND_HOPLIMIT, "neighbour discovery with a hop limit other than 255 (not from the link)") \
    X(WIRE_ND_INVALID, "neighbour discovery breaking RFC 4861's validity rules")                   \
    X(WIRE_ND_BADOPT, "neighbour discovery option of length 0 or running past the message")        \
    X(WIRE_ND_NOTND, "ICMPv6 type is not router/neighbour solicitation or advertisement")          \
    X(WIRE_NOSPACE, "output buffer too small")

enum wire_error {
    WIRE_ERROR_NONE = 0,
#define WIRE_ENUM_(name, text) name,
    WIRE_ERRORS(WIRE_ENUM_)
#undef WIRE_ENUM_
        WIRE_ERROR_COUNT
};
/* Parsers return -reason; reasons are small positive numbers. */

/* A sentence naming the reason; never NULL. */
const char *wire_strerror(int err);

#endif
