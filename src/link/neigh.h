/*
 * The neighbour cache of an Ethernet link: IP address to MAC for both
 * families (FreeBSD's lltable), with the resolution state machine, the
 * packets held while a neighbour resolves, and the timers.
 *
 * One state machine serves ARP and ND (RFC 4861 section 7.3.2's states):
 *
 *   INCOMPLETE  solicitations go out, one a second (broadcast ARP request
 *               or NS to the solicited-node group), packets are held; after
 *               maxtries (net.link.ether.inet.maxtries, nd6_mmaxtries) the
 *               entry goes and its packets are dropped and counted.
 *   REACHABLE   confirmed; packets go out at once. IPv4: for
 *               net.link.ether.inet.max_age, then an entry that was used is
 *               re-probed (PROBE) and an unused one removed. IPv6: for a
 *               ReachableTime drawn in [15, 45) s (RFC 4861 6.3.2), then
 *               STALE.
 *   STALE       IPv6: learned without confirmation, or confirmed too long
 *               ago; still used. The first packet sent moves it to DELAY;
 *               unused for nd6_gctimer, it is removed.
 *   DELAY       IPv6: packets flow; after nd6_delay without a confirmation,
 *               PROBE.
 *   PROBE       unicast solicitations to the known MAC, one a second, while
 *               packets still flow to it; after nd6_umaxtries (IPv4:
 *               maxtries) unanswered, the entry is removed.
 *
 * Entries come from a pool sized by net.link.lle.maxentries; when it is
 * full the entry confirmed longest ago is evicted (lle_evicted). Held
 * packets live in a second pool of net.link.lle.maxheld frame-sized
 * buffers allocated when the stack is made, so holding never allocates;
 * each entry holds at most maxhold (nd6_maxqueuelen) and drops its oldest
 * beyond that, as FreeBSD does. Timers are on the cache's own wheel, whose
 * deadline the stack reports through tcpc_next_deadline.
 */
#ifndef TCPCORE_LINK_NEIGH_H
#define TCPCORE_LINK_NEIGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpcore/link.h"
#include "util/hash.h"
#include "util/pool.h"
#include "util/timer.h"

struct tcpc_stack;

/* Entry flags. */
#define NEF_USED 0x01 /* a packet went out through it since it was confirmed */

struct neigh_entry {
    struct timer timer; /* the current state's deadline */
    struct tcpc_addr addr;
    struct tcpc_ether_addr mac;    /* valid unless INCOMPLETE */
    uint8_t state;                 /* enum tcpc_neigh_state */
    uint8_t asked;                 /* solicitations sent in the current attempt */
    uint32_t hash_next;            /* bucket chain */
    uint32_t lru_prev, lru_next;   /* confirmed longest ago at the head */
    uint32_t hold_head, hold_tail; /* held packets, oldest first */
    uint16_t nheld;
    uint8_t flags; /* NEF_* */
    uint8_t spare;
};

_Static_assert(sizeof(struct neigh_entry) == 80, "a neighbour entry is 80 bytes");

struct neigh_cache {
    const struct mem *mem; /* the stack's allocator */
    struct pool entries;   /* struct neigh_entry */
    struct pool held;      /* struct neigh_held and its frame */
    uint32_t *buckets;
    uint32_t mask;
    uint32_t lru_head, lru_tail;
    size_t frame_max; /* largest frame a hold buffer takes */
    struct hash_key key;
    struct timer_wheel wheel;
};

/* Sizes the pools from the tunables (and the MTU) and keys the hash from
 * the stack's randomness. 0 or -ENOMEM. */
int neigh_init(struct tcpc_stack *stack, struct neigh_cache *nc);
void neigh_destroy(struct neigh_cache *nc);

/*
 * Sends the frame of len bytes (an Ethernet header whose destination is to
 * be filled in, then an IP packet) to the neighbour nexthop: at once when
 * its MAC is known, else held while it resolves (a new entry solicits at
 * once). Returns 0 (sent, held, or dropped and counted) or -ENOBUFS when
 * the embedder's output refused it.
 */
int neigh_output(struct tcpc_stack *stack, const struct tcpc_addr *nexthop, uint8_t *frame,
                 size_t len);

/* ARP told us addr is at mac (RFC 826's merge): an existing entry is
 * updated and confirmed; a new one is made only when `create` (the packet
 * was addressed to us). */
void neigh_arp_learn(struct tcpc_stack *stack, const struct tcpc_addr *addr,
                     const struct tcpc_ether_addr *mac, bool create);

/* A solicitation from addr carried its link-layer address (RFC 4861
 * 7.2.3): the entry is made or updated, STALE unless nothing changed. */
void neigh_nd_solicited(struct tcpc_stack *stack, const struct tcpc_addr *addr,
                        const struct tcpc_ether_addr *mac);

/* An advertisement for target (RFC 4861 7.2.5), with its target
 * link-layer address when it had one and its ND_NA_* flags. */
void neigh_nd_advert(struct tcpc_stack *stack, const struct tcpc_addr *target,
                     const struct tcpc_ether_addr *mac, uint8_t flags);

/* The address a solicitation for e speaks from: the source of the oldest
 * packet waiting for it when that is still ours (as Linux and FreeBSD
 * do), else the one source selection picks for e->addr. False when the
 * stack has no address of the family. */
bool neigh_solicit_source(const struct tcpc_stack *stack, const struct neigh_entry *e,
                          struct tcpc_addr *src);

/* Runs the cache's due timers; the next deadline for tcpc_next_deadline. */
void neigh_advance(struct tcpc_stack *stack);
tcpc_time_t neigh_next_deadline(const struct neigh_cache *nc);

/* Walks the entries for tcpc_neigh_list. */
int neigh_list(const struct neigh_cache *nc, tcpc_neigh_fn fn, void *ctx);

#endif
