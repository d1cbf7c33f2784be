/*
 * Per-stack randomness from a ChaCha20 keystream; see rand.h for why one
 * code path serves both seeded and system-keyed stacks.
 */
#include "core/rand.h"

#include <sodium.h>
#include <string.h>

void rand_init(struct rand_state *r, const uint8_t *seed)
{
    memset(r, 0, sizeof(*r));
    if (seed)
        memcpy(r->key, seed, sizeof(r->key));
    else
        randombytes_buf(r->key, sizeof(r->key));
    r->used = RAND_BUFLEN; /* empty: the first draw refills */
}

static void rand_refill(struct rand_state *r)
{
    uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
    uint64_t n = r->nonce++;
    for (size_t i = 0; i < sizeof(nonce); i++)
        nonce[i] = (uint8_t)(n >> (8 * i));
    crypto_stream_chacha20(r->buf, sizeof(r->buf), nonce, r->key);
    r->used = 0;
}

void rand_bytes(struct rand_state *r, void *buf, size_t buflen)
{
    uint8_t *out = buf;
    while (buflen > 0) {
        if (r->used == RAND_BUFLEN)
            rand_refill(r);
        size_t n = RAND_BUFLEN - r->used;
        if (n > buflen)
            n = buflen;
        memcpy(out, r->buf + r->used, n);
        /* Handed-out bytes are not kept around in the buffer. */
        memset(r->buf + r->used, 0, n);
        r->used = (uint8_t)(r->used + n);
        out += n;
        buflen -= n;
    }
}

uint32_t rand_u32(struct rand_state *r)
{
    uint8_t b[4];
    rand_bytes(r, b, sizeof(b));
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

uint32_t rand_uniform(struct rand_state *r, uint32_t bound)
{
    /* Lemire's rejection: draws below 2^32 mod bound would be over-represented. */
    uint32_t threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        uint64_t m = (uint64_t)rand_u32(r) * bound;
        if ((uint32_t)m >= threshold)
            return (uint32_t)(m >> 32);
    }
}
