/*
 * SipHash-2-4 through libsodium (see hash.h for why keyed hashing).
 *
 * crypto_shorthash_siphash24 is called by name rather than the generic
 * crypto_shorthash, whose primitive libsodium may change between versions:
 * table layouts and the test vectors depend on it being exactly SipHash-2-4.
 * Neither needs sodium_init(): SipHash has no CPU-dispatched variants.
 */
#include "util/hash.h"

#include <sodium.h>

_Static_assert(HASH_KEY_BYTES == crypto_shorthash_siphash24_KEYBYTES, "SipHash key size");
_Static_assert(crypto_shorthash_siphash24_BYTES == sizeof(uint64_t), "SipHash-2-4 output size");

uint64_t hash_siphash(const struct hash_key *k, const void *data, size_t len)
{
    /* libsodium would form NULL + 0; give it a real (empty) buffer. */
    static const unsigned char empty[1];
    unsigned char out[crypto_shorthash_siphash24_BYTES];
    crypto_shorthash_siphash24(out, len ? data : empty, (unsigned long long)len, k->k);
    uint64_t h = 0;
    for (size_t i = sizeof(out); i-- > 0;)
        h = h << 8 | out[i];
    return h;
}
