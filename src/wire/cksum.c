/*
 * The Internet checksum, carried between pieces as a 32-bit sum.
 *
 * The data is summed as 64-bit words in the machine's own byte order, with
 * the carry out of each addition added back in (end-around carry). A 64-bit
 * word is four 16-bit words weighted by powers of 2^16, and 2^16 is 1
 * modulo 0xffff, so folding the wide sum to 16 bits gives the ones'
 * complement sum of the 16-bit words; and the ones' complement sum commutes
 * with swapping the bytes of every word (RFC 1071 section 2, "byte order
 * independence"), so the native-order sum, swapped once at the end on a
 * little-endian machine, is the big-endian one. That is one load and two
 * additions per eight bytes, where big-endian 32-bit words need a byte
 * swap per four. The result is folded to 16 bits, so callers may add small
 * terms to it (cksum_pseudo does) and chain pieces freely.
 *
 * Summing while copying (one pass that loads, stores and adds each word)
 * was tried for the send path and counted more instructions than the
 * library's vector copy followed by this loop (0.55 against 0.37 per byte
 * under callgrind, bench/transfer), so data is copied by memcpy and summed
 * here. On x86-64 the 64-byte blocks are summed with a chain of
 * add-with-carry (cksum_blocks), about 0.15 instructions per byte.
 *
 * An AVX2 copy that sums 32 bytes a step (the words biased by 0x8000 for
 * vpmaddwd: load, store, xor, multiply-add, add) was tried too, on the
 * send path: about 0.2 per byte against 0.09 for memcpy plus 0.15 for this
 * sum, one instruction saved per 32 bytes, given back in the reduction,
 * the tail and the header summed apart (bench/transfer's bulk figure
 * stayed at 4.2 per byte). The wide sum alone (0.12 per byte) broke even
 * on a segment the same way. Neither was kept.
 */
#include "cksum.h"

#include <stdbool.h>
#include <string.h>

static inline uint64_t cksum_load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* a + b with the carry out added back in: an add and an add-with-carry. */
static inline uint64_t cksum_adc(uint64_t a, uint64_t b)
{
    uint64_t s;
    bool carry = __builtin_add_overflow(a, b, &s);
    return s + carry;
}

/* The last n < 8 bytes, each 16-bit-aligned chunk added as a native word
 * of its own (their 16-bit words are the data's); an odd final byte is
 * paired with a zero (RFC 1071). */
static inline uint64_t cksum_tail(const uint8_t *p, size_t n)
{
    uint64_t t = 0;
    if (n & 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        t += v;
        p += 4;
    }
    if (n & 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        t += v;
        p += 2;
    }
    if (n & 1) {
        const uint8_t last[2] = {p[0], 0};
        uint16_t v;
        memcpy(&v, last, 2);
        t += v;
    }
    return t;
}

static bool cksum_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* A native-order wide sum folded to 16 bits, in big-endian terms: the
 * halves added with their carry, then the quarters. */
static uint32_t cksum_fold_native(uint64_t acc)
{
    uint32_t s;
    s = (uint32_t)acc;
    s += (uint32_t)(acc >> 32);
    s += s < (uint32_t)(acc >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    if (cksum_little_endian())
        s = __builtin_bswap16((uint16_t)s);
    return s;
}

/*
 * The wide sum of n >= 1 blocks of 64 bytes. The carry of each addition
 * goes into the next one (add with carry), so a block costs one
 * instruction per eight bytes, half of what the loop in C below compiles
 * to (an addition and a carry added back per word; the compilers in use
 * have no portable add-with-carry chain). lea and dec leave the carry
 * flag alone, so it crosses blocks too and is added back once at the end.
 * Blocks go two at a time (a segment is 23 of them), an odd one first.
 */
#if defined(__x86_64__)
#define CKSUM_ADC64(off)                                                                           \
    "adcq " #off "(%[p]), %[acc]\n\t"                                                              \
    "adcq " #off "+8(%[p]), %[acc]\n\t"                                                            \
    "adcq " #off "+16(%[p]), %[acc]\n\t"                                                           \
    "adcq " #off "+24(%[p]), %[acc]\n\t"                                                           \
    "adcq " #off "+32(%[p]), %[acc]\n\t"                                                           \
    "adcq " #off "+40(%[p]), %[acc]\n\t"                                                           \
    "adcq " #off "+48(%[p]), %[acc]\n\t"                                                           \
    "adcq " #off "+56(%[p]), %[acc]\n\t"

static uint64_t cksum_blocks(const uint8_t *p, size_t n)
{
    uint64_t acc = 0;
    size_t pairs = n / 2;
    /* clang-format off */
    __asm__("testq $1, %[n]\n\t" /* and the carry is clear */
            "jz 1f\n\t"
            CKSUM_ADC64(0)
            "leaq 64(%[p]), %[p]\n"
            "1:\n\t"
            "jrcxz 3f\n"
            "2:\n\t"
            CKSUM_ADC64(0)
            CKSUM_ADC64(64)
            "leaq 128(%[p]), %[p]\n\t"
            "decq %[pairs]\n\t"
            "jnz 2b\n"
            "3:\n\t"
            "adcq $0, %[acc]"
            : [acc] "+r"(acc), [p] "+r"(p), [pairs] "+c"(pairs)
            : [n] "r"(n)
            : "cc", "memory");
    /* clang-format on */
    return acc;
}
#else
static uint64_t cksum_blocks(const uint8_t *p, size_t n)
{
    uint64_t acc = 0;
    for (; n; p += 64, n--)
        for (size_t k = 0; k < 64; k += 8)
            acc = cksum_adc(acc, cksum_load64(p + k));
    return acc;
}
#endif

static uint32_t cksum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint32_t)sum;
}

uint32_t cksum_add(uint32_t sum, const void *buf, size_t buflen)
{
    const uint8_t *p = buf;
    uint64_t acc = 0;

    if (buflen >= 64) {
        acc = cksum_blocks(p, buflen / 64);
        p += buflen & ~(size_t)63;
        buflen &= 63;
    }
    for (; buflen >= 8; p += 8, buflen -= 8)
        acc = cksum_adc(acc, cksum_load64(p));
    if (buflen)
        acc = cksum_adc(acc, cksum_tail(p, buflen));
    return cksum_fold((uint64_t)sum + cksum_fold_native(acc));
}

uint32_t cksum_ip4_header(const void *hdr)
{
    const uint8_t *p = hdr;
    uint32_t w[5];
    memcpy(w, p, sizeof(w));
    /* Five 32-bit words cannot carry out of 64 bits. */
    uint64_t acc = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
    return cksum_fold_native(acc);
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
        /* The two addresses as native 32-bit words, folded and swapped
         * once like any wide sum: every segment in and out pays this. */
        uint32_t s, d;
        memcpy(&s, src->bytes + 12, 4);
        memcpy(&d, dst->bytes + 12, 4);
        sum = cksum_fold_native((uint64_t)s + d);
        return sum + proto + (seglen & 0xffff);
    }
    sum = cksum_add(sum, src->bytes, 16);
    sum = cksum_add(sum, dst->bytes, 16);
    return sum + (seglen >> 16) + (seglen & 0xffff) + proto;
}
