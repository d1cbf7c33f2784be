/*
 * SYN cookies: the whole of a half-open connection folded into the
 * SYN-ACK's sequence number (and, when the peer uses them, its timestamp),
 * so that a listener can answer a SYN without remembering anything.
 *
 * The design, the bit layout and the reasons for both are in the essay at
 * the top of syncookie.c. This module only encodes and checks; when cookies
 * are sent and honoured is the SYN cache's decision (syncache.c).
 */
#ifndef TCPCORE_TCP_SYNCOOKIE_H
#define TCPCORE_TCP_SYNCOOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/rand.h"
#include "tcpcore/addr.h"
#include "util/hash.h"

struct tcpc_group;

/* Secrets rotate every SYNCOOKIE_PERIOD; a cookie stays valid for the rest
 * of its own period and the whole of the next, so 15 to 30 seconds. */
#define SYNCOOKIE_PERIOD   (15 * TCPC_USEC_PER_SEC)
#define SYNCOOKIE_LIFETIME (2 * SYNCOOKIE_PERIOD)

/* Window scale "not offered" in syncookie_params. */
#define SYNCOOKIE_NO_WSCALE 0xff

#define SYNCOOKIE_MSS_COUNT    8
#define SYNCOOKIE_WSCALE_COUNT 8

/* The two secrets and the period each belongs to. */
struct syncookie_state {
    struct hash_key key[2]; /* key[p] signs periods of parity p */
    uint64_t period[2];     /* the period key[p] was drawn for */
    uint64_t current;       /* the latest period seen */
    /* In a group (core/group.h), whose master key gives every period's
     * secret; NULL: secrets drawn from the stack's randomness. */
    const struct tcpc_group *group;
};

/* The 4-tuple a cookie is bound to, from our side, and whether the
 * handshake is MD5-signed (RFC 2385): the SYN when generating, the ACK
 * when checking, so that a cookie made for one never completes the other. */
struct syncookie_tuple {
    const struct tcpc_addr *laddr, *faddr;
    uint16_t lport, fport;
    bool sig;
};

/* What a SYN negotiated, as a cookie carries it. */
struct syncookie_params {
    uint16_t mss;        /* peer's MSS (0: no option); decoded: the table value */
    uint8_t peer_wscale; /* 0..14, or SYNCOOKIE_NO_WSCALE */
    uint8_t our_wscale;  /* the shift we offered (meaningful with peer_wscale) */
    bool sack;           /* SACK-permitted offered and enabled */
    bool ts;             /* timestamps negotiated */
    bool ecn;            /* ECN negotiated (RFC 3168); carried only with ts */
};

/* The MSS and window-scale tables (for tests and tools). */
extern const uint16_t syncookie_msstab[SYNCOOKIE_MSS_COUNT];
extern const uint8_t syncookie_wstab[SYNCOOKIE_WSCALE_COUNT];

/* Draws both secrets from r; now starts the first period. */
void syncookie_init(struct syncookie_state *st, struct rand_state *r, tcpc_time_t now);

/* Makes st's secrets the group's (every member derives the same one for a
 * period), from period now on: cookies one member made validate on any. */
void syncookie_use_group(struct syncookie_state *st, const struct tcpc_group *g, tcpc_time_t now);

/*
 * The cookie for a SYN with sequence number irs from t: our ISS, and (when
 * p->ts) the TSval to send in the SYN-ACK.
 */
void syncookie_generate(struct syncookie_state *st, struct rand_state *r, tcpc_time_t now,
                        const struct syncookie_tuple *t, uint32_t irs,
                        const struct syncookie_params *p, uint32_t *iss, uint32_t *tsval);

/*
 * Checks the ACK that should complete a cookie handshake: irs and iss are
 * the ACK's SEQ - 1 and ACK - 1; has_ts/tsecr its timestamp option. On
 * success returns 0 and fills *out (mss is the table value, rounded down
 * from what the peer offered; window scales exact when timestamps carried
 * them). Returns -EBADMSG when the digest does not match: forged, altered
 * in flight, or expired (two rotations retire the secret that signed it, so
 * an expired cookie fails like a forged one). -ESTALE is kept for a secret
 * whose period is out of range, which lazy rotation should never leave.
 */
int syncookie_check(struct syncookie_state *st, struct rand_state *r, tcpc_time_t now,
                    const struct syncookie_tuple *t, uint32_t irs, uint32_t iss, bool has_ts,
                    uint32_t tsecr, struct syncookie_params *out);

#endif
