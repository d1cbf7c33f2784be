/*
 * Ethernet II framing (IEEE 802.3 with an EtherType, RFC 894 for IPv4 and
 * RFC 2464 for IPv6): parse the header into a host-order representation and
 * emit one.
 *
 * At most one IEEE 802.1Q (or 802.1ad) tag is understood: parsing reports
 * it and the EtherType behind it, and the link layer decides whether a
 * tagged frame is processed or dropped. A second, stacked tag is left as
 * the payload's EtherType, which nobody handles. The frame check sequence
 * is the NIC's business and never appears here; neither does the minimum
 * frame padding, which NICs add on transmit and which the IP and ARP
 * parsers ignore on receive.
 */
#ifndef TCPCORE_WIRE_ETH_H
#define TCPCORE_WIRE_ETH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tcpcore/addr.h"

#define ETH_ADDR_LEN 6
#define ETH_HDR_LEN  14
#define ETH_TAG_LEN  4 /* an 802.1Q tag: TPID and TCI */

#define ETHERTYPE_IP   0x0800
#define ETHERTYPE_ARP  0x0806
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100 /* 802.1Q customer tag */
#define ETHERTYPE_QINQ 0x88a8 /* 802.1ad service tag */

#define ETH_VLAN_VID(tci) ((uint16_t)((tci)&0x0fff))

struct eth_repr {
    struct tcpc_ether_addr dst, src;
    uint16_t type;     /* EtherType of the payload, behind any tag */
    bool tagged;       /* one 802.1Q / 802.1ad tag was present */
    uint16_t vlan_tci; /* its tag control information (priority, VID) */
    uint16_t hdrlen;   /* 14, or 18 with a tag */
};

/*
 * Parses the frame header at buf. Returns hdrlen and fills *out, or
 * -WIRE_ETH_SHORT when the header (with its tag) does not fit, or
 * -WIRE_ETH_BADSRC when the source is a group address (no station sends
 * from one; IEEE 802 reserves the bit for destinations).
 */
int eth_parse(const uint8_t *buf, size_t buflen, struct eth_repr *out);

/* Writes the header (with the tag when eth->tagged) into buf; returns its
 * length or -WIRE_NOSPACE. */
int eth_emit(const struct eth_repr *eth, uint8_t *buf, size_t buflen);

static inline bool eth_addr_eq(const struct tcpc_ether_addr *a, const struct tcpc_ether_addr *b)
{
    return memcmp(a->bytes, b->bytes, ETH_ADDR_LEN) == 0;
}

/* The individual/group bit: set for multicast and broadcast. */
static inline bool eth_addr_is_group(const struct tcpc_ether_addr *a)
{
    return (a->bytes[0] & 1) != 0;
}

static inline bool eth_addr_is_zero(const struct tcpc_ether_addr *a)
{
    static const uint8_t zero[ETH_ADDR_LEN];
    return memcmp(a->bytes, zero, ETH_ADDR_LEN) == 0;
}

static inline struct tcpc_ether_addr eth_broadcast(void)
{
    return (struct tcpc_ether_addr){{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
}

static inline bool eth_addr_is_broadcast(const struct tcpc_ether_addr *a)
{
    struct tcpc_ether_addr b = eth_broadcast();
    return eth_addr_eq(a, &b);
}

/* The multicast MAC an IPv6 group maps to: 33:33 and the group's low 32
 * bits (RFC 2464 section 7). */
struct tcpc_ether_addr eth_mcast_ip6(const struct tcpc_addr *group);

#endif
