/*
 * The table hash of a 4-tuple: SipHash-2-4 under the instance's key,
 * inlined and specialised for the two key shapes.
 *
 * Why SipHash: the 4-tuple is chosen by the remote peer; with an unkeyed
 * (or weakly keyed) hash a peer aims its connections at one bucket. Why not
 * util/hash's hash_siphash: that is a call into libsodium's generic code, a
 * loop over any length; the lookup path hashes every packet, and here the
 * length is one of two constants, so the compiler unrolls the whole function
 * into straight-line code. tests/test_pcb.c checks both shapes against
 * hash_siphash bit for bit, so this is SipHash-2-4 and not a lookalike.
 *
 * Shapes: when both addresses are IPv4 the message is the 12 bytes
 * faddr(4) laddr(4) fport(2) lport(2) (two SipHash blocks); otherwise the
 * 36 bytes of struct pcb_tuple (five blocks). The length is part of
 * SipHash's last block, so the two shapes cannot be confused. Per-packet
 * cost is measured by bench/pcb_lookup and recorded in docs/pcb.md.
 */
#ifndef TCPCORE_PCB_PCB_HASH_H
#define TCPCORE_PCB_PCB_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pcb/pcb.h"

static inline uint64_t pcb_rotl(uint64_t x, unsigned b)
{
    return x << b | x >> (64 - b);
}

#define PCB_SIPROUND(v0, v1, v2, v3)                                                               \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = pcb_rotl(v1, 13);                                                                     \
        v1 ^= v0;                                                                                  \
        v0 = pcb_rotl(v0, 32);                                                                     \
        v2 += v3;                                                                                  \
        v3 = pcb_rotl(v3, 16);                                                                     \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = pcb_rotl(v3, 21);                                                                     \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = pcb_rotl(v1, 17);                                                                     \
        v1 ^= v2;                                                                                  \
        v2 = pcb_rotl(v2, 32);                                                                     \
    } while (0)

/* Little-endian load, as SipHash defines its message words. */
static inline uint64_t pcb_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* SipHash-2-4 of len bytes at m under key k. Meant to be inlined with a
 * constant len. */
static inline uint64_t pcb_siphash(const uint64_t k[2], const uint8_t *m, size_t len)
{
    uint64_t v0 = k[0] ^ 0x736f6d6570736575ull, v1 = k[1] ^ 0x646f72616e646f6dull;
    uint64_t v2 = k[0] ^ 0x6c7967656e657261ull, v3 = k[1] ^ 0x7465646279746573ull;
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t w = pcb_le64(m + i);
        v3 ^= w;
        PCB_SIPROUND(v0, v1, v2, v3);
        PCB_SIPROUND(v0, v1, v2, v3);
        v0 ^= w;
    }
    uint64_t last = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++)
        last |= (uint64_t)m[full + i] << (8 * i);
    v3 ^= last;
    PCB_SIPROUND(v0, v1, v2, v3);
    PCB_SIPROUND(v0, v1, v2, v3);
    v0 ^= last;
    v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        PCB_SIPROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

/* The 12-byte message of an all-IPv4 tuple; also used by the tests. */
static inline void pcb_hash_v4msg(const struct pcb_tuple *t, uint8_t msg[12])
{
    memcpy(msg, t->faddr.bytes + 12, 4);
    memcpy(msg + 4, t->laddr.bytes + 12, 4);
    msg[8] = (uint8_t)(t->fport >> 8);
    msg[9] = (uint8_t)t->fport;
    msg[10] = (uint8_t)(t->lport >> 8);
    msg[11] = (uint8_t)t->lport;
}

/* The keyed SipHash-2-4 of a tuple in its shape. */
static inline uint64_t pcb_hash_sip(const uint64_t key[2], const struct pcb_tuple *t)
{
    if (tcpc_addr_is_v4(&t->faddr) && tcpc_addr_is_v4(&t->laddr)) {
        uint8_t msg[12];
        pcb_hash_v4msg(t, msg);
        return pcb_siphash(key, msg, sizeof(msg));
    }
    return pcb_siphash(key, (const uint8_t *)t, sizeof(*t));
}

/* The table hash: SipHash unless a flow hash function is installed. */
static inline uint64_t pcb_hash_inline(const struct pcbinfo *info, const struct pcb_tuple *t)
{
    if (info->flow_hash)
        return pcb_hash_rss(info->flow_hash(info->flow_hash_ctx, t));
    return pcb_hash_sip(info->hash_key, t);
}

#endif
