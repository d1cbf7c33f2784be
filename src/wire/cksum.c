/*
 * The Internet checksum, kept as an unfolded 32-bit sum between pieces.
 *
 * 16-bit words are summed big-endian; the end-around carry is deferred to
 * cksum_finish. A 32-bit accumulator cannot overflow for any packet tcpcore
 * handles (65535 bytes add at most 32768 words of 0xffff), but the loop
 * folds anyway so that callers may chain arbitrarily many pieces.
 */
#include "cksum.h"

#include "bytes.h"

static uint32_t cksum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

uint32_t cksum_add(uint32_t sum, const void *buf, size_t buflen)
{
    const uint8_t *p = buf;
    size_t i;

    sum = cksum_fold(sum);
    for (i = 0; i + 1 < buflen; i += 2) {
        sum += get_be16(p + i);
        /* Keep headroom so the next add cannot wrap past 32 bits. */
        if (sum & 0x80000000u)
            sum = cksum_fold(sum);
    }
    if (i < buflen)
        sum += (uint32_t)p[i] << 8;
    return sum;
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
