/*
 * One direction of the impairment relay: loss, a token-bucket bottleneck
 * with a drop-tail queue, and a delay (impair.h). The bottleneck keeps
 * exact virtual times: a packet leaves it at the instant its tokens are
 * there, however late the caller comes to ask, so the rate holds whatever
 * the caller's timer resolution and the delay stays the configured one.
 */
#include "impair.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_SEC 1000000000ull

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void impair_prng_seed(uint64_t s[4], uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t impair_prng_next(uint64_t s[4])
{
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

int impair_init(struct impair_dir *d, const struct impair_conf *c, uint32_t nslots, uint64_t seed,
                uint64_t now)
{
    memset(d, 0, sizeof(*d));
    /* The bounds keep the bucket's bit-nanoseconds within 64 bits. */
    if (nslots < 2 || nslots > (1u << 20) || c->loss_ppm > 1000000 ||
        c->rate_bps > 1000000000000ull || c->burst_bytes > (1u << 30) ||
        (c->rate_bps && c->burst_bytes == 0))
        return -EINVAL;
    uint32_t n = 2;
    while (n < nslots)
        n <<= 1;
    d->slots = calloc(n, sizeof(*d->slots));
    if (d->slots == NULL)
        return -ENOMEM;
    d->conf = *c;
    d->nslots = n;
    impair_prng_seed(d->prng, seed);
    d->tokens = (uint64_t)c->burst_bytes * 8 * NS_PER_SEC; /* starts full */
    d->tokens_at = now;
    return 0;
}

void impair_free(struct impair_dir *d)
{
    free(d->slots);
    d->slots = NULL;
}

static struct impair_slot *slot_at(const struct impair_dir *d, uint32_t i)
{
    return &d->slots[i & (d->nslots - 1)];
}

uint8_t *impair_slot(struct impair_dir *d)
{
    return d->tail - d->head == d->nslots ? NULL : slot_at(d, d->tail)->data;
}

/* The tokens at time t >= tokens_at, at most a full bucket. */
static uint64_t tokens_at(const struct impair_dir *d, uint64_t t)
{
    uint64_t full = (uint64_t)d->conf.burst_bytes * 8 * NS_PER_SEC;
    uint64_t gap = t - d->tokens_at;
    uint64_t to_fill = (full - d->tokens + d->conf.rate_bps - 1) / d->conf.rate_bps;
    return gap >= to_fill ? full : d->tokens + d->conf.rate_bps * gap;
}

/* When the queue's first packet leaves the bottleneck, and the tokens left
 * then (*left). Its slot's due holds its arrival time while it queues. */
static uint64_t departure(const struct impair_dir *d, uint64_t *left)
{
    const struct impair_slot *s = slot_at(d, d->mid);
    if (d->conf.rate_bps == 0) {
        *left = 0;
        return s->due;
    }
    uint64_t t = s->due > d->tokens_at ? s->due : d->tokens_at;
    uint64_t have = tokens_at(d, t), cost = (uint64_t)s->len * 8 * NS_PER_SEC;
    if (have < cost) {
        t += (cost - have + d->conf.rate_bps - 1) / d->conf.rate_bps;
        have = cost;
    }
    *left = have - cost;
    return t;
}

/* Moves every packet whose departure is at or before now into the delay. */
static void drain(struct impair_dir *d, uint64_t now)
{
    while (d->mid != d->tail) {
        uint64_t left, t = departure(d, &left);
        if (t > now)
            return;
        struct impair_slot *s = slot_at(d, d->mid);
        if (d->conf.rate_bps) {
            d->tokens = left;
            d->tokens_at = t;
        }
        d->queue_bytes -= s->len;
        s->due = t + d->conf.delay_ns;
        d->mid++;
    }
}

enum impair_verdict impair_offer(struct impair_dir *d, size_t len, bool in_slot, uint64_t now)
{
    /* Drawn for every packet, so the n-th packet's fate depends on the
     * seed only, not on what happened to the others. */
    uint64_t r = impair_prng_next(d->prng);
    bool lose = ((r >> 32) * 1000000u >> 32) < d->conf.loss_ppm;
    d->n.packets++;
    d->n.bytes += len;
    drain(d, now);
    if (len > IMPAIR_SLOT || (d->conf.rate_bps && len > d->conf.burst_bytes)) {
        d->n.too_big++;
        return IMPAIR_TOO_BIG;
    }
    if (lose) {
        d->n.lost++;
        return IMPAIR_LOST;
    }
    if (!in_slot || (d->conf.rate_bps && d->queue_bytes + len > d->conf.queue_bytes)) {
        d->n.queue_drops++;
        return IMPAIR_QUEUE_FULL;
    }
    struct impair_slot *s = slot_at(d, d->tail++);
    s->len = (uint32_t)len;
    s->due = now; /* its arrival, until it leaves the bottleneck */
    d->queue_bytes += (uint32_t)len;
    if (d->queue_bytes > d->n.max_queue_bytes)
        d->n.max_queue_bytes = d->queue_bytes;
    return IMPAIR_QUEUED;
}

const uint8_t *impair_due(struct impair_dir *d, uint64_t now, size_t *len)
{
    drain(d, now);
    if (d->head == d->mid || slot_at(d, d->head)->due > now)
        return NULL;
    const struct impair_slot *s = slot_at(d, d->head);
    *len = s->len;
    return s->data;
}

void impair_pop(struct impair_dir *d)
{
    d->head++;
    d->n.delivered++;
}

uint64_t impair_next(const struct impair_dir *d)
{
    if (d->head != d->mid)
        return slot_at(d, d->head)->due;
    if (d->mid == d->tail)
        return IMPAIR_NEVER;
    uint64_t left;
    return departure(d, &left) + d->conf.delay_ns;
}
