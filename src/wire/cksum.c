/*
 * The Internet checksum, carried between pieces as a 32-bit sum.
 *
 * The data is summed eight bytes at a time as big-endian 32-bit words into
 * a 64-bit accumulator. A 32-bit word is two 16-bit words, its high one
 * weighted by 2^16, which is 1 modulo 0xffff: folding the wide sum with
 * end-around carries gives exactly the ones' complement sum of the 16-bit
 * words (RFC 1071 section 2, "parallel summation"), with a quarter of the
 * loop's iterations and no carry check inside it (the accumulator cannot
 * wrap below 2^32 words). The result is folded to 16 bits, so callers may
 * add small terms to it (cksum_pseudo does) and chain pieces freely.
 */
#include "cksum.h"

#include "bytes.h"

static uint32_t cksum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint32_t)sum;
}

uint32_t cksum_add(uint32_t sum, const void *buf, size_t buflen)
{
    const uint8_t *p = buf;
    uint64_t acc = sum;
    size_t i = 0;

    for (; i + 8 <= buflen; i += 8)
        acc += (uint64_t)get_be32(p + i) + get_be32(p + i + 4);
    if (i + 4 <= buflen) {
        acc += get_be32(p + i);
        i += 4;
    }
    if (i + 2 <= buflen) {
        acc += get_be16(p + i);
        i += 2;
    }
    if (i < buflen)
        acc += (uint32_t)p[i] << 8;
    return cksum_fold(acc);
}

uint16_t cksum_finish(uint32_t sum)
{
    return (uint16_t)~cksum_fold(sum);
}

uint32_t cksum_pseudo(const struct tcpc_addr *src, const struct tcpc_addr *dst, uint8_t proto,
                      uint32_t seglen)
{
    uint32_t sum = 0;

    if (tcpc_addr_is_v4(src) && tcpc_addr_is_v4(dst)) {
        sum = cksum_add(sum, src->bytes + 12, 4);
        sum = cksum_add(sum, dst->bytes + 12, 4);
        return sum + proto + (seglen & 0xffff);
    }
    sum = cksum_add(sum, src->bytes, 16);
    sum = cksum_add(sum, dst->bytes, 16);
    return sum + (seglen >> 16) + (seglen & 0xffff) + proto;
}
