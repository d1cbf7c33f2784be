/*
 * The impairment of one direction of the relay (tools/impair-relay), with
 * no I/O and no clock: packets are offered with the time they arrived, and
 * the caller asks what is due at a time it passes in. In order:
 *  - random loss: each arriving packet is lost with probability
 *    loss_ppm / 1e6, drawn from a PRNG seeded per direction, so that the
 *    n-th packet's fate is a function of the seed alone;
 *  - a bottleneck: a drop-tail queue of at most queue_bytes, drained by a
 *    token bucket of rate_bps bits per second holding at most burst_bytes;
 *  - a fixed delay of delay_ns after the bottleneck.
 * Only packet lengths are looked at, never their contents.
 *
 * Packets live in one ring of fixed slots: [head, mid) have left the
 * bottleneck and wait out their delay, [mid, tail) wait in the queue. Both
 * parts are first in, first out, so one ring holds them in order.
 */
#ifndef TCPCORE_IMPAIR_H
#define TCPCORE_IMPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMPAIR_SLOT  2048u /* bytes: a packet up to a 2,000-byte MTU */
#define IMPAIR_NEVER UINT64_MAX

struct impair_conf {
    uint64_t delay_ns;
    uint64_t rate_bps; /* 0: no rate limit (and no queue) */
    uint32_t queue_bytes;
    uint32_t burst_bytes;
    uint32_t loss_ppm; /* parts per million */
};

enum impair_verdict { IMPAIR_QUEUED, IMPAIR_LOST, IMPAIR_QUEUE_FULL, IMPAIR_TOO_BIG };

struct impair_counts {
    uint64_t packets, bytes; /* offered */
    uint64_t lost, queue_drops, too_big;
    uint64_t delivered;
    uint32_t max_queue_bytes;
};

struct impair_slot {
    uint64_t due; /* delivery time, once through the bottleneck */
    uint32_t len;
    uint8_t data[IMPAIR_SLOT];
};

struct impair_dir {
    struct impair_conf conf;
    struct impair_slot *slots;
    uint32_t nslots; /* a power of two */
    uint32_t head, mid, tail;
    uint32_t queue_bytes; /* in [mid, tail) */
    uint64_t prng[4];
    uint64_t tokens; /* bit-nanoseconds: bits x 1e9 */
    uint64_t tokens_at;
    struct impair_counts n;
};

/* Sets up d with room for nslots packets (rounded up to a power of two);
 * -ENOMEM or -EINVAL (a burst smaller than one slot with a rate set). */
int impair_init(struct impair_dir *d, const struct impair_conf *c, uint32_t nslots, uint64_t seed,
                uint64_t now);
void impair_free(struct impair_dir *d);

/* Where the next arriving packet is to be read: IMPAIR_SLOT bytes, or NULL
 * when every slot is taken (the packet is then read elsewhere and offered
 * with in_slot false, which counts it as a queue drop). */
uint8_t *impair_slot(struct impair_dir *d);

/* A packet of len bytes that arrived at time now, read into impair_slot()'s
 * buffer when in_slot: lost, dropped, or queued. */
enum impair_verdict impair_offer(struct impair_dir *d, size_t len, bool in_slot, uint64_t now);

/* The oldest packet whose delay is over at now (moving what the token
 * bucket lets through the bottleneck first), or NULL; *len its length.
 * impair_pop() releases it. */
const uint8_t *impair_due(struct impair_dir *d, uint64_t now, size_t *len);
void impair_pop(struct impair_dir *d);

/* The earliest time after which impair_due() may return something new, or
 * IMPAIR_NEVER when nothing is held. */
uint64_t impair_next(const struct impair_dir *d);

/* The PRNG (xoshiro256**), seeded through splitmix64; shared with the
 * relay so that it prints a seed it drew itself. */
void impair_prng_seed(uint64_t s[4], uint64_t seed);
uint64_t impair_prng_next(uint64_t s[4]);

#endif
