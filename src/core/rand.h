/*
 * Per-stack randomness: a ChaCha20 keystream (libsodium) keyed either from
 * the system's random source or from the configuration's seed.
 *
 * Both origins share one code path, so a seeded test exercises exactly what
 * production runs; only where the key comes from differs. Draws are buffered
 * a block at a time so that the per-connection cost is a copy, not a cipher
 * call.
 */
#ifndef TCPCORE_CORE_RAND_H
#define TCPCORE_CORE_RAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAND_BUFLEN 64

struct rand_state {
    uint8_t key[32];
    uint64_t nonce; /* one keystream block per refill */
    uint8_t buf[RAND_BUFLEN];
    uint8_t used; /* bytes of buf already handed out */
};

/* Keys the generator from seed (32 bytes) or, when seed is NULL, from the
 * system's random source. */
void rand_init(struct rand_state *r, const uint8_t *seed);

/* Fills buf with buflen random bytes. */
void rand_bytes(struct rand_state *r, void *buf, size_t buflen);

uint32_t rand_u32(struct rand_state *r);

/* Uniform in [0, bound) without modulo bias; bound > 0. */
uint32_t rand_uniform(struct rand_state *r, uint32_t bound);

#endif
