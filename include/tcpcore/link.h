/**
 * @file
 * @brief Addresses, routes and neighbours of a stack.
 *
 * Changing a stack's addresses and gateways while it runs, and listing the
 * routing table and the neighbour cache (what `netstat -rn` and `arp -an` /
 * `ndp -an` show).
 *
 * A stack has one interface. Its addresses come from its configuration
 * (tcpc_config_add_addr) and from tcpc_addr_add; each gives a
 * connected prefix (the address's subnet, on the link). Each family has at
 * most one default gateway. A destination inside a connected prefix is sent
 * to directly, anything else to the gateway, the longest matching prefix
 * winning; with neither, sends fail with -EHOSTUNREACH (ips_noroute) and
 * connects with -ENETUNREACH. On an IP-level link (TCPC_LINK_IP, a TUN
 * device) the link is point to point: every destination is reachable
 * through it and routes only guide source-address selection.
 *
 * An unbound connect picks its source address by RFC 6724's rules: the
 * destination itself if it is ours, then an address of appropriate scope,
 * then one whose policy label matches the destination's, then the longest
 * common prefix with it. Deprecated, home and temporary addresses do not
 * exist here, so those rules never decide.
 *
 * Removing an address does what FreeBSD does: connections bound to it are
 * not touched. They keep sending from it, but segments to it are no longer
 * ours (dropped, ips_notlocal) unless the socket asked for IP_BINDANY, so
 * such a connection ends when its application closes it or its
 * retransmissions time out; TIME_WAIT entries on it run out their 2 MSL.
 * Nothing new binds, listens for or connects from the address. Adding the
 * address back revives those connections.
 *
 * All calls here may be made at any time between the stack's other calls;
 * none sends a packet.
 */
#ifndef TCPCORE_LINK_H
#define TCPCORE_LINK_H

#include <stdint.h>

#include "addr.h"

struct tcpc_stack;

/**
 * Adds addr to the stack with a connected prefix of prefixlen bits, in the
 * family's terms (0..32 for IPv4, 0..128 for IPv6; 0 means the address
 * alone, as a /32 or /128, as in tcpc_config_add_addr). Returns
 * 0, -EINVAL (unspecified, multicast or broadcast address, or prefixlen
 * out of range), -EEXIST (already ours) or -ENOSPC (TCPC_MAX_LOCAL_ADDRS
 * addresses, counting removed ones that TIME_WAIT entries still name).
 */
int tcpc_addr_add(struct tcpc_stack *stack, const struct tcpc_addr *addr, unsigned prefixlen);

/** Removes addr (see the top of this file for what happens to its
 * connections). Returns 0 or -EADDRNOTAVAIL when it is not ours. A default
 * gateway that was reachable only through addr's prefix stays set. */
int tcpc_addr_del(struct tcpc_stack *stack, const struct tcpc_addr *addr);

/**
 * Sets the default gateway of family (TCPC_AF_INET or TCPC_AF_INET6, from
 * tcpcore/socket.h) to gw, or removes it when gw is NULL. On an Ethernet
 * link the gateway must lie inside a connected prefix, or be an IPv6
 * link-local address. Returns 0, -EAFNOSUPPORT (another family), -EINVAL
 * (gw not a unicast address of that family) or -ENETUNREACH (not on the
 * link).
 */
int tcpc_route_set_gateway(struct tcpc_stack *stack, int family, const struct tcpc_addr *gw);

#define TCPC_RTF_GATEWAY 0x1 /**< route flag: a default route through gateway */
#define TCPC_RTF_HOST    0x2 /**< route flag: a connected route of full length (a lone address) */

/** One route, as tcpc_route_list reports it. The library fills it; fields
 * are only ever added at its end. */
struct tcpc_route_info {
    struct tcpc_addr dst;     /**< the prefix, host bits zero; 0.0.0.0 or :: for default */
    uint8_t prefixlen;        /**< in the family's terms: 0..32 or 0..128 */
    uint8_t flags;            /**< TCPC_RTF_* */
    struct tcpc_addr gateway; /**< default routes: the gateway */
    struct tcpc_addr ifaddr;  /**< connected routes: the local address they come from */
};

/** Called once per route; return non-zero to stop. The record is valid
 * during the call only, which must not change the stack. */
typedef int (*tcpc_route_fn)(void *ctx, const struct tcpc_route_info *ri);

/** Walks the routing table: one connected route per address, in the order
 * they were added, then the default routes (IPv4 first). Returns the
 * callback's non-zero value, or 0. */
int tcpc_route_list(const struct tcpc_stack *stack, tcpc_route_fn fn, void *ctx);

/** Neighbour states: RFC 4861 section 7.3.2's, which ARP entries use too
 * (an ARP entry is REACHABLE until net.link.ether.inet.max_age, and is
 * re-probed from PROBE when it was in use). */
enum tcpc_neigh_state {
    TCPC_NEIGH_INCOMPLETE = 1, /**< resolving: solicitations out, packets held */
    TCPC_NEIGH_REACHABLE,      /**< confirmed recently: used as it is */
    TCPC_NEIGH_STALE,          /**< not confirmed lately: used, confirmed when next used */
    TCPC_NEIGH_DELAY,          /**< stale and in use: waiting before probing */
    TCPC_NEIGH_PROBE,          /**< being confirmed by unicast probes */
};

/** One neighbour cache entry, as tcpc_neigh_list reports it. The library
 * fills it; fields are only ever added at its end. */
struct tcpc_neigh_info {
    struct tcpc_addr addr;         /**< the neighbour's IP address */
    struct tcpc_ether_addr lladdr; /**< its MAC; zero while INCOMPLETE */
    uint8_t state;                 /**< enum tcpc_neigh_state */
    uint8_t asked;                 /**< solicitations sent in the current attempt */
    uint16_t held;                 /**< packets waiting for the resolution */
    tcpc_time_t expires;           /**< when the state's timer fires (stack time) */
};

/** Called once per neighbour; return non-zero to stop. The record is valid
 * during the call only, which must not change the stack. */
typedef int (*tcpc_neigh_fn)(void *ctx, const struct tcpc_neigh_info *ni);

/** Walks the neighbour cache, in no particular order. A stack on an IP-level
 * link has none (the walk is empty). Returns the callback's non-zero value,
 * or 0. */
int tcpc_neigh_list(const struct tcpc_stack *stack, tcpc_neigh_fn fn, void *ctx);

/** "INCOMPLETE", "REACHABLE", ... for a tcpc_neigh_info state; "?" otherwise. */
const char *tcpc_neigh_state_name(unsigned state);

#endif
