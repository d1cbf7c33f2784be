/*
 * The stack's addresses and its small routing table: connected prefixes
 * (one per address) and a default gateway per family, the next hop of a
 * destination by longest prefix, and the source address of an unbound
 * connect by RFC 6724's rules (tcpcore/link.h states the policy).
 *
 * Addresses sit in TCPC_MAX_LOCAL_ADDRS slots whose numbers are stable:
 * compact TIME_WAIT records store a slot number instead of the address
 * (src/tcp/timewait.c), so a removed address keeps its slot, marked dead,
 * for as long as records hold it (route_addr_hold / route_addr_release),
 * and adding the same address again revives that slot. Prefix lengths are
 * kept in the 128-bit terms of the shared address type (an IPv4 /24 is 120)
 * so that both families match with one function.
 */
#ifndef TCPCORE_CORE_ROUTE_H
#define TCPCORE_CORE_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpcore/addr.h"
#include "tcpcore/stack.h"

struct tcpc_stack;

struct route_ifaddr {
    struct tcpc_addr addr;
    uint8_t plen;  /* connected prefix, in 128-bit terms */
    bool live;     /* false once removed (or never used) */
    uint32_t refs; /* TIME_WAIT records naming the slot */
    uint32_t seq;  /* when it was added: listing and tie-break order */
};

struct route_table {
    struct route_ifaddr slot[TCPC_MAX_LOCAL_ADDRS];
    uint32_t next_seq;
    struct tcpc_addr gw[2]; /* [0] IPv4, [1] IPv6 */
    bool has_gw[2];
};

/* Whether the configuration's addresses and prefix lengths are usable: 0,
 * or -EINVAL with a sentence in *why (tcpc_config_check). */
int route_config_check(const struct tcpc_config *cfg, const char **why);

/* Fills the table from a configuration route_config_check accepted. */
void route_init(struct route_table *rt, const struct tcpc_config *cfg);

/* A live local address. */
bool route_is_local(const struct route_table *rt, const struct tcpc_addr *a);

/* The slot holding a (live or removed but still held), or -1. */
int route_addr_slot(const struct route_table *rt, const struct tcpc_addr *a);

/* The address in slot (any slot route_addr_slot returned). */
static inline const struct tcpc_addr *route_addr_at(const struct route_table *rt, unsigned slot)
{
    return &rt->slot[slot].addr;
}

/* A record starts / stops naming slot: while named, a removed address's
 * slot is not given to another address. */
void route_addr_hold(struct route_table *rt, unsigned slot);
void route_addr_release(struct route_table *rt, unsigned slot);

/*
 * The next hop toward dst: dst itself when it is on the link (inside a
 * connected prefix, IPv6 link-local, one of ours, or any destination on an
 * IP-level link), else the family's gateway. Returns 0 or -EHOSTUNREACH.
 */
int route_nexthop(const struct tcpc_stack *stack, const struct tcpc_addr *dst,
                  struct tcpc_addr *nexthop);

/*
 * The source address for a connection or message to dst (RFC 6724 section
 * 5), among the live addresses of dst's family. Returns 0, -EADDRNOTAVAIL
 * (no address of the family) or, on an Ethernet link, -ENETUNREACH when
 * dst has no route.
 */
int route_source(const struct tcpc_stack *stack, const struct tcpc_addr *dst,
                 struct tcpc_addr *src);

#endif
