/*
 * ARP (RFC 826) for IPv4 over Ethernet: parse a packet into a host-order
 * representation and emit one.
 *
 * Only the one combination tcpcore speaks is accepted: hardware type 1
 * (Ethernet) with 6-byte addresses, protocol type 0x0800 with 4-byte
 * addresses, operation request or reply. Anything else is refused with a
 * reason, so the link layer can count it. Addresses are validated where a
 * forged one could poison a neighbour cache: a group (multicast or
 * broadcast) sender hardware address, or a multicast / limited-broadcast
 * sender IP address, is refused. A sender IP address of 0.0.0.0 is allowed:
 * it is an address probe (RFC 5227), which a host answers but learns
 * nothing from.
 */
#ifndef TCPCORE_WIRE_ARP_H
#define TCPCORE_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>

#include "tcpcore/addr.h"

#define ARP_LEN       28 /* the Ethernet/IPv4 packet; frames pad it to 46 */
#define ARPOP_REQUEST 1
#define ARPOP_REPLY   2

struct arp_repr {
    uint16_t op;                     /* ARPOP_REQUEST or ARPOP_REPLY */
    struct tcpc_ether_addr sha, tha; /* sender / target hardware address */
    struct tcpc_addr spa, tpa;       /* sender / target IPv4, v4-mapped */
};

/*
 * Parses the ARP packet at buf (bytes past ARP_LEN, the frame's padding,
 * are ignored). Returns ARP_LEN and fills *out, or -WIRE_ARP_SHORT,
 * -WIRE_ARP_BADFORMAT (not Ethernet/IPv4), -WIRE_ARP_BADOP or
 * -WIRE_ARP_BADADDR.
 */
int arp_parse(const uint8_t *buf, size_t buflen, struct arp_repr *out);

/* Writes arp into buf; returns ARP_LEN or -WIRE_NOSPACE. spa and tpa must
 * be IPv4 (their low four bytes are written). */
int arp_emit(const struct arp_repr *arp, uint8_t *buf, size_t buflen);

#endif
