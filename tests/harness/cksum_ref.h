/*
 * The Internet checksum by its definition (RFC 1071): 16-bit big-endian
 * words one by one, every carry folded back in at once, an odd last byte
 * paired with a zero. The wide and copying sums of src/wire/cksum.c are
 * checked against it (tests/test_wire_ip.c, tests/test_sockbuf_cksum.c,
 * fuzz/fuzz_cksum.c); it is slow on purpose, too plain to be wrong.
 */
#ifndef TCPCORE_TESTS_CKSUM_REF_H
#define TCPCORE_TESTS_CKSUM_REF_H

#include <stddef.h>
#include <stdint.h>

/* The finished checksum (complemented) of p[0..len) after a running sum
 * start. */
static inline uint16_t cksum_reference(uint32_t start, const uint8_t *p, size_t len)
{
    uint32_t sum = start;
    for (size_t i = 0; i < len; i += 2) {
        sum = (sum & 0xffff) + (sum >> 16);
        sum += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
    }
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

#endif
