/*
 * The neighbour cache: storage, the state machine and the held packets;
 * see neigh.h for the states and their timers.
 *
 * Entries are found through a hash table of pool indices keyed by SipHash
 * under a per-stack key (an on-link host chooses the addresses it makes us
 * learn), and kept on an LRU list ordered by confirmation, whose head is
 * the eviction victim. Held packets are whole frames, Ethernet header
 * written except the destination, in fixed-size buffers from a pool: a
 * resolution that completes fills in the MAC and sends them in order.
 */
#include "link/neigh.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/rand.h"
#include "core/route.h"
#include "core/stack.h"
#include "link/arp.h"
#include "link/ether.h"
#include "link/nd6.h"
#include "util/container.h"
#include "wire/nd.h"

#define NEIGH_NIL         POOL_NONE
#define NEIGH_RETRANS     TCPC_USEC_PER_SEC        /* RFC 4861 RETRANS_TIMER; FreeBSD arpt_rexmit */
#define ND_REACHABLE_MIN  (15 * TCPC_USEC_PER_SEC) /* REACHABLE_TIME 30 s times 0.5 .. 1.5 */
#define ND_REACHABLE_SPAN (30 * TCPC_USEC_PER_SEC)

struct neigh_held {
    uint32_t next;
    uint32_t len;
    uint8_t frame[];
};

/* What differs between ARP and ND in the machine. */
struct neigh_family {
    bool v4;
    unsigned mtries;  /* broadcast / multicast solicitations */
    unsigned utries;  /* unicast probes */
    unsigned maxhold; /* packets held per entry */
    enum tcpc_stat_id dropped, timeouts;
};

static struct neigh_family neigh_family_of(const struct tcpc_stack *stack,
                                           const struct tcpc_addr *a)
{
    const struct tcpc_tunables *t = &stack->cfg.tun;
    if (tcpc_addr_is_v4(a))
        return (struct neigh_family){true,
                                     (unsigned)t->arp_maxtries,
                                     (unsigned)t->arp_maxtries,
                                     (unsigned)t->arp_maxhold,
                                     TCPC_STAT_arps_dropped,
                                     TCPC_STAT_arps_timeouts};
    return (struct neigh_family){false,
                                 (unsigned)t->nd6_mmaxtries,
                                 (unsigned)t->nd6_umaxtries,
                                 (unsigned)t->nd6_maxqueuelen,
                                 TCPC_STAT_icp6s_dropped,
                                 TCPC_STAT_icp6s_nd_timeouts};
}

static struct neigh_cache *nc_of(const struct tcpc_stack *stack)
{
    return &link_of(stack)->nc;
}

static struct neigh_entry *ne_at(const struct neigh_cache *nc, uint32_t idx)
{
    return pool_at(&nc->entries, idx);
}

static struct neigh_held *nh_at(const struct neigh_cache *nc, uint32_t idx)
{
    return pool_at(&nc->held, idx);
}

static uint32_t ne_bucket(const struct neigh_cache *nc, const struct tcpc_addr *a)
{
    return (uint32_t)hash_siphash(&nc->key, a->bytes, sizeof(a->bytes)) & nc->mask;
}

/* --- creation and teardown ----------------------------------------------- */

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

int neigh_init(struct tcpc_stack *stack, struct neigh_cache *nc)
{
    const struct tcpc_tunables *t = &stack->cfg.tun;
    memset(nc, 0, sizeof(*nc));
    nc->lru_head = nc->lru_tail = NEIGH_NIL;
    nc->frame_max = ETH_HDR_LEN + stack->cfg.mtu;
    size_t heldsize = (offsetof(struct neigh_held, frame) + nc->frame_max + 7) & ~(size_t)7;
    uint32_t nb = pow2_at_least((uint32_t)t->lle_maxentries);
    nc->mask = nb - 1;
    nc->mem = &stack->cfg.mem;
    nc->buckets = mem_get(nc->mem, nb * sizeof(*nc->buckets), MEM_ALIGN_ANY, false);
    if (!nc->buckets ||
        pool_init(&nc->entries, nc->mem, sizeof(struct neigh_entry), (uint32_t)t->lle_maxentries) !=
            0 ||
        pool_init(&nc->held, nc->mem, heldsize, (uint32_t)t->lle_maxheld) != 0) {
        neigh_destroy(nc);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < nb; i++)
        nc->buckets[i] = NEIGH_NIL;
    rand_bytes(&stack->rand, nc->key.k, sizeof(nc->key.k));
    timer_wheel_init(&nc->wheel, stack->now, TCPC_USEC_PER_MSEC);
    return 0;
}

void neigh_destroy(struct neigh_cache *nc)
{
    if (nc->mem)
        mem_put(nc->mem, nc->buckets, ((size_t)nc->mask + 1) * sizeof(*nc->buckets));
    nc->buckets = NULL;
    pool_free(&nc->entries);
    pool_free(&nc->held);
}

/* --- the LRU list and the hash chains ------------------------------------ */

static void lru_unlink(struct neigh_cache *nc, struct neigh_entry *e)
{
    if (e->lru_prev != NEIGH_NIL)
        ne_at(nc, e->lru_prev)->lru_next = e->lru_next;
    else
        nc->lru_head = e->lru_next;
    if (e->lru_next != NEIGH_NIL)
        ne_at(nc, e->lru_next)->lru_prev = e->lru_prev;
    else
        nc->lru_tail = e->lru_prev;
}

static void lru_append(struct neigh_cache *nc, struct neigh_entry *e, uint32_t idx)
{
    e->lru_next = NEIGH_NIL;
    e->lru_prev = nc->lru_tail;
    if (nc->lru_tail != NEIGH_NIL)
        ne_at(nc, nc->lru_tail)->lru_next = idx;
    else
        nc->lru_head = idx;
    nc->lru_tail = idx;
}

static struct neigh_entry *neigh_lookup(const struct neigh_cache *nc, const struct tcpc_addr *a)
{
    for (uint32_t i = nc->buckets[ne_bucket(nc, a)]; i != NEIGH_NIL;) {
        struct neigh_entry *e = ne_at(nc, i);
        if (tcpc_addr_eq(&e->addr, a))
            return e;
        i = e->hash_next;
    }
    return NULL;
}

/* --- held packets --------------------------------------------------------- */

static void held_drop_oldest(struct tcpc_stack *stack, struct neigh_entry *e)
{
    struct neigh_cache *nc = nc_of(stack);
    uint32_t idx = e->hold_head;
    e->hold_head = nh_at(nc, idx)->next;
    if (e->hold_head == NEIGH_NIL)
        e->hold_tail = NEIGH_NIL;
    e->nheld--;
    pool_put(&nc->held, idx);
    stack_drop(stack, neigh_family_of(stack, &e->addr).dropped,
               "packet held for an unresolved neighbour");
}

static void held_drop_all(struct tcpc_stack *stack, struct neigh_entry *e)
{
    while (e->nheld)
        held_drop_oldest(stack, e);
}

/* Queues a copy of the frame; beyond the entry's share, or with the pool
 * empty, the entry's oldest packet makes room (FreeBSD drops the oldest). */
static void held_add(struct tcpc_stack *stack, struct neigh_entry *e, const uint8_t *frame,
                     size_t len)
{
    struct neigh_cache *nc = nc_of(stack);
    enum tcpc_stat_id dropped = neigh_family_of(stack, &e->addr).dropped;
    if (len > nc->frame_max) {
        stack_drop(stack, dropped, "packet larger than the MTU cannot be held");
        return;
    }
    if (e->nheld >= neigh_family_of(stack, &e->addr).maxhold)
        held_drop_oldest(stack, e);
    uint32_t idx = pool_get(&nc->held);
    if (idx == NEIGH_NIL && e->nheld) {
        held_drop_oldest(stack, e);
        idx = pool_get(&nc->held);
    }
    if (idx == NEIGH_NIL) {
        stack_drop(stack, dropped, "every hold buffer is taken (net.link.lle.maxheld)");
        return;
    }
    struct neigh_held *h = nh_at(nc, idx);
    h->next = NEIGH_NIL;
    h->len = (uint32_t)len;
    memcpy(h->frame, frame, len);
    if (e->hold_tail != NEIGH_NIL)
        nh_at(nc, e->hold_tail)->next = idx;
    else
        e->hold_head = idx;
    e->hold_tail = idx;
    e->nheld++;
}

bool neigh_solicit_source(const struct tcpc_stack *stack, const struct neigh_entry *e,
                          struct tcpc_addr *src)
{
    const struct neigh_cache *nc = nc_of(stack);
    if (e->nheld) {
        /* A frame we built: Ethernet header, then our own IP header. */
        const uint8_t *ip = nh_at(nc, e->hold_head)->frame + ETH_HDR_LEN;
        if (ip[0] >> 4 == 4)
            *src = tcpc_addr_v4((uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 |
                                (uint32_t)ip[14] << 8 | ip[15]);
        else
            *src = tcpc_addr_v6(ip + 8);
        if (tcpc_addr_is_local(stack, src))
            return true;
    }
    return route_source(stack, &e->addr, src) == 0;
}

/* Sends a frame to the entry's MAC. */
static int neigh_send(struct tcpc_stack *stack, struct neigh_entry *e, uint8_t *frame, size_t len)
{
    memcpy(frame, e->mac.bytes, ETH_ADDR_LEN);
    e->flags |= NEF_USED;
    return ether_xmit(stack, frame, len);
}

/* The entry resolved: its held packets go out, oldest first. A refusal
 * loses the packet as the wire would (ips_odropped), and TCP recovers. */
static void held_flush(struct tcpc_stack *stack, struct neigh_entry *e)
{
    struct neigh_cache *nc = nc_of(stack);
    while (e->nheld) {
        uint32_t idx = e->hold_head;
        struct neigh_held *h = nh_at(nc, idx);
        e->hold_head = h->next;
        if (e->hold_head == NEIGH_NIL)
            e->hold_tail = NEIGH_NIL;
        e->nheld--;
        if (neigh_send(stack, e, h->frame, h->len) < 0)
            STAT_INC(stack, ips_odropped);
        pool_put(&nc->held, idx);
    }
}

/* --- entries -------------------------------------------------------------- */

static void neigh_arm(struct tcpc_stack *stack, struct neigh_entry *e, tcpc_time_t delay)
{
    timer_arm(&nc_of(stack)->wheel, &e->timer, stack->now + delay);
}

static void neigh_free(struct tcpc_stack *stack, struct neigh_entry *e)
{
    struct neigh_cache *nc = nc_of(stack);
    held_drop_all(stack, e);
    timer_cancel(&nc->wheel, &e->timer);
    uint32_t idx = pool_index(&nc->entries, e);
    uint32_t *p = &nc->buckets[ne_bucket(nc, &e->addr)];
    while (*p != idx)
        p = &ne_at(nc, *p)->hash_next;
    *p = e->hash_next;
    lru_unlink(nc, e);
    e->state = 0;
    pool_put(&nc->entries, idx);
}

/* A new INCOMPLETE entry for addr, evicting the one confirmed longest ago
 * when the pool is full. */
static struct neigh_entry *neigh_alloc(struct tcpc_stack *stack, const struct tcpc_addr *a)
{
    struct neigh_cache *nc = nc_of(stack);
    uint32_t idx = pool_get(&nc->entries);
    if (idx == NEIGH_NIL) {
        STAT_INC(stack, lle_evicted);
        neigh_free(stack, ne_at(nc, nc->lru_head));
        idx = pool_get(&nc->entries);
    }
    struct neigh_entry *e = ne_at(nc, idx);
    memset(e, 0, sizeof(*e));
    timer_init(&e->timer);
    e->addr = *a;
    e->state = TCPC_NEIGH_INCOMPLETE;
    e->hold_head = e->hold_tail = NEIGH_NIL;
    uint32_t *b = &nc->buckets[ne_bucket(nc, a)];
    e->hash_next = *b;
    *b = idx;
    lru_append(nc, e, idx);
    return e;
}

static void neigh_solicit(struct tcpc_stack *stack, struct neigh_entry *e, bool unicast)
{
    e->asked++;
    neigh_arm(stack, e, NEIGH_RETRANS);
    if (tcpc_addr_is_v4(&e->addr))
        arp_solicit(stack, e, unicast);
    else
        nd6_solicit(stack, e, unicast);
}

/* Moves the entry to the LRU tail: it was just confirmed or learned. */
static void neigh_touch(struct tcpc_stack *stack, struct neigh_entry *e)
{
    struct neigh_cache *nc = nc_of(stack);
    lru_unlink(nc, e);
    lru_append(nc, e, pool_index(&nc->entries, e));
}

static void neigh_set_mac(struct tcpc_stack *stack, struct neigh_entry *e,
                          const struct tcpc_ether_addr *mac)
{
    if (e->state != TCPC_NEIGH_INCOMPLETE && !eth_addr_eq(&e->mac, mac)) {
        char a[TCPC_ADDRSTRLEN];
        stack_trace(stack, "neighbour %s moved to another MAC",
                    tcpc_addr_format(&e->addr, a, sizeof(a)));
    }
    e->mac = *mac;
    neigh_touch(stack, e);
}

static void neigh_reachable(struct tcpc_stack *stack, struct neigh_entry *e,
                            const struct tcpc_ether_addr *mac)
{
    neigh_set_mac(stack, e, mac);
    e->state = TCPC_NEIGH_REACHABLE;
    e->asked = 0;
    e->flags &= (uint8_t)~NEF_USED;
    if (tcpc_addr_is_v4(&e->addr))
        neigh_arm(stack, e, (tcpc_time_t)stack->cfg.tun.arp_max_age * TCPC_USEC_PER_SEC);
    else
        neigh_arm(stack, e,
                  ND_REACHABLE_MIN + rand_uniform(&stack->rand, (uint32_t)ND_REACHABLE_SPAN));
    held_flush(stack, e);
}

/* RFC 4861 7.3.3: the first packet sent to a STALE entry starts DELAY. */
static void neigh_used_stale(struct tcpc_stack *stack, struct neigh_entry *e)
{
    e->state = TCPC_NEIGH_DELAY;
    e->asked = 0;
    neigh_arm(stack, e, (tcpc_time_t)stack->cfg.tun.nd6_delay * TCPC_USEC_PER_SEC);
}

static void neigh_stale(struct tcpc_stack *stack, struct neigh_entry *e,
                        const struct tcpc_ether_addr *mac)
{
    neigh_set_mac(stack, e, mac);
    e->state = TCPC_NEIGH_STALE;
    e->asked = 0;
    neigh_arm(stack, e, (tcpc_time_t)stack->cfg.tun.nd6_gctimer * TCPC_USEC_PER_SEC);
    if (e->nheld) {
        held_flush(stack, e);
        neigh_used_stale(stack, e);
    }
}

/* --- output ---------------------------------------------------------------- */

int neigh_output(struct tcpc_stack *stack, const struct tcpc_addr *nexthop, uint8_t *frame,
                 size_t len)
{
    struct neigh_entry *e = neigh_lookup(nc_of(stack), nexthop);
    if (!e) {
        e = neigh_alloc(stack, nexthop);
        held_add(stack, e, frame, len);
        neigh_solicit(stack, e, false);
        return 0;
    }
    switch (e->state) {
    case TCPC_NEIGH_INCOMPLETE:
        held_add(stack, e, frame, len);
        return 0;
    case TCPC_NEIGH_STALE:
        neigh_used_stale(stack, e);
        break;
    default:
        break;
    }
    return neigh_send(stack, e, frame, len);
}

/* --- learning ---------------------------------------------------------------- */

void neigh_arp_learn(struct tcpc_stack *stack, const struct tcpc_addr *addr,
                     const struct tcpc_ether_addr *mac, bool create)
{
    struct neigh_entry *e = neigh_lookup(nc_of(stack), addr);
    if (!e && !create)
        return;
    if (!e)
        e = neigh_alloc(stack, addr);
    neigh_reachable(stack, e, mac);
}

void neigh_nd_solicited(struct tcpc_stack *stack, const struct tcpc_addr *addr,
                        const struct tcpc_ether_addr *mac)
{
    struct neigh_entry *e = neigh_lookup(nc_of(stack), addr);
    if (!e)
        e = neigh_alloc(stack, addr);
    else if (e->state != TCPC_NEIGH_INCOMPLETE && eth_addr_eq(&e->mac, mac))
        return;
    neigh_stale(stack, e, mac);
}

void neigh_nd_advert(struct tcpc_stack *stack, const struct tcpc_addr *target,
                     const struct tcpc_ether_addr *mac, uint8_t flags)
{
    struct neigh_entry *e = neigh_lookup(nc_of(stack), target);
    bool solicited = (flags & ND_NA_SOLICITED) != 0;
    if (!e)
        return; /* unsolicited news of a stranger: RFC 4861 7.2.5 ignores it */
    if (e->state == TCPC_NEIGH_INCOMPLETE) {
        if (!mac)
            return;
        if (solicited)
            neigh_reachable(stack, e, mac);
        else
            neigh_stale(stack, e, mac);
        return;
    }
    bool differs = mac && !eth_addr_eq(mac, &e->mac);
    if (differs && !(flags & ND_NA_OVERRIDE)) {
        /* Not allowed to replace a known address: only doubt it. */
        if (e->state == TCPC_NEIGH_REACHABLE)
            neigh_stale(stack, e, &e->mac);
        return;
    }
    const struct tcpc_ether_addr *use = mac ? mac : &e->mac;
    if (solicited)
        neigh_reachable(stack, e, use);
    else if (differs)
        neigh_stale(stack, e, use);
}

/* --- timers ------------------------------------------------------------------ */

static void neigh_expire(struct tcpc_stack *stack, struct neigh_entry *e, const char *why)
{
    char a[TCPC_ADDRSTRLEN];
    stack->stats.v[neigh_family_of(stack, &e->addr).timeouts]++;
    stack_trace(stack, "neighbour %s removed: %s", tcpc_addr_format(&e->addr, a, sizeof(a)), why);
    neigh_free(stack, e);
}

static void neigh_timer(struct tcpc_stack *stack, struct neigh_entry *e)
{
    struct neigh_family f = neigh_family_of(stack, &e->addr);
    switch (e->state) {
    case TCPC_NEIGH_INCOMPLETE:
        if (e->asked < f.mtries)
            neigh_solicit(stack, e, false);
        else
            neigh_expire(stack, e, "neighbour did not answer");
        break;
    case TCPC_NEIGH_REACHABLE:
        if (!f.v4) {
            neigh_stale(stack, e, &e->mac);
        } else if (e->flags & NEF_USED) {
            /* In use at max_age: ask again while still using the MAC. */
            e->state = TCPC_NEIGH_PROBE;
            e->asked = 0;
            neigh_solicit(stack, e, true);
        } else {
            neigh_expire(stack, e, "ARP entry expired unused");
        }
        break;
    case TCPC_NEIGH_STALE:
        neigh_expire(stack, e, "stale neighbour unused for nd6_gctimer");
        break;
    case TCPC_NEIGH_DELAY:
        e->state = TCPC_NEIGH_PROBE;
        e->asked = 0;
        neigh_solicit(stack, e, true);
        break;
    default: /* PROBE */
        if (e->asked < f.utries)
            neigh_solicit(stack, e, true);
        else
            neigh_expire(stack, e, "neighbour stopped answering probes");
        break;
    }
}

void neigh_advance(struct tcpc_stack *stack)
{
    struct neigh_cache *nc = nc_of(stack);
    struct timer *t;
    while ((t = timer_wheel_expire(&nc->wheel, stack->now)) != NULL)
        neigh_timer(stack, container_of(t, struct neigh_entry, timer));
}

tcpc_time_t neigh_next_deadline(const struct neigh_cache *nc)
{
    return timer_wheel_next_deadline(&nc->wheel);
}

int neigh_list(const struct neigh_cache *nc, tcpc_neigh_fn fn, void *ctx)
{
    for (uint32_t i = nc->lru_head; i != NEIGH_NIL;) {
        const struct neigh_entry *e = ne_at(nc, i);
        i = e->lru_next;
        struct tcpc_neigh_info ni = {
            .addr = e->addr,
            .state = e->state,
            .asked = e->asked,
            .held = e->nheld,
            .expires = timer_armed(&e->timer) ? timer_deadline(&e->timer) : TCPC_TIME_NEVER,
        };
        if (e->state != TCPC_NEIGH_INCOMPLETE)
            ni.lladdr = e->mac;
        int r = fn(ctx, &ni);
        if (r)
            return r;
    }
    return 0;
}
