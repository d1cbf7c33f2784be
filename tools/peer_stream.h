/*
 * What tcpcore-peer and the interop tests' kernel-side kpeer share: the
 * byte stream each side sends and the other verifies, and small argument
 * helpers. One copy, because the two sides must agree to the byte.
 */
#ifndef TCPCORE_TOOLS_PEER_STREAM_H
#define TCPCORE_TOOLS_PEER_STREAM_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* With --urgent, each side sends this byte as urgent (out-of-band) data
 * after its stream, and the other reads it with MSG_OOB: outside the
 * stream, which the hashes still cover to the byte. */
#define PEER_OOB_BYTE 0x21

static inline uint64_t peer_splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Bytes [off, off + len) of the stream for seed: byte k is byte k%8 of
 * splitmix64(seed + k/8), so any slice can be produced on its own. */
static inline void peer_stream_fill(uint64_t seed, uint64_t off, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint64_t n = off + i;
        buf[i] = (uint8_t)(peer_splitmix64(seed + n / 8) >> (8 * (n % 8)));
    }
}

/* Lower-case hex of d[0..n) into out (2n + 1 bytes). */
static inline void peer_hex(const uint8_t *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = 0;
}

/* The result line's oob= field: the byte read out of band, or "none". */
static inline const char *peer_oob_text(int oob, char buf[3])
{
    if (oob < 0)
        return "none";
    uint8_t b = (uint8_t)oob;
    peer_hex(&b, 1, buf);
    return buf;
}

/* A non-negative number at most max, or exit(2) naming what was wrong. */
static inline uint64_t peer_parse_num(const char *prog, const char *what, const char *text,
                                      uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno || end == text || *end || v > max || text[0] == '-') {
        fprintf(stderr, "%s: bad %s \"%s\"\n", prog, what, text);
        exit(2);
    }
    return v;
}

#endif
