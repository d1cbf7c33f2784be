/*
 * IPv6 neighbour discovery (RFC 4861) messages, the minimum a host on
 * Ethernet needs: neighbour solicitation and advertisement with their
 * link-layer address options, and router solicitation and advertisement
 * (fixed fields and the MTU option) so that those are recognised, counted
 * and could be sent.
 *
 * Parsing applies RFC 4861's validity checks (sections 6.1 and 7.1) that
 * need nothing but the message and its IP header: hop limit 255 (so the
 * message cannot come from off the link), code 0, the type's fixed length,
 * well-formed options, a unicast target, the rules on an unspecified
 * source and the solicited flag. What needs state (is the target ours?)
 * is the link layer's. Emission writes a whole IPv6 packet, always with hop
 * limit 255.
 */
#ifndef TCPCORE_WIRE_ND_H
#define TCPCORE_WIRE_ND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpcore/addr.h"
#include "ip.h"

#define ND_ROUTER_SOLICIT   133
#define ND_ROUTER_ADVERT    134
#define ND_NEIGHBOR_SOLICIT 135
#define ND_NEIGHBOR_ADVERT  136

/* Flags of a neighbour advertisement (nd_repr.flags). */
#define ND_NA_ROUTER    0x80
#define ND_NA_SOLICITED 0x40
#define ND_NA_OVERRIDE  0x20
/* Flags of a router advertisement. */
#define ND_RA_MANAGED 0x80
#define ND_RA_OTHER   0x40

#define ND_HOPLIMIT 255

struct nd_repr {
    uint8_t type;            /* ND_* above */
    uint8_t flags;           /* NA: ND_NA_*; RA: ND_RA_* */
    struct tcpc_addr target; /* NS and NA */
    /* The source (NS, RS, RA) or target (NA) link-layer address option. */
    bool has_lladdr;
    struct tcpc_ether_addr lladdr;
    /* RA only. */
    uint8_t cur_hop_limit;
    uint16_t router_lifetime; /* seconds */
    uint32_t reachable_time;  /* milliseconds */
    uint32_t retrans_timer;   /* milliseconds */
    uint32_t mtu;             /* the MTU option, 0 when absent */
};

/*
 * Parses the ND message that follows the IPv6 header `ip` (buf holds
 * ip->payload_len bytes). Returns 0 and fills *out; -WIRE_ND_NOTND for
 * another ICMPv6 type; -WIRE_ND_SHORT, -WIRE_ICMP_BADSUM, -WIRE_ND_HOPLIMIT,
 * -WIRE_ND_BADOPT or -WIRE_ND_INVALID for a message RFC 4861 says to drop.
 * Link-layer address options of a length other than one unit (not
 * Ethernet's) are skipped; the first of the right kind is taken.
 */
int nd_parse(const struct ip_repr *ip, const uint8_t *buf, size_t buflen, struct nd_repr *out);

/* Whether an ICMPv6 type is one nd_parse handles. */
bool nd_is_nd_type(uint8_t type);

/*
 * Emits a whole IPv6 packet from ip->src to ip->dst carrying nd, with hop
 * limit 255 whatever ip->ttl says, the link-layer address option when
 * nd->has_lladdr, and (RA only) the MTU option when nd->mtu is not 0.
 * Returns the packet length or -WIRE_NOSPACE.
 */
int nd_emit_packet(const struct ip_repr *ip, const struct nd_repr *nd, uint8_t *buf, size_t buflen);

/* The solicited-node multicast group of an address: ff02::1:ff and its
 * low 24 bits (RFC 4291 section 2.7.1). */
struct tcpc_addr nd_solicited_node(const struct tcpc_addr *addr);

/* Whether addr is some solicited-node multicast group. */
bool nd_is_solicited_node(const struct tcpc_addr *addr);

/* ff02::1, the all-nodes group. */
struct tcpc_addr nd_all_nodes(void);

#endif
