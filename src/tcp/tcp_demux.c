/*
 * The engine's connection lookup; see tcp_demux.h.
 *
 * Connections hash by their 4-tuple under a per-stack SipHash key into
 * chains; listeners sit on a short list searched for the most specific
 * match (a listener on the exact local address beats a wildcard one).
 */
#include "tcp/tcp_demux.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "tcp/tcp_var.h"

struct tcp_demux {
    uint8_t key[crypto_shorthash_KEYBYTES];
    struct tcpcb **buckets;
    uint32_t mask;
    struct tcpcb *listeners; /* linked through hash_next */
    struct tcpcb *bound;     /* bound, neither listening nor connected */
};

static uint32_t demux_hash(const struct tcp_demux *d, const struct tcpc_addr *faddr, uint16_t fport,
                           const struct tcpc_addr *laddr, uint16_t lport)
{
    uint8_t key[36];
    memcpy(key, faddr->bytes, 16);
    memcpy(key + 16, laddr->bytes, 16);
    key[32] = (uint8_t)(fport >> 8);
    key[33] = (uint8_t)fport;
    key[34] = (uint8_t)(lport >> 8);
    key[35] = (uint8_t)lport;
    uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, key, sizeof(key), d->key);
    uint32_t h;
    memcpy(&h, out, sizeof(h));
    return h & d->mask;
}

int demux_init(struct tcpc_stack *stack)
{
    struct tcp_demux *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    uint32_t n = 64;
    while (n < stack->tcp->maxsockets)
        n <<= 1;
    d->buckets = calloc(n, sizeof(*d->buckets));
    if (!d->buckets) {
        free(d);
        return -ENOMEM;
    }
    d->mask = n - 1;
    rand_bytes(&stack->rand, d->key, sizeof(d->key));
    stack->tcp->demux = d;
    return 0;
}

void demux_destroy(struct tcpc_stack *stack)
{
    struct tcp_demux *d = stack->tcp->demux;
    if (!d)
        return;
    free(d->buckets);
    free(d);
    stack->tcp->demux = NULL;
}

static bool demux_is_connected(const struct tcpcb *tp)
{
    return tp->fport != 0;
}

static struct tcpcb **demux_list_of(struct tcp_demux *d, struct tcpcb *tp)
{
    if (demux_is_connected(tp))
        return &d->buckets[tp->hash_bucket];
    return tp->state == TCPS_LISTEN ? &d->listeners : &d->bound;
}

void demux_insert(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct tcp_demux *d = stack->tcp->demux;
    if (demux_is_connected(tp))
        tp->hash_bucket = demux_hash(d, &tp->faddr, tp->fport, &tp->laddr, tp->lport);
    struct tcpcb **head = demux_list_of(d, tp);
    tp->hash_next = *head;
    *head = tp;
}

void demux_remove(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct tcpcb **pp = demux_list_of(stack->tcp->demux, tp);
    for (; *pp; pp = &(*pp)->hash_next) {
        if (*pp == tp) {
            *pp = tp->hash_next;
            tp->hash_next = NULL;
            return;
        }
    }
}

/* How well listener tp matches a segment for laddr; 0: not at all. */
static int demux_listen_score(const struct tcpcb *tp, const struct tcpc_addr *laddr)
{
    if (tcpc_addr_eq(&tp->laddr, laddr))
        return 3;
    if (!tcpc_addr_is_any(&tp->laddr))
        return 0;
    bool v4 = tcpc_addr_is_v4(laddr);
    if (tp->family == TCPC_AF_INET)
        return v4 ? 2 : 0;
    /* An IPv6 wildcard listener takes IPv4 unless IPV6_V6ONLY. */
    if (v4)
        return (tp->so_options & SOF_V6ONLY) ? 0 : 1;
    return 2;
}

struct tcpcb *demux_lookup(struct tcpc_stack *stack, const struct tcpc_addr *faddr, uint16_t fport,
                           const struct tcpc_addr *laddr, uint16_t lport)
{
    struct tcp_demux *d = stack->tcp->demux;
    uint32_t b = demux_hash(d, faddr, fport, laddr, lport);
    for (struct tcpcb *tp = d->buckets[b]; tp; tp = tp->hash_next)
        if (tp->fport == fport && tp->lport == lport && tcpc_addr_eq(&tp->faddr, faddr) &&
            tcpc_addr_eq(&tp->laddr, laddr))
            return tp;
    struct tcpcb *best = NULL;
    int best_score = 0;
    for (struct tcpcb *tp = d->listeners; tp; tp = tp->hash_next) {
        if (tp->lport != lport)
            continue;
        int score = demux_listen_score(tp, laddr);
        if (score > best_score) {
            best = tp;
            best_score = score;
        }
    }
    return best;
}

/* Does tp's binding overlap laddr:lport (same port, addresses that can
 * receive the same packets)? */
static bool demux_overlaps(const struct tcpcb *tp, const struct tcpc_addr *laddr, uint16_t lport)
{
    if (tp->lport != lport || !tp->bound)
        return false;
    if (tcpc_addr_eq(&tp->laddr, laddr))
        return true;
    if (tcpc_addr_is_v4(&tp->laddr) != tcpc_addr_is_v4(laddr))
        return (tcpc_addr_is_any(&tp->laddr) && tp->family == TCPC_AF_INET6) ||
               tcpc_addr_is_any(laddr);
    return tcpc_addr_is_any(&tp->laddr) || tcpc_addr_is_any(laddr);
}

static bool demux_may_share(const struct tcpcb *old, const struct tcpcb *tp)
{
    if ((old->so_options & tp->so_options & SOF_REUSEPORT) != 0)
        return true;
    /* SO_REUSEADDR lets a socket bind over connections (not listeners). */
    return (tp->so_options & SOF_REUSEADDR) && old->state != TCPS_LISTEN;
}

static int demux_scan_conflict(struct tcpcb *list, const struct tcpcb *tp,
                               const struct tcpc_addr *laddr, uint16_t lport)
{
    for (struct tcpcb *old = list; old; old = old->hash_next)
        if (old != tp && demux_overlaps(old, laddr, lport) && !demux_may_share(old, tp))
            return -EADDRINUSE;
    return 0;
}

int demux_bind_check(struct tcpc_stack *stack, const struct tcpcb *tp,
                     const struct tcpc_addr *laddr, uint16_t lport)
{
    struct tcp_demux *d = stack->tcp->demux;
    if (demux_scan_conflict(d->listeners, tp, laddr, lport) ||
        demux_scan_conflict(d->bound, tp, laddr, lport))
        return -EADDRINUSE;
    for (uint32_t b = 0; b <= d->mask; b++)
        if (demux_scan_conflict(d->buckets[b], tp, laddr, lport))
            return -EADDRINUSE;
    return 0;
}

static bool demux_tuple_free(struct tcpc_stack *stack, const struct tcpcb *tp,
                             const struct tcpc_addr *faddr, uint16_t fport, uint16_t port)
{
    struct tcp_demux *d = stack->tcp->demux;
    if (fport == 0)
        return demux_bind_check(stack, tp, &tp->laddr, port) == 0;
    uint32_t b = demux_hash(d, faddr, fport, &tp->laddr, port);
    for (struct tcpcb *o = d->buckets[b]; o; o = o->hash_next)
        if (o->fport == fport && o->lport == port && tcpc_addr_eq(&o->faddr, faddr) &&
            tcpc_addr_eq(&o->laddr, &tp->laddr))
            return false;
    for (struct tcpcb *o = d->listeners; o; o = o->hash_next)
        if (o->lport == port)
            return false;
    return true;
}

uint16_t demux_ephemeral(struct tcpc_stack *stack, const struct tcpcb *tp,
                         const struct tcpc_addr *faddr, uint16_t fport)
{
    uint32_t first = (uint32_t)stack->cfg.tun.portrange_first;
    uint32_t count = (uint32_t)stack->cfg.tun.portrange_last - first + 1;
    uint32_t start = rand_uniform(&stack->rand, count);
    for (uint32_t i = 0; i < count; i++) {
        uint16_t port = (uint16_t)(first + (start + i) % count);
        if (demux_tuple_free(stack, tp, faddr, fport, port))
            return port;
    }
    return 0;
}
