/*
 * SYN cookies; see syncookie.h.
 *
 * Why cookies
 * -----------
 * A SYN costs its sender one packet and, if the listener remembers it, costs
 * the listener an entry until the handshake completes or times out. A flood
 * of SYNs from forged addresses never completes, so remembered SYNs pile up
 * until the memory set aside for them is gone and real clients are turned
 * away. A cookie moves that memory into the network: everything the listener
 * would have remembered is encoded in the SYN-ACK, signed with a secret only
 * the listener knows, and read back from the ACK that completes the
 * handshake. Nobody who did not receive the SYN-ACK can produce that ACK, so
 * a forged source gets nothing, and answering a flood costs one hash and one
 * packet per SYN and no memory at all.
 *
 * What must survive the round trip
 * --------------------------------
 * From the peer's SYN: its ISN (the ACK returns it, as SEQ - 1), its MSS,
 * whether it offered window scaling and with which shift, SACK-permitted,
 * and whether it uses timestamps. From us: our ISS (the cookie itself) and
 * the window-scale shift we offered. Everything is bound to the 4-tuple and
 * to the peer's ISN, so a cookie is worth nothing for any other connection.
 *
 * The sequence number we send (always present)
 * ---------------------------------------------
 *
 *     31                                    8  7   5  4   2   1   0
 *    +---------------------------------------+------+------+---+---+
 *    |           digest, first 24 bits       | MSS  |  WS  | S | G |
 *    +---------------------------------------+------+------+---+---+
 *
 *     G    parity of the secret's period: which of the two secrets signed it
 *     S    the peer offered SACK-permitted (and we accept SACK)
 *     WS   index into syncookie_wstab: no window scaling, or the peer's
 *          shift rounded down to one of 0, 2, 4, 6, 7, 8, 9
 *     MSS  index into syncookie_msstab, the peer's MSS rounded down
 *
 * Rounding down is the safe direction for both: a smaller MSS only costs
 * efficiency, and a smaller send shift makes us believe the peer's window is
 * smaller than it is, never larger. The tables are chosen for the paths
 * that carry traffic today: 1460 (Ethernet), 1452 and 1440 (PPPoE, the
 * common tunnels and IPv6 over Ethernet), 1360 (VPNs and IPsec), 1220 (the
 * IPv6 minimum MTU), 536 (the RFC 9293 default), 216 (FreeBSD's minmss, the
 * floor for anything smaller), and 8940 for jumbo-frame data centres; shifts
 * 6 to 9 are what current Linux, Windows, macOS and FreeBSD offer. So a peer
 * without timestamps loses nothing but MSS precision (and, for the rare
 * shifts 1, 3, 5 and above 9, some window).
 *
 * The timestamp we send (when the peer's SYN carried one)
 * -------------------------------------------------------
 *
 *     31                                9   8   7      4 3      0
 *    +-----------------------------------+---+----------+--------+
 *    |        digest, next 23 bits       | E | our WS   |peer WS |
 *    +-----------------------------------+---+----------+--------+
 *
 *     peer WS  the peer's exact shift, 0..14, or 15 for "not offered"
 *     our WS   the exact shift we offered
 *     E        ECN negotiated (RFC 3168). The sequence number has no bit to
 *              spare, so a peer without timestamps gets no ECN from a
 *              SYN-ACK that only a cookie remembers (syncache.c)
 *
 * The peer echoes this TSval in the ACK's TSecr, which returns what did not
 * fit the sequence number. The value is not a clock; the connection built
 * from the cookie sets its timestamp offset so that its clock continues from
 * it, so the peer sees timestamps that never go backwards (RFC 7323 PAWS).
 *
 * The digest
 * ----------
 * One SipHash-2-4 (a keyed PRF, far cheaper than a MAC over a block cipher
 * and designed for short inputs) under the current secret, over: our and the
 * peer's addresses and ports, the peer's ISN, the low byte of the sequence
 * number above (MSS, WS, S, G), the nine data bits of the timestamp, a bit
 * saying whether timestamps are in use, a bit saying whether the handshake
 * is MD5-signed (RFC 2385), and the secret's period number. Its
 * 64-bit output gives the 24 bits in the sequence number and the 23 in the
 * timestamp. So every bit either field carries is authenticated: flipping
 * any bit of either, adding a timestamp the SYN did not have, or dropping
 * one it had, breaks the digest. The signature bit costs no room in either
 * field: the listener knows from the ACK whether it is signed (and has
 * checked the signature before the cookie), so the bit only has to be
 * bound, not carried. A cookie answered to a signed SYN therefore never
 * completes from an unsigned ACK, nor one for an unsigned SYN from a signed
 * ACK, even if the listener's keys change in between (FreeBSD carries the
 * same requirement in its cookie's flags). A blind forger has one chance in 2^24 per
 * ACK without timestamps and one in 2^47 with them, and must in addition
 * guess a peer ISN that matches (the ACK's SEQ must be the SYN's ISN + 1).
 *
 * Secrets and expiry
 * ------------------
 * Time is cut into periods of SYNCOOKIE_PERIOD (15 s). Period n is signed
 * with secret n mod 2; when period n starts, secret n mod 2 is drawn afresh
 * from the stack's CSPRNG, which retires the one from period n - 2. A cookie
 * is therefore accepted during its own period and the next (15 to 30 s, long
 * enough for a SYN-ACK retransmitted three times), and rejected after two
 * rotations. Rotation happens lazily on the stack's clock when a cookie is
 * made or checked, so an idle stack does no work; a clock that jumps ahead
 * two periods or more renews both secrets at once.
 *
 * Known limits, shared with every ISN-based cookie: a cookie ACK replayed
 * while its connection exists reaches the connection, not the listener; one
 * replayed after the connection is gone but within the cookie's lifetime
 * would open a new one. The SYN cache narrows that window by honouring
 * cookies only while it has recently overflowed (syncache.c).
 */
#include "tcp/syncookie.h"

#include "core/group.h"

#include <errno.h>
#include <string.h>

const uint16_t syncookie_msstab[SYNCOOKIE_MSS_COUNT] = {216,  536,  1220, 1360,
                                                        1440, 1452, 1460, 8940};

/* Index 0 means "no window scaling". */
const uint8_t syncookie_wstab[SYNCOOKIE_WSCALE_COUNT] = {SYNCOOKIE_NO_WSCALE, 0, 2, 4, 6, 7, 8, 9};

#define ISN_G_SHIFT     0
#define ISN_S_SHIFT     1
#define ISN_WS_SHIFT    2
#define ISN_MSS_SHIFT   5
#define ISN_DATA_MASK   0xffu
#define ISN_DIGEST_BITS 24

#define TS_PEER_SHIFT  0
#define TS_OURS_SHIFT  4
#define TS_ECN_SHIFT   8
#define TS_DATA_BITS   9
#define TS_DATA_MASK   ((1u << TS_DATA_BITS) - 1)
#define TS_DIGEST_MASK ((1u << (32 - TS_DATA_BITS)) - 1)
#define TS_NO_WSCALE   15u

/* The secret of a period: drawn afresh alone, derived from the group's
 * master key in a group, so that every member holds the same one without
 * telling the others (docs/groups.md). */
static void syncookie_key(const struct syncookie_state *st, struct rand_state *r, uint64_t period,
                          struct hash_key *key)
{
    if (st->group)
        group_secret(st->group, GROUP_SECRET_COOKIE, period, key->k, sizeof(key->k));
    else
        rand_bytes(r, key->k, sizeof(key->k));
}

static void syncookie_draw(struct syncookie_state *st, struct rand_state *r, uint64_t period)
{
    unsigned p = (unsigned)(period & 1);
    syncookie_key(st, r, period, &st->key[p]);
    st->period[p] = period;
}

void syncookie_init(struct syncookie_state *st, struct rand_state *r, tcpc_time_t now)
{
    st->group = NULL;
    uint64_t n = now / SYNCOOKIE_PERIOD;
    syncookie_draw(st, r, n - 1); /* never used to sign: a fresh, unknown key */
    syncookie_draw(st, r, n);
    st->current = n;
}

void syncookie_use_group(struct syncookie_state *st, const struct tcpc_group *g, tcpc_time_t now)
{
    st->group = g;
    uint64_t n = now / SYNCOOKIE_PERIOD;
    /* In a group the period before is a real one: another member may have
     * signed with it. */
    syncookie_draw(st, NULL, n - 1);
    syncookie_draw(st, NULL, n);
    st->current = n;
}

static void syncookie_rotate(struct syncookie_state *st, struct rand_state *r, tcpc_time_t now)
{
    uint64_t n = now / SYNCOOKIE_PERIOD;
    if (n <= st->current)
        return;
    if (n - st->current >= 2)
        syncookie_draw(st, r, n - 1);
    syncookie_draw(st, r, n);
    st->current = n;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint64_t syncookie_digest(const struct hash_key *key, uint64_t period,
                                 const struct syncookie_tuple *t, uint32_t irs, uint32_t isn_data,
                                 uint32_t ts_data, bool has_ts)
{
    uint8_t in[2 * 16 + 4 + 4 + 4 + 8];
    size_t n = 0;
    if (tcpc_addr_is_v4(t->laddr) && tcpc_addr_is_v4(t->faddr)) {
        memcpy(in, t->laddr->bytes + 12, 4);
        memcpy(in + 4, t->faddr->bytes + 12, 4);
        n = 8;
    } else {
        memcpy(in, t->laddr->bytes, 16);
        memcpy(in + 16, t->faddr->bytes, 16);
        n = 32;
    }
    put32(in + n, (uint32_t)t->lport << 16 | t->fport);
    put32(in + n + 4, irs);
    put32(in + n + 8, isn_data | ts_data << 8 | (uint32_t)t->sig << 30 | (uint32_t)has_ts << 31);
    put32(in + n + 12, (uint32_t)(period >> 32));
    put32(in + n + 16, (uint32_t)period);
    n += 20;
    return hash_siphash(key, in, n);
}

static unsigned syncookie_mss_index(uint16_t mss)
{
    if (mss == 0)
        mss = 536; /* RFC 9293 3.7.1: the default when the option is absent */
    unsigned i = SYNCOOKIE_MSS_COUNT - 1;
    while (i > 0 && syncookie_msstab[i] > mss)
        i--;
    return i;
}

static unsigned syncookie_ws_index(uint8_t ws)
{
    if (ws == SYNCOOKIE_NO_WSCALE)
        return 0;
    unsigned i = SYNCOOKIE_WSCALE_COUNT - 1;
    while (i > 1 && syncookie_wstab[i] > ws)
        i--;
    return i;
}

void syncookie_generate(struct syncookie_state *st, struct rand_state *r, tcpc_time_t now,
                        const struct syncookie_tuple *t, uint32_t irs,
                        const struct syncookie_params *p, uint32_t *iss, uint32_t *tsval)
{
    syncookie_rotate(st, r, now);
    unsigned parity = (unsigned)(st->current & 1);
    uint32_t isn_data = parity << ISN_G_SHIFT | (uint32_t)p->sack << ISN_S_SHIFT |
                        syncookie_ws_index(p->peer_wscale) << ISN_WS_SHIFT |
                        syncookie_mss_index(p->mss) << ISN_MSS_SHIFT;
    uint32_t ts_data = 0;
    if (p->ts) {
        uint32_t peer = p->peer_wscale == SYNCOOKIE_NO_WSCALE ? TS_NO_WSCALE : p->peer_wscale;
        ts_data = peer << TS_PEER_SHIFT | (uint32_t)(p->our_wscale & 0xf) << TS_OURS_SHIFT |
                  (uint32_t)p->ecn << TS_ECN_SHIFT;
    }
    uint64_t d =
        syncookie_digest(&st->key[parity], st->period[parity], t, irs, isn_data, ts_data, p->ts);
    *iss = (uint32_t)(d & ((1u << ISN_DIGEST_BITS) - 1)) << 8 | isn_data;
    if (tsval)
        *tsval = p->ts
                     ? ((uint32_t)(d >> ISN_DIGEST_BITS) & TS_DIGEST_MASK) << TS_DATA_BITS | ts_data
                     : 0;
}

/* Whether iss (and tsecr) carry the digest under key for period. */
static bool syncookie_matches(const struct hash_key *key, uint64_t period,
                              const struct syncookie_tuple *t, uint32_t irs, uint32_t iss,
                              bool has_ts, uint32_t tsecr)
{
    uint32_t isn_data = iss & ISN_DATA_MASK;
    uint32_t ts_data = has_ts ? (tsecr & TS_DATA_MASK) : 0;
    uint64_t d = syncookie_digest(key, period, t, irs, isn_data, ts_data, has_ts);
    /* Compare every authenticated bit at once; no early exit. */
    uint32_t diff = (iss >> 8) ^ (uint32_t)(d & ((1u << ISN_DIGEST_BITS) - 1));
    if (has_ts)
        diff |= (tsecr >> TS_DATA_BITS) ^ ((uint32_t)(d >> ISN_DIGEST_BITS) & TS_DIGEST_MASK);
    return diff == 0;
}

int syncookie_check(struct syncookie_state *st, struct rand_state *r, tcpc_time_t now,
                    const struct syncookie_tuple *t, uint32_t irs, uint32_t iss, bool has_ts,
                    uint32_t tsecr, struct syncookie_params *out)
{
    syncookie_rotate(st, r, now);
    unsigned parity = iss & 1;
    uint64_t kp = st->period[parity];
    /* Only the current period and the one before are honoured; after two
     * rotations the key that signed a cookie is gone. */
    if (kp != st->current && kp + 1 != st->current)
        return -ESTALE;
    uint32_t isn_data = iss & ISN_DATA_MASK;
    uint32_t ts_data = has_ts ? (tsecr & TS_DATA_MASK) : 0;
    bool ok = syncookie_matches(&st->key[parity], kp, t, irs, iss, has_ts, tsecr);
    /* A member of a group whose clock is a little behind another's may see
     * a cookie of the period it has not reached: same parity as the one
     * before its current, so it is tried only when that one fails. */
    if (!ok && st->group && kp + 1 == st->current) {
        struct hash_key ahead;
        syncookie_key(st, r, st->current + 1, &ahead);
        ok = syncookie_matches(&ahead, st->current + 1, t, irs, iss, has_ts, tsecr);
    }
    if (!ok)
        return -EBADMSG;
    memset(out, 0, sizeof(*out));
    out->mss = syncookie_msstab[(isn_data >> ISN_MSS_SHIFT) & 7];
    out->sack = (isn_data >> ISN_S_SHIFT) & 1;
    out->ts = has_ts;
    if (has_ts) {
        uint32_t peer = (ts_data >> TS_PEER_SHIFT) & 0xf;
        out->peer_wscale = peer == TS_NO_WSCALE ? SYNCOOKIE_NO_WSCALE : (uint8_t)peer;
        out->our_wscale = (uint8_t)((ts_data >> TS_OURS_SHIFT) & 0xf);
        out->ecn = (ts_data >> TS_ECN_SHIFT) & 1;
    } else {
        out->peer_wscale = syncookie_wstab[(isn_data >> ISN_WS_SHIFT) & 7];
        out->our_wscale = SYNCOOKIE_NO_WSCALE; /* not carried: the caller's current choice */
    }
    return 0;
}
