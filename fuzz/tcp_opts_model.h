/*
 * How many SACK blocks the option emitter has room for, worked out apart
 * from the emitter (src/wire/tcp.c) so that the fuzzers check it against a
 * second reading of the layout rather than against itself: MSS first; the
 * window scale at an odd offset; SACK-permitted at an even one; timestamps
 * the MD5 signature (RFC 2385) and the SACK option at 2 mod 4 (FreeBSD's
 * layout, docs/conformance.md); TCP-AO (RFC 5925) at 0 mod 4 after the
 * signature, and Fast Open (RFC 7413) unaligned after that, each left out
 * when it would not fit in the 40 bytes;
 * all within 40 bytes once padded to a multiple of 4.
 */
#ifndef TCPCORE_FUZZ_TCP_OPTS_MODEL_H
#define TCPCORE_FUZZ_TCP_OPTS_MODEL_H

#include <stdbool.h>

#include "wire/tcp.h"

static inline unsigned model_align(unsigned len, unsigned mod, unsigned rem)
{
    while (len % mod != rem)
        len++;
    return len;
}

/* Option bytes before the SACK option; *ao, *fo: the TCP-AO and Fast Open
 * options are in. */
static inline unsigned model_before_sack(const struct tcp_opts *o, bool *ao, bool *fo)
{
    unsigned len = 0;
    if (o->present & TOF_MSS)
        len = 4;
    if (o->present & TOF_WSCALE)
        len = model_align(len, 2, 1) + 3;
    if (o->present & TOF_SACKPERM)
        len = model_align(len, 2, 0) + 2;
    if (o->present & TOF_TS)
        len = model_align(len, 4, 2) + 10;
    if (o->present & TOF_SIG)
        len = model_align(len, 4, 2) + 18;
    *ao = (o->present & TOF_AO) && model_align(len, 4, 0) + 4u + o->ao_maclen <= 40;
    if (*ao)
        len = model_align(len, 4, 0) + 4u + o->ao_maclen;
    *fo = (o->present & TOF_FASTOPEN) && len + 2u + o->tfo_len <= 40;
    if (*fo)
        len += 2u + o->tfo_len;
    return len;
}

/* Whether the emitter keeps o's Fast Open option. */
static inline bool model_fo_kept(const struct tcp_opts *o)
{
    bool ao, fo;
    (void)model_before_sack(o, &ao, &fo);
    return fo;
}

/* Whether the emitter keeps o's TCP-AO option. */
static inline bool model_ao_kept(const struct tcp_opts *o)
{
    bool ao, fo;
    (void)model_before_sack(o, &ao, &fo);
    return ao;
}

static inline unsigned model_nsack(const struct tcp_opts *o)
{
    bool ao, fo;
    unsigned len = model_before_sack(o, &ao, &fo);
    unsigned want = o->nsack > TCP_SACK_MAX ? TCP_SACK_MAX : o->nsack;
    if (!(o->present & TOF_SACK))
        return 0;
    unsigned at = model_align(len, 4, 2) + 2; /* past the kind and length */
    unsigned room = at < 40 ? (40 - at) / 8 : 0;
    return want < room ? want : room;
}

#endif
