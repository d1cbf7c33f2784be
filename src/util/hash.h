/*
 * Keyed hashing for the stack's tables.
 *
 * Connection, SYN-cache and TIME_WAIT tables are indexed by fields a remote
 * peer chooses (addresses, ports). An unkeyed hash would let a peer aim all
 * its entries at one bucket; SipHash-2-4 under a per-stack secret key makes
 * bucket choice unpredictable to it (the hash-flooding defence SipHash was
 * designed for). The implementation is libsodium's.
 *
 * The key is the embedder's to generate (from a CSPRNG) and hand in: the
 * core does no I/O, which includes reading entropy.
 */
#ifndef TCPCORE_UTIL_HASH_H
#define TCPCORE_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_KEY_BYTES 16

struct hash_key {
    uint8_t k[HASH_KEY_BYTES];
};

/*
 * SipHash-2-4 of len bytes at data under key k, as the 64-bit integer the
 * SipHash paper defines (its little-endian output bytes read as a number).
 * data may be NULL when len is 0. Pure, allocation-free, constant-time in
 * the key.
 */
uint64_t hash_siphash(const struct hash_key *k, const void *data, size_t len);

#endif
