/*
 * Sequence-number and timestamp arithmetic (RFC 9293 section 3.4, RFC 7323
 * section 5.2).
 *
 * TCP sequence numbers and TSval/TSecr timestamps live in a 32-bit circular
 * space, so "a is before b" cannot be a plain `<`: it means that going
 * forward from a reaches b in fewer than 2^31 steps. That is exactly the
 * sign of the 32-bit two's-complement difference (int32_t)(a - b). The
 * difference is taken in uint32_t (wrapping is defined there) and only then
 * converted; the conversion of values >= 2^31 is implementation-defined in
 * C17 but is the modular one on every compiler we support (gcc, clang).
 *
 * Two values exactly 2^31 apart are ambiguous: both seq_lt(a, b) and
 * seq_lt(b, a) hold. Callers keep windows below 2^30 (RFC 7323 section 2.3)
 * so that case never arises for sequence numbers in a valid window.
 *
 * The SEQ_* and TSTMP_* macros keep the FreeBSD spellings so code ported
 * from or compared against netinet/tcp_seq.h reads the same.
 */
#ifndef TCPCORE_UTIL_SEQ_H
#define TCPCORE_UTIL_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/* The signed distance from b forward to a, in the circular space. */
static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

static inline bool seq_lt(uint32_t a, uint32_t b)
{
    return seq_diff(a, b) < 0;
}

static inline bool seq_leq(uint32_t a, uint32_t b)
{
    return seq_diff(a, b) <= 0;
}

static inline bool seq_gt(uint32_t a, uint32_t b)
{
    return seq_diff(a, b) > 0;
}

static inline bool seq_geq(uint32_t a, uint32_t b)
{
    return seq_diff(a, b) >= 0;
}

/* The later / earlier of two sequence numbers (by the circular order). */
static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
    return seq_lt(a, b) ? b : a;
}

static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
    return seq_lt(a, b) ? a : b;
}

/* Whether x lies in the len sequence numbers starting at lo: lo <= x <
 * lo + len in the circular order (len below 2^31). */
static inline bool seq_in_range(uint32_t x, uint32_t lo, uint32_t len)
{
    return x - lo < len;
}

/* RFC 7323 section 5.2: timestamps compare with the same modular rule. They
 * get their own names because their clocks and window (24 days of PAWS
 * validity) differ from sequence numbers, and call sites should say which. */
static inline bool tstmp_lt(uint32_t a, uint32_t b)
{
    return seq_lt(a, b);
}

static inline bool tstmp_gt(uint32_t a, uint32_t b)
{
    return seq_gt(a, b);
}

static inline bool tstmp_geq(uint32_t a, uint32_t b)
{
    return seq_geq(a, b);
}

#define SEQ_LT(a, b)    seq_lt((a), (b))
#define SEQ_LEQ(a, b)   seq_leq((a), (b))
#define SEQ_GT(a, b)    seq_gt((a), (b))
#define SEQ_GEQ(a, b)   seq_geq((a), (b))
#define SEQ_MAX(a, b)   seq_max((a), (b))
#define SEQ_MIN(a, b)   seq_min((a), (b))
#define TSTMP_LT(a, b)  tstmp_lt((a), (b))
#define TSTMP_GT(a, b)  tstmp_gt((a), (b))
#define TSTMP_GEQ(a, b) tstmp_geq((a), (b))

#endif
