/*
 * The SYN cache; see syncache.h.
 *
 * Layout
 * ------
 * A power-of-two array of buckets (net.inet.tcp.syncache.hashsize), chosen
 * by SipHash of the 4-tuple under a per-stack secret so that a peer cannot
 * aim its SYNs at one bucket. Each bucket holds a singly linked list of
 * entries, newest first, linked by 32-bit pool indices (bit 31 says which
 * pool: IPv4 entries are 44 bytes, IPv6 entries 68). A bucket never holds
 * more than bucketlimit entries and the cache never more than cachelimit;
 * both pools are sized by cachelimit, so memory is bounded by it and the
 * packet path never allocates.
 *
 * Timers
 * ------
 * One timer per bucket, on the cache's own wheel, armed for the earliest
 * retransmission due among its entries (FreeBSD's per-bucket callout and
 * next-expiry). When it fires, the bucket is walked: due entries get their
 * SYN-ACK again, with the delay doubling from net.inet.tcp.rexmit_initial,
 * and an entry that has been retransmitted rexmtlimit times is dropped at
 * its next timeout (tcps_sc_stale). Entries keep their deadline on a 32-bit
 * millisecond clock, compared modulo 2^32 like sequence numbers.
 *
 * Overflow and attack
 * -------------------
 * A full bucket drops its oldest entry for the new one (the tail: the entry
 * that has waited longest is the most likely to be a forged source). The
 * first overflow switches the cache to cookies only for a while (FreeBSD's
 * syncache_pause): every SYN is then answered statelessly, so an attack
 * costs no table work at all. When the pause ends the cache is tried again;
 * if it overflows again soon, the next pause is twice as long, up to 2^4
 * times the base. Because every SYN-ACK's ISS is a cookie whenever
 * net.inet.tcp.syncookies is on, a handshake whose entry was pushed out can
 * still complete from its cookie.
 *
 * A client retransmits its SYN exactly when an attack slows everything
 * down, so two rules keep every SYN-ACK it may have seen valid: a SYN that
 * repeats one with an entry is answered from the entry even while paused
 * (the same ISS; a fresh cookie would differ once the secret has rotated),
 * and an ACK that fails its entry's check is also tried as a cookie for the
 * entry's own SYN (the cookie SYN-ACK of a pause may precede the entry).
 *
 * TIME_WAIT reopens
 * -----------------
 * A SYN that reopens a TIME_WAIT 4-tuple comes with the ISS timewait.c
 * chose above the old incarnation's sequence space. It always takes an
 * entry, paused or not, because a cookie ISS is a hash that no rule can
 * place; when there is no room the SYN is dropped and the client's next
 * retransmission tries again, while the record goes on protecting the
 * 4-tuple. Such SYNs are bounded by the TIME_WAIT records, so they cannot
 * be used to flood the cache. The record gives way only when the entry
 * completes (sc_socket).
 */
#include "tcp/syncache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/ip_input.h"
#include "core/stack.h"
#include "core/sysctl.h"
#include "tcp/syncookie.h"
#include "tcp/tcp_cc.h"
#include "tcp/tcp_demux.h"
#include "tcp/tcp_ecn.h"
#include "tcp/tcp_ao.h"
#include "tcp/tcp_md5.h"
#include "tcp/tcp_fastopen.h"
#include "tcp/tcp_sbuf.h"
#include "tcp/tcp_subr.h"
#include "tcp/tcp_urgent.h"
#include "tcp/timewait.h"
#include "util/container.h"
#include "util/hash.h"
#include "util/pool.h"
#include "util/seq.h"
#include "util/timer.h"

#define SC_NIL UINT32_MAX
#define SC_V6  0x80000000u

/* Entry flags. */
#define SCF_WINSCALE  0x01 /* both sides scale windows */
#define SCF_TIMESTAMP 0x02 /* both sides send timestamps */
#define SCF_SACK      0x04 /* SACK permitted */
#define SCF_UNREACH   0x08 /* an ICMP unreachable quoted our SYN-ACK */
#define SCF_REOPEN    0x10 /* reopens a TIME_WAIT 4-tuple: ISS above the old space */
#define SCF_NOOPT     0x20 /* the listener has TCP_NOOPT: a SYN-ACK without options */
#define SCF_ECN       0x40 /* ECN negotiated (RFC 3168): the SYN asked, ecn.enable allows */
#define SCF_DONTFRAG  0x80 /* the listener has IP_DONTFRAG: DF whatever path MTU discovery says */
/* The SYN was MD5-signed (RFC 2385, FreeBSD's SCF_SIGNATURE): the SYN-ACK
 * is signed with the listener's key for the peer, and the ACK must be. */
#define SCF_SIGNATURE 0x100
/* Our ISS (and TSval) is a cookie: the entry's ACK completes without it. */
#define SCF_COOKIE_ISS 0x200

/* Pauses last SC_PAUSE_BASE << backoff; backoff grows while attacks go on. */
#define SC_PAUSE_BASE       SYNCOOKIE_PERIOD
#define SC_PAUSE_MAXBACKOFF 4

/* ICMP unreachables remove an entry only after this many retransmissions
 * (and a first error that only marked it): a transient outage must not kill
 * a handshake that would have survived it. */
#define SC_UNREACH_REXMITS 3

/* The family-independent part of a half-open connection. */
struct sc_entry {
    uint32_t rxt_ms;     /* next SYN-ACK retransmission, on the 32-bit ms clock */
    uint32_t irs, iss;   /* the peer's ISN and ours */
    uint32_t ts_reflect; /* the peer's TSval, echoed in our TSecr */
    uint32_t ts;         /* the TSval we sent */
    uint16_t lport, fport;
    uint16_t peer_mss; /* 0: no option */
    uint16_t our_mss;  /* what our SYN-ACK offered */
    uint16_t wnd;      /* the window our SYN-ACK offered */
    uint16_t flags;    /* SCF_* */
    uint8_t wscale;    /* the peer's shift in the low nibble, ours in the high */
    uint8_t rxmits;    /* SYN-ACK retransmissions so far */
    /* The listener's IP_TTL and IP_TOS (or IPv6 spellings) when the SYN
     * came, as FreeBSD's sc_ip_ttl and sc_ip_tos: what the SYN-ACK carries
     * and the connection inherits. In what was alignment padding. */
    uint8_t ip_ttl, ip_tos;
};

struct sc_entry4 {
    struct sc_entry c;
    uint8_t laddr[4], faddr[4];
};

struct sc_entry6 {
    struct sc_entry c;
    uint8_t laddr[16], faddr[16];
};

_Static_assert(sizeof(struct sc_entry) == 36, "the common part of an entry is 36 bytes");
_Static_assert(sizeof(struct sc_entry4) <= 64, "an IPv4 half-open entry fits 64 bytes");
_Static_assert(sizeof(struct sc_entry6) <= 96, "an IPv6 half-open entry fits 96 bytes");

/*
 * A bucket's entries are listed in two arrays of the cache, oldest first:
 * their pool indexes and a 16-bit tag of each one's hash. A lookup compares
 * tags, one or two cache lines for a whole bucket, and reads an entry only
 * when its tag matches; a chain through the entries cost a cache miss per
 * entry, and a flood keeps every bucket full, so each spoofed SYN walked
 * bucketlimit entries for nothing.
 */
struct sc_bucket {
    uint32_t len;
    tcpc_time_t last_overflow; /* when the bucket last overflowed; 0: never */
    struct timer timer;        /* earliest retransmission among its entries */
};

struct syncache {
    struct sc_bucket *buckets;
    uint32_t *slots; /* per bucket, `depth` pool indexes (SC_V6 for IPv6) */
    uint16_t *tags;  /* beside them, each entry's tag */
    uint32_t depth;  /* entries a bucket can hold: min(bucketlimit, cachelimit) */
    uint32_t hashmask;
    uint32_t bucketlimit, cachelimit;
    uint32_t count;
    struct pool pool4, pool6;
    struct hash_key key;
    tcpc_time_t pause_until; /* cookies only until then (an attack); 0: never paused */
    unsigned pause_backoff;
    tcpc_time_t challenge_start; /* RFC 5961 challenge-ACK budget, per second */
    uint32_t challenge_count;
    struct syncookie_state cookies;
    struct timer_wheel wheel;
    struct tcp_state *ts; /* whose cached deadline (ts->due) the wheel's move */
};

/* The 4-tuple of a segment or an ICMP quote, from our side. */
struct sc_key {
    const struct tcpc_addr *laddr, *faddr;
    uint16_t lport, fport;
    bool v6;
    uint16_t tag; /* set by sc_bucket_of */
};

static struct syncache *sc_of(const struct tcpc_stack *stack)
{
    return stack->tcp->syncache;
}

size_t syncache_entry_size(bool v6)
{
    return v6 ? sizeof(struct sc_entry6) : sizeof(struct sc_entry4);
}

/* Gives back what syncache_init took, whatever of it it got. */
static void sc_free(const struct mem *mem, struct syncache *sc)
{
    size_t nslots = (size_t)(sc->hashmask + 1) * sc->depth;
    pool_free(&sc->pool4);
    pool_free(&sc->pool6);
    mem_put(mem, sc->tags, nslots * sizeof(*sc->tags));
    mem_put(mem, sc->slots, nslots * sizeof(*sc->slots));
    mem_put(mem, sc->buckets, (size_t)(sc->hashmask + 1) * sizeof(*sc->buckets));
    mem_put(mem, sc, sizeof(*sc));
}

int syncache_init(struct tcpc_stack *stack)
{
    const struct tcpc_tunables *tun = &stack->cfg.tun;
    const struct mem *mem = &stack->cfg.mem;
    struct syncache *sc = mem_get(mem, sizeof(*sc), MEM_ALIGN_ANY, true);
    if (!sc)
        return -ENOMEM;
    uint32_t hashsize = (uint32_t)tun->sc_hashsize;
    sc->hashmask = hashsize - 1;
    sc->ts = stack->tcp;
    sc->bucketlimit = (uint32_t)tun->sc_bucketlimit;
    sc->cachelimit = (uint32_t)sysctl_sc_cachelimit(tun);
    sc->depth = sc->bucketlimit < sc->cachelimit ? sc->bucketlimit : sc->cachelimit;
    size_t nslots = (size_t)hashsize * sc->depth;
    sc->buckets = mem_array(mem, hashsize, sizeof(*sc->buckets));
    sc->slots = mem_array(mem, nslots, sizeof(*sc->slots));
    sc->tags = mem_array(mem, nslots, sizeof(*sc->tags));
    if (!sc->buckets || !sc->slots || !sc->tags ||
        pool_init(&sc->pool4, mem, sizeof(struct sc_entry4), sc->cachelimit) ||
        pool_init(&sc->pool6, mem, sizeof(struct sc_entry6), sc->cachelimit)) {
        sc_free(mem, sc);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < hashsize; i++)
        timer_init(&sc->buckets[i].timer);
    rand_bytes(&stack->rand, sc->key.k, sizeof(sc->key.k));
    syncookie_init(&sc->cookies, &stack->rand, stack->now);
    if (stack->group) {
        /* One host: a SYN hashes to the same bucket on every member, and a
         * cookie validates on whichever member the ACK reaches. */
        group_secret(stack->group, GROUP_SECRET_SYNCACHE, 0, sc->key.k, sizeof(sc->key.k));
        syncookie_use_group(&sc->cookies, stack->group, stack->now);
    }
    timer_wheel_init(&sc->wheel, stack->now, TCPC_USEC_PER_MSEC);
    stack->tcp->syncache = sc;
    return 0;
}

void syncache_destroy(struct tcpc_stack *stack)
{
    struct syncache *sc = sc_of(stack);
    if (!sc)
        return;
    sc_free(&stack->cfg.mem, sc);
    stack->tcp->syncache = NULL;
}

/* ---- Entries and buckets ---------------------------------------------- */

static struct sc_entry *sc_at(const struct syncache *sc, uint32_t idx)
{
    if (idx & SC_V6)
        return pool_at(&sc->pool6, idx & ~SC_V6);
    return pool_at(&sc->pool4, idx);
}

static void sc_key_of(struct sc_key *k, const struct tcpc_addr *laddr,
                      const struct tcpc_addr *faddr, uint16_t lport, uint16_t fport)
{
    k->laddr = laddr;
    k->faddr = faddr;
    k->lport = lport;
    k->fport = fport;
    k->v6 = !tcpc_addr_is_v4(laddr);
}

/* The bucket of k; also sets k->tag from the same hash. */
static struct sc_bucket *sc_bucket_of(const struct syncache *sc, struct sc_key *k)
{
    uint8_t in[36];
    size_t n;
    if (k->v6) {
        memcpy(in, k->faddr->bytes, 16);
        memcpy(in + 16, k->laddr->bytes, 16);
        n = 32;
    } else {
        memcpy(in, k->faddr->bytes + 12, 4);
        memcpy(in + 4, k->laddr->bytes + 12, 4);
        n = 8;
    }
    in[n] = (uint8_t)(k->fport >> 8);
    in[n + 1] = (uint8_t)k->fport;
    in[n + 2] = (uint8_t)(k->lport >> 8);
    in[n + 3] = (uint8_t)k->lport;
    uint64_t h = hash_siphash(&sc->key, in, n + 4);
    k->tag = (uint16_t)(h >> 48); /* bits the mask (below 2^24) never uses */
    return &sc->buckets[h & sc->hashmask];
}

static uint32_t *sc_slots(const struct syncache *sc, const struct sc_bucket *b)
{
    return sc->slots + (size_t)(b - sc->buckets) * sc->depth;
}

static uint16_t *sc_tags(const struct syncache *sc, const struct sc_bucket *b)
{
    return sc->tags + (size_t)(b - sc->buckets) * sc->depth;
}

static bool sc_match(const struct sc_entry *e, uint32_t idx, const struct sc_key *k)
{
    if (e->lport != k->lport || e->fport != k->fport || !!(idx & SC_V6) != k->v6)
        return false;
    if (k->v6) {
        const struct sc_entry6 *e6 = (const struct sc_entry6 *)e;
        return memcmp(e6->faddr, k->faddr->bytes, 16) == 0 &&
               memcmp(e6->laddr, k->laddr->bytes, 16) == 0;
    }
    const struct sc_entry4 *e4 = (const struct sc_entry4 *)e;
    return memcmp(e4->faddr, k->faddr->bytes + 12, 4) == 0 &&
           memcmp(e4->laddr, k->laddr->bytes + 12, 4) == 0;
}

/* The entry for k in b, with its index and its position in the bucket, or
 * NULL. k's tag must come from sc_bucket_of. */
static struct sc_entry *sc_lookup(const struct syncache *sc, const struct sc_bucket *b,
                                  const struct sc_key *k, uint32_t *idxp, uint32_t *posp)
{
    const uint16_t *tags = sc_tags(sc, b);
    for (uint32_t pos = 0; pos < b->len; pos++) {
        if (tags[pos] != k->tag)
            continue;
        uint32_t idx = sc_slots(sc, b)[pos];
        struct sc_entry *e = sc_at(sc, idx);
        if (sc_match(e, idx, k)) {
            *idxp = idx;
            *posp = pos;
            return e;
        }
    }
    return NULL;
}

static void sc_addrs(uint32_t idx, const struct sc_entry *e, struct tcpc_addr *laddr,
                     struct tcpc_addr *faddr)
{
    if (idx & SC_V6) {
        const struct sc_entry6 *e6 = (const struct sc_entry6 *)e;
        *laddr = tcpc_addr_v6(e6->laddr);
        *faddr = tcpc_addr_v6(e6->faddr);
        return;
    }
    const struct sc_entry4 *e4 = (const struct sc_entry4 *)e;
    *laddr = tcpc_addr_v4(0);
    *faddr = tcpc_addr_v4(0);
    memcpy(laddr->bytes + 12, e4->laddr, 4);
    memcpy(faddr->bytes + 12, e4->faddr, 4);
}

/* Removes the entry idx at position pos of bucket b. */
static void sc_remove(struct syncache *sc, struct sc_bucket *b, uint32_t idx, uint32_t pos)
{
    uint32_t *slots = sc_slots(sc, b);
    uint16_t *tags = sc_tags(sc, b);
    uint32_t after = b->len - pos - 1;
    memmove(slots + pos, slots + pos + 1, after * sizeof(*slots));
    memmove(tags + pos, tags + pos + 1, after * sizeof(*tags));
    b->len--;
    sc->count--;
    if (idx & SC_V6)
        pool_put(&sc->pool6, idx & ~SC_V6);
    else
        pool_put(&sc->pool4, idx);
    if (b->len == 0) {
        timer_cancel(&sc->wheel, &b->timer);
        tcp_due_forget(sc->ts);
    }
}

/* Drops the bucket's oldest entry. */
static void sc_drop_oldest(struct syncache *sc, struct sc_bucket *b)
{
    if (b->len > 0)
        sc_remove(sc, b, sc_slots(sc, b)[0], 0);
}

/* ---- Time --------------------------------------------------------------- */

static uint32_t sc_ms(tcpc_time_t now)
{
    return (uint32_t)(now / TCPC_USEC_PER_MSEC);
}

/* The wheel deadline (microseconds) of a time on the 32-bit ms clock. */
static tcpc_time_t sc_deadline(tcpc_time_t now, uint32_t ms)
{
    int32_t ahead = (int32_t)(ms - sc_ms(now));
    if (ahead <= 0)
        return now;
    return (now / TCPC_USEC_PER_MSEC + (uint32_t)ahead) * TCPC_USEC_PER_MSEC;
}

/* SYN-ACK timeout after n retransmissions: the base RTO doubled n times,
 * plus net.inet.tcp.rexmit_slop after a retransmission (as for a SYN). */
static uint32_t sc_rto_ms(const struct tcpc_stack *stack, unsigned n)
{
    uint64_t rto = (uint64_t)stack->cfg.tun.rexmit_initial << (n < 20 ? n : 20);
    if (n)
        rto += (uint64_t)stack->cfg.tun.rexmit_slop;
    uint64_t hi = (uint64_t)stack->cfg.tun.rexmit_max;
    return (uint32_t)(rto < hi ? rto : hi);
}

static void sc_bucket_arm(struct syncache *sc, struct sc_bucket *b, tcpc_time_t now, uint32_t ms)
{
    tcpc_time_t when = sc_deadline(now, ms);
    if (timer_armed(&b->timer) && timer_deadline(&b->timer) <= when)
        return;
    timer_arm(&sc->wheel, &b->timer, when);
    tcp_due_lower(sc->ts, when);
}

/* ---- Policy: cookies and the attack switch ------------------------------ */

static bool sc_cookies_enabled(const struct tcpc_stack *stack)
{
    return stack->cfg.tun.syncookies || stack->cfg.tun.syncookies_only;
}

bool syncache_cookies_only(const struct tcpc_stack *stack)
{
    const struct syncache *sc = sc_of(stack);
    if (stack->cfg.tun.syncookies_only)
        return true;
    return stack->cfg.tun.syncookies && stack->now < sc->pause_until;
}

/* Modern FreeBSD's syncache_pause: stop caching for a while. */
static void sc_pause(struct tcpc_stack *stack, struct syncache *sc)
{
    tcpc_time_t now = stack->now;
    if (!stack->cfg.tun.syncookies || now < sc->pause_until)
        return;
    if (sc->pause_until && now - sc->pause_until < (SC_PAUSE_BASE << sc->pause_backoff)) {
        if (sc->pause_backoff < SC_PAUSE_MAXBACKOFF)
            sc->pause_backoff++;
    } else {
        sc->pause_backoff = 0;
    }
    sc->pause_until = now + (SC_PAUSE_BASE << sc->pause_backoff);
    STAT_INC(stack, tcps_sc_paused);
}

static void sc_overflowed(struct tcpc_stack *stack, struct syncache *sc, struct sc_bucket *b)
{
    b->last_overflow = stack->now ? stack->now : 1;
    sc_pause(stack, sc);
}

/* An ACK that matches no entry is checked as a cookie only if this stack
 * has been sending cookies lately: otherwise a cookie cannot be genuine,
 * and not checking it keeps guessing attacks from even starting. */
static bool sc_cookie_honoured(const struct tcpc_stack *stack, const struct syncache *sc,
                               const struct sc_bucket *b)
{
    tcpc_time_t now = stack->now;
    if (!sc_cookies_enabled(stack))
        return false;
    if (stack->cfg.tun.syncookies_only)
        return true;
    if (sc->pause_until && now < sc->pause_until + SYNCOOKIE_LIFETIME)
        return true;
    return b && b->last_overflow && now - b->last_overflow < SYNCOOKIE_LIFETIME;
}

/* ---- Output ------------------------------------------------------------- */

/* Sends flags (SYN|ACK, or ACK for a challenge) from entry e. */
static void sc_emit(struct tcpc_stack *stack, const struct sc_entry *e,
                    const struct tcpc_addr *laddr, const struct tcpc_addr *faddr, uint8_t flags,
                    const uint8_t *tfo_cookie)
{
    /* PMTU discovery, unless the path said no. */
    struct tcp_ipopt o = {.ttl = e->ip_ttl,
                          .tos = e->ip_tos,
                          .dontfrag = (e->flags & SCF_DONTFRAG) != 0,
                          .no_pmtud = (e->flags & SCF_UNREACH) != 0};
    struct ip_repr ip;
    tcp_ip_fill(stack, laddr, e->lport, faddr, e->fport, &o, &ip);
    struct tcp_repr th;
    memset(&th, 0, sizeof(th));
    th.sport = e->lport;
    th.dport = e->fport;
    th.flags = flags;
    th.ack = e->irs + 1; /* never beyond the SYN: data on a SYN is not acknowledged */
    /* An ECN-setup SYN-ACK: ECE without CWR (RFC 3168 6.1.1). */
    if ((flags & TH_SYN) && (e->flags & SCF_ECN))
        th.flags |= TH_ECE;
    if (flags & TH_SYN) {
        th.seq = e->iss;
        th.win = e->wnd; /* RFC 7323 2.2: a SYN's window is never scaled */
        th.opts.present = (e->flags & SCF_NOOPT) ? 0 : TOF_MSS;
        th.opts.mss = e->our_mss;
        if (e->flags & SCF_WINSCALE) {
            th.opts.present |= TOF_WSCALE;
            th.opts.wscale = e->wscale >> 4;
        }
        if (e->flags & SCF_SACK)
            th.opts.present |= TOF_SACKPERM;
    } else {
        th.seq = e->iss + 1;
        th.win = (uint16_t)(e->wnd >> ((e->flags & SCF_WINSCALE) ? e->wscale >> 4 : 0));
    }
    if (e->flags & SCF_TIMESTAMP) {
        th.opts.present |= TOF_TS;
        th.opts.tsval = e->ts;
        th.opts.tsecr = e->ts_reflect;
    }
    if (tfo_cookie && (flags & TH_SYN) && !(e->flags & SCF_NOOPT)) {
        /* Fast Open: the cookie the SYN asked for, or the right one for a
         * wrong one; on the first SYN-ACK only, as FreeBSD's. */
        th.opts.present |= TOF_FASTOPEN;
        th.opts.tfo_len = TFO_SERVER_COOKIE_LEN;
        memcpy(th.opts.tfo_cookie, tfo_cookie, TFO_SERVER_COOKIE_LEN);
    }
    const struct tcp_md5_key *key = NULL;
    if (e->flags & SCF_SIGNATURE) {
        /* The listener's key for the peer, found again: one that was
         * removed since the SYN leaves nothing to sign with, and an
         * unsigned answer would be dropped by the peer anyway. */
        key = tcp_md5_listener_key(stack, laddr, e->lport, faddr, e->fport);
        if (!key) {
            STAT_INC(stack, tcps_sig_err_buildsig);
            return;
        }
    }
    /* RFC 5925: the listener's MKT for the peer, as it is now (tcp_input
     * checked the SYN under it), over both ISNs. */
    const struct tcp_ao_key *mkt =
        key ? NULL : tcp_ao_listener_key(stack, laddr, e->lport, faddr, e->fport);
    struct tcp_ao_sign ao = {.key = mkt, .sisn = e->iss, .disn = e->irs, .sne = 0};
    if (tcp_sig_output(stack, &ip, &th, key, mkt ? &ao : NULL) != 0)
        return;
    if (flags & TH_SYN)
        STAT_INC(stack, tcps_sndctrl);
    else
        STAT_INC(stack, tcps_sndacks);
}

static void sc_respond(struct tcpc_stack *stack, uint32_t idx, const struct sc_entry *e,
                       const uint8_t *tfo_cookie)
{
    struct tcpc_addr laddr, faddr;
    sc_addrs(idx, e, &laddr, &faddr);
    sc_emit(stack, e, &laddr, &faddr, TH_SYN | TH_ACK, tfo_cookie);
}

/* ---- SYN ---------------------------------------------------------------- */

static uint16_t sc_window(const struct tcpcb *l)
{
    return (uint16_t)(l->rcv_bufsize < TCP_MAXWIN ? l->rcv_bufsize : TCP_MAXWIN);
}

/* The listener's IP-level options, for the SYN-ACK and the connection. */
static void sc_ip_from(const struct tcpcb *l, struct sc_entry *e)
{
    struct tcp_ipopt o = tcp_ipopt_of(l);
    e->ip_ttl = o.ttl;
    e->ip_tos = o.tos;
    if (o.dontfrag)
        e->flags |= SCF_DONTFRAG;
}

/* The entry a SYN describes (everything but linkage, ISS and our TSval). */
static void sc_fill(struct tcpc_stack *stack, const struct tcpcb *l, const struct tcp_repr *th,
                    bool v6, struct sc_entry *e)
{
    const struct tcpc_tunables *tun = &stack->cfg.tun;
    const struct tcp_opts *o = &th->opts;
    memset(e, 0, sizeof(*e));
    e->lport = th->dport;
    e->fport = th->sport;
    e->irs = th->seq;
    e->wnd = sc_window(l);
    e->our_mss = tcp_mss_offer(stack, v6, l->t_usermss);
    e->peer_mss = (o->present & TOF_MSS) ? o->mss : 0;
    sc_ip_from(l, e);
    /* net.inet.tcp.ecn.enable 1 and 2 both accept a peer's request. */
    if (tun->ecn_enable && ecn_syn_asks(th->flags))
        e->flags |= SCF_ECN;
    if (l->t_flags & TF_NOOPT) {
        /* TCP_NOOPT: nothing offered, so nothing negotiated; the peer's
         * MSS still bounds what we send. */
        e->flags |= SCF_NOOPT;
        return;
    }
    if (tun->rfc1323 && (o->present & TOF_WSCALE)) {
        uint8_t peer = o->wscale > TCP_MAX_WINSHIFT ? TCP_MAX_WINSHIFT : o->wscale;
        e->wscale = (uint8_t)(tcp_rcv_wscale(stack) << 4 | peer);
        e->flags |= SCF_WINSCALE;
    }
    if (tun->rfc1323 && (o->present & TOF_TS)) {
        e->flags |= SCF_TIMESTAMP;
        e->ts_reflect = o->tsval;
    }
    if (tun->sack_enable && (o->present & TOF_SACKPERM))
        e->flags |= SCF_SACK;
}

static void sc_cookie_params(const struct sc_entry *e, struct syncookie_params *p)
{
    memset(p, 0, sizeof(*p));
    p->mss = e->peer_mss;
    p->peer_wscale = (e->flags & SCF_WINSCALE) ? (e->wscale & 0xf) : SYNCOOKIE_NO_WSCALE;
    p->our_wscale = e->wscale >> 4;
    p->sack = e->flags & SCF_SACK;
    p->ts = e->flags & SCF_TIMESTAMP;
    p->ecn = e->flags & SCF_ECN;
}

/* ISS and our TSval: a cookie whenever cookies are on, so that the SYN-ACK
 * is the same whether or not an entry was kept and an entry pushed out by
 * overflow can still complete; otherwise RFC 6528 and a random clock. */
static void sc_choose_iss(struct tcpc_stack *stack, struct syncache *sc, struct sc_entry *e,
                          const struct tcpc_addr *laddr, const struct tcpc_addr *faddr)
{
    if (sc_cookies_enabled(stack)) {
        struct syncookie_params p;
        sc_cookie_params(e, &p);
        struct syncookie_tuple t = {laddr, faddr, e->lport, e->fport,
                                    (e->flags & SCF_SIGNATURE) != 0};
        syncookie_generate(&sc->cookies, &stack->rand, stack->now, &t, e->irs, &p, &e->iss, &e->ts);
        e->flags |= SCF_COOKIE_ISS;
        return;
    }
    e->iss = tcp_isn_for(stack, laddr, e->lport, faddr, e->fport);
    e->ts = sc_ms(stack->now) + rand_u32(&stack->rand);
}

/* ISS and TSval of a TIME_WAIT reopen: what the record chose, and the old
 * incarnation's timestamp clock continued, so that the peer's PAWS as well
 * as its window tells our old duplicates from new segments. */
static void sc_reopen_iss(struct tcpc_stack *stack, struct sc_entry *e,
                          const struct syncache_reopen *ro)
{
    e->flags |= SCF_REOPEN;
    e->iss = ro->iss;
    e->ts = sc_ms(stack->now) + (ro->ts ? ro->ts_offset : rand_u32(&stack->rand));
}

/* A duplicate SYN: the peer did not get our SYN-ACK (or sent its SYN
 * twice). Resend, and start the retransmission schedule over. */
static void sc_dupsyn(struct tcpc_stack *stack, struct syncache *sc, struct sc_bucket *b,
                      uint32_t idx, struct sc_entry *e, const struct tcp_repr *th)
{
    STAT_INC(stack, tcps_sc_dupsyn);
    if ((e->flags & SCF_TIMESTAMP) && (th->opts.present & TOF_TS))
        e->ts_reflect = th->opts.tsval; /* echo the newest (RFC 7323 4.3) */
    else
        e->flags &= (uint16_t)~SCF_TIMESTAMP;
    sc_respond(stack, idx, e, NULL);
    e->rxmits = 0;
    e->rxt_ms = sc_ms(stack->now) + sc_rto_ms(stack, 0);
    timer_cancel(&sc->wheel, &b->timer); /* the new deadline may be later */
    tcp_due_forget(sc->ts);
    for (uint32_t pos = 0; pos < b->len; pos++)
        sc_bucket_arm(sc, b, stack->now, sc_at(sc, sc_slots(sc, b)[pos])->rxt_ms);
}

/* Makes room in bucket b for one more entry, or says there is none. */
static bool sc_make_room(struct tcpc_stack *stack, struct syncache *sc, struct sc_bucket *b)
{
    if (b->len >= sc->bucketlimit) {
        sc_drop_oldest(sc, b);
        STAT_INC(stack, tcps_sc_bucketoverflow);
        sc_overflowed(stack, sc, b);
    } else if (sc->count >= sc->cachelimit) {
        STAT_INC(stack, tcps_sc_cacheoverflow);
        sc_drop_oldest(sc, b); /* if the bucket has any; else no room */
        sc_overflowed(stack, sc, b);
    }
    return sc->count < sc->cachelimit;
}

static uint32_t sc_alloc(struct syncache *sc, bool v6)
{
    uint32_t i = v6 ? pool_get(&sc->pool6) : pool_get(&sc->pool4);
    if (i == POOL_NONE)
        return SC_NIL;
    return v6 ? i | SC_V6 : i;
}

static void sc_store_addrs(struct sc_entry *e, uint32_t idx, const struct tcpc_addr *laddr,
                           const struct tcpc_addr *faddr)
{
    if (idx & SC_V6) {
        struct sc_entry6 *e6 = (struct sc_entry6 *)e;
        memcpy(e6->laddr, laddr->bytes, 16);
        memcpy(e6->faddr, faddr->bytes, 16);
    } else {
        struct sc_entry4 *e4 = (struct sc_entry4 *)e;
        memcpy(e4->laddr, laddr->bytes + 12, 4);
        memcpy(e4->faddr, faddr->bytes + 12, 4);
    }
}

/* Answers a SYN with a cookie and keeps nothing. */
static void sc_send_cookie(struct tcpc_stack *stack, struct syncache *sc, struct sc_entry *tmp,
                           const struct tcpc_addr *laddr, const struct tcpc_addr *faddr,
                           const uint8_t *tfo_cookie)
{
    /* Only the timestamp has room for the ECN bit: without one, the
     * connection the cookie makes could not know that ECN was agreed, so
     * it is not offered. */
    if (!(tmp->flags & SCF_TIMESTAMP))
        tmp->flags &= (uint16_t)~SCF_ECN;
    sc_choose_iss(stack, sc, tmp, laddr, faddr);
    sc_emit(stack, tmp, laddr, faddr, TH_SYN | TH_ACK, tfo_cookie);
    STAT_INC(stack, tcps_sc_sendcookie);
}

static struct tcpcb *sc_socket(struct tcpc_stack *stack, struct tcpcb *l, const struct sc_entry *e,
                               bool cached, const struct ip_repr *ip, const struct tcp_repr *th);

/*
 * A SYN with a valid Fast Open cookie: the connection exists at once, in
 * SYN_RECEIVED, with the SYN's data in its receive buffer (RFC 7413 4.2.2),
 * and sends its own SYN-ACK, which acknowledges the data. It becomes
 * acceptable when the handshake's ACK comes, as any other (FreeBSD hands
 * it to accept at once). Returns 0, or -1 when it cannot be made (a full
 * accept queue, no control block): the SYN is then served as any other.
 */
static int sc_tfo_open(struct tcpc_stack *stack, struct syncache *sc, struct tcpcb *l,
                       const struct ip_repr *ip, const struct tcp_repr *th, struct sc_entry *tmp)
{
    const struct tcpc_addr *laddr = &ip->dst, *faddr = &ip->src;
    if (l->q_len >= l->q_limit + l->q_limit / 2 + 1)
        return -1;
    sc_choose_iss(stack, sc, tmp, laddr, faddr);
    struct tcpcb *tp = sc_socket(stack, l, tmp, false, ip, th);
    if (!tp)
        return -1;
    if (demux_insert(stack, tp, laddr, th->dport, faddr, th->sport) != 0) {
        tcb_free(stack, tp);
        return -1;
    }
    tp->t_tfo = TFO_ON | TFO_SERVER;
    tp->snd_nxt = tp->snd_max = tp->iss; /* the SYN-ACK is the connection's own */
    uint32_t n = (uint32_t)th->payload_len;
    uint32_t room = tcp_rcv_space(stack, tp);
    if (n > room)
        n = room;
    if (n && tcp_sb_rcv_storage(stack, tp, n) == 0) {
        n = sb_append(&tp->rcv, th->payload, n);
        tp->rcv_nxt += n;
        STAT_INC(stack, tcps_rcvpack);
        STAT_ADD(stack, tcps_rcvbyte, n);
    }
    tcp_timer_set(stack, tp, TT_KEEP, (tcpc_time_t)stack->cfg.tun.keepinit * TCPC_USEC_PER_MSEC);
    STAT_INC(stack, tcps_sc_completed);
    STAT_INC(stack, tcps_tfo_syn_data_rcv);
    tcp_output(stack, tp);
    return 0;
}

void syncache_add(struct tcpc_stack *stack, struct tcpcb *l, const struct ip_repr *ip,
                  const struct tcp_repr *th, const struct syncache_reopen *reopen)
{
    struct syncache *sc = sc_of(stack);
    const struct tcpc_addr *laddr = &ip->dst, *faddr = &ip->src;
    struct sc_key k;
    sc_key_of(&k, laddr, faddr, th->dport, th->sport);
    struct sc_entry tmp;
    sc_fill(stack, l, th, k.v6, &tmp);
    /* tcp_input has checked the SYN's signature against this key. */
    if (tcp_md5_lookup(l->t_md5keys, faddr))
        tmp.flags |= SCF_SIGNATURE;

    /* Paused or cookies-only: no new entries (but a reopen's). The lookup
     * still runs while entries from before remain, so that a retransmitted
     * SYN is answered from its entry; an attack that keeps the cache paused
     * soon leaves it empty, and then a SYN costs no table work at all. */
    bool stateless = !reopen && syncache_cookies_only(stack);
    struct sc_bucket *b = NULL;
    struct sc_entry *e = NULL;
    uint32_t idx, pos;
    if (!stateless || sc->count > 0) {
        b = sc_bucket_of(sc, &k);
        e = sc_lookup(sc, b, &k, &idx, &pos);
    }
    if (e) {
        sc_dupsyn(stack, sc, b, idx, e, th);
        return;
    }
    /* Fast Open (tcp_fastopen.h): a valid cookie makes the connection now,
     * its SYN's data taken; otherwise the SYN-ACK may offer a cookie. */
    uint8_t cookie[TFO_SERVER_COOKIE_LEN];
    const uint8_t *tfo_offer = NULL;
    enum tfo_server_verdict tfo =
        reopen ? TFO_SRV_NONE : tfo_server_check(stack, l, faddr, &th->opts, cookie);
    if (tfo == TFO_SRV_VALID && sc_tfo_open(stack, sc, l, ip, th, &tmp) == 0)
        return;
    if (tfo != TFO_SRV_NONE)
        tfo_offer = cookie;
    if (stateless) {
        sc_send_cookie(stack, sc, &tmp, laddr, faddr, tfo_offer);
        return;
    }
    idx = sc_make_room(stack, sc, b) ? sc_alloc(sc, k.v6) : SC_NIL;
    if (idx == SC_NIL) {
        if (sc->count < sc->cachelimit)
            STAT_INC(stack, tcps_sc_zonefail);
        if (reopen) {
            stack_drop(stack, TCPC_STAT_tcps_sc_dropped,
                       "SYN cache full; a TIME_WAIT reopen never takes a cookie");
            return;
        }
        if (!sc_cookies_enabled(stack)) {
            stack_drop(stack, TCPC_STAT_tcps_sc_dropped, "SYN cache full and cookies off");
            return;
        }
        sc_send_cookie(stack, sc, &tmp, laddr, faddr, tfo_offer);
        return;
    }
    e = sc_at(sc, idx);
    *e = tmp;
    sc_store_addrs(e, idx, laddr, faddr);
    if (reopen)
        sc_reopen_iss(stack, e, reopen);
    else
        sc_choose_iss(stack, sc, e, laddr, faddr);
    e->rxt_ms = sc_ms(stack->now) + sc_rto_ms(stack, 0);
    sc_slots(sc, b)[b->len] = idx;
    sc_tags(sc, b)[b->len] = k.tag;
    b->len++;
    sc->count++;
    STAT_INC(stack, tcps_sc_added);
    sc_respond(stack, idx, e, tfo_offer);
    sc_bucket_arm(sc, b, stack->now, e->rxt_ms);
}

bool syncache_reopen_wants(struct tcpc_stack *stack, const struct ip_repr *ip,
                           const struct tcp_repr *th)
{
    struct syncache *sc = sc_of(stack);
    if (sc->count == 0)
        return false;
    struct sc_key k;
    sc_key_of(&k, &ip->dst, &ip->src, th->dport, th->sport);
    uint32_t idx, pos;
    const struct sc_entry *e = sc_lookup(sc, sc_bucket_of(sc, &k), &k, &idx, &pos);
    if (!e || !(e->flags & SCF_REOPEN))
        return false;
    return (th->flags & TH_RST) || ((th->flags & TH_ACK) && th->ack == e->iss + 1);
}

/* ---- Retransmission ----------------------------------------------------- */

/*
 * While the cache is paused, an entry whose ISS is a cookie goes at its
 * next timeout instead of resending its SYN-ACK. A pause means a flood:
 * nearly every entry is a spoofed SYN's, and the burst that filled the
 * cache comes due within milliseconds, so resending was thousands of
 * SYN-ACKs to forged sources in one advance, three times over, while the
 * embedder's receive queue waited (docs/syncache.md, "Timers"). A real
 * client loses nothing it needs: the ACK of the SYN-ACK it has completes
 * from the cookie (honoured during the pause and a cookie lifetime after),
 * and a SYN it retransmits is answered with a cookie. A TIME_WAIT reopen's
 * ISS is no cookie: such an entry keeps its schedule.
 */
static bool sc_retire_paused(const struct tcpc_stack *stack, const struct syncache *sc,
                             const struct sc_entry *e)
{
    return (e->flags & SCF_COOKIE_ISS) && stack->now < sc->pause_until;
}

static void sc_bucket_timer(struct tcpc_stack *stack, struct syncache *sc, struct sc_bucket *b)
{
    uint32_t now_ms = sc_ms(stack->now);
    uint32_t limit = (uint32_t)stack->cfg.tun.sc_rexmtlimit;
    bool any = false;
    uint32_t next = 0;
    for (uint32_t pos = 0; pos < b->len;) {
        uint32_t idx = sc_slots(sc, b)[pos];
        struct sc_entry *e = sc_at(sc, idx);
        if ((int32_t)(e->rxt_ms - now_ms) <= 0) {
            if (e->rxmits >= limit || sc_retire_paused(stack, sc, e)) {
                sc_remove(sc, b, idx, pos); /* the next entry moves to pos */
                STAT_INC(stack, tcps_sc_stale);
                continue;
            }
            e->rxmits++;
            sc_respond(stack, idx, e, NULL);
            STAT_INC(stack, tcps_sc_retransmitted);
            e->rxt_ms = now_ms + sc_rto_ms(stack, e->rxmits);
        }
        if (!any || (int32_t)(e->rxt_ms - next) < 0)
            next = e->rxt_ms;
        any = true;
        pos++;
    }
    if (any) {
        tcpc_time_t when = sc_deadline(stack->now, next);
        timer_arm(&sc->wheel, &b->timer, when);
        tcp_due_lower(sc->ts, when);
    }
}

void syncache_advance(struct tcpc_stack *stack)
{
    struct syncache *sc = sc_of(stack);
    struct timer *t;
    while ((t = timer_wheel_expire(&sc->wheel, stack->now)) != NULL)
        sc_bucket_timer(stack, sc, container_of(t, struct sc_bucket, timer));
}

tcpc_time_t syncache_next_deadline(const struct tcpc_stack *stack)
{
    return timer_wheel_next_deadline(&sc_of(stack)->wheel);
}

/* ---- ACK: completing the handshake -------------------------------------- */

/* What a valid cookie ACK says, as an entry. */
static void sc_from_cookie(struct tcpc_stack *stack, const struct tcpcb *l,
                           const struct tcp_repr *th, bool v6, const struct syncookie_params *p,
                           struct sc_entry *e)
{
    memset(e, 0, sizeof(*e));
    e->lport = th->dport;
    e->fport = th->sport;
    e->irs = th->seq - 1;
    e->iss = th->ack - 1;
    e->wnd = sc_window(l);
    e->our_mss = tcp_mss_offer(stack, v6, l->t_usermss);
    e->peer_mss = p->mss;
    sc_ip_from(l, e);
    if (p->peer_wscale != SYNCOOKIE_NO_WSCALE) {
        uint8_t ours = p->our_wscale != SYNCOOKIE_NO_WSCALE ? p->our_wscale : tcp_rcv_wscale(stack);
        e->wscale = (uint8_t)(ours << 4 | p->peer_wscale);
        e->flags |= SCF_WINSCALE;
    }
    if (p->ts) {
        e->flags |= SCF_TIMESTAMP;
        e->ts = th->opts.tsecr;
        e->ts_reflect = th->opts.tsval;
    }
    if (p->sack)
        e->flags |= SCF_SACK;
    if (p->ecn)
        e->flags |= SCF_ECN;
    /* The cookie's digest bound the SYN's signature requirement to the
     * ACK's: a signed ACK passed the cookie only for a signed SYN. */
    if (th->opts.present & TOF_SIG)
        e->flags |= SCF_SIGNATURE;
}

/*
 * The connection an entry completes into (FreeBSD's syncache_socket): a
 * child of l in SYN_RECEIVED with every option the SYN negotiated, whose
 * SYN is outstanding. The caller hands it the ACK through the ordinary
 * state machine, which moves it to ESTABLISHED, puts it on l's accept queue
 * and takes any data or FIN the ACK carries, exactly as for any other
 * SYN_RECEIVED connection. Options are set through the engine's own
 * negotiation so that both paths follow the same rules (RFC 6928 initial
 * window, MSS clamping).
 */
static struct tcpcb *sc_socket(struct tcpc_stack *stack, struct tcpcb *l, const struct sc_entry *e,
                               bool cached, const struct ip_repr *ip, const struct tcp_repr *th)
{
    int err;
    struct tcpcb *tp =
        tcb_new(stack, tcpc_addr_is_v4(&ip->src) ? TCPC_AF_INET : TCPC_AF_INET6, &err);
    if (!tp)
        return NULL;
    demux_inherit_opts(tp, l);
    /* TCP_NOPUSH and SO_KEEPALIVE as FreeBSD's syncache_socket takes them,
     * with TCP_NODELAY and explicit buffer sizes; the IP-level options as
     * the SYN-ACK carried them. */
    tp->t_flags |= l->t_flags & (TF_NODELAY | TF_NOOPT | TF_NOPUSH | TF_KEEPALIVE | TF_SNDBUF_SET |
                                 TF_RCVBUF_SET);
    if (e->flags & SCF_DONTFRAG)
        tp->t_flags |= TF_DONTFRAG;
    tp->t_ip_ttl = e->ip_ttl;
    tp->t_ip_tos = e->ip_tos;
    tp->t_usermss = l->t_usermss;
    tp->t_oobflags = l->t_oobflags & TCPOOB_INLINE; /* SO_OOBINLINE, a socket option */
    /* The listener's key for the peer, which the ACK was checked against:
     * the connection keeps it (a reference) whatever the listener does. */
    if (e->flags & SCF_SIGNATURE)
        tcp_md5_attach(tp, tcp_md5_lookup(l->t_md5keys, &ip->src));
    /* RFC 5925 the same way: the MKT the ACK was checked under. */
    const struct tcp_ao_key *mkt = tcp_ao_lookup(l, &ip->src);
    if (mkt && tcp_ao_accept(&stack->cfg.mem, tp, mkt, e->iss, e->irs) != 0) {
        tcb_free(stack, tp);
        return NULL;
    }
    /* As FreeBSD's syncache_socket copies them (and Linux the user timeout). */
    tp->t_keepinit = l->t_keepinit;
    tp->t_keepidle = l->t_keepidle;
    tp->t_keepintvl = l->t_keepintvl;
    tp->t_keepcnt = l->t_keepcnt;
    tp->t_user_timeout = l->t_user_timeout;
    tp->t_max_pacing_rate = l->t_max_pacing_rate; /* as Linux's sk_clone copies it */
    /* The listener's congestion-control algorithm (TCP_CONGESTION). */
    (void)cc_attach(stack, tp, l->t_cc);
    tp->snd_bufsize = l->snd_bufsize;
    tp->rcv_bufsize = l->rcv_bufsize;
    tp->linger = l->linger;
    /* No storage yet: it comes from the pool's spares with the first byte
     * (tcp_sbuf.h), so a completion never waits for buffers. */
    tp->t_flags |= TF_SBSTARTED;
    tp->state = TCPS_SYN_RECEIVED;

    /* When the SYN-ACK went out just once, its send time is known (rto(0)
     * before the entry's deadline): a first RTT sample, which neither a
     * cookie nor a retransmitted SYN-ACK (Karn) can give. */
    uint32_t now_ms = sc_ms(stack->now);
    uint32_t sent_ms = now_ms;
    bool timed = false;
    if (cached && e->rxmits == 0) {
        uint32_t t = e->rxt_ms - sc_rto_ms(stack, 0);
        if (now_ms - t < sc_rto_ms(stack, 0)) {
            sent_ms = t;
            timed = true;
        }
    }

    tcp_syn_offer(stack, tp);
    struct tcp_opts o;
    memset(&o, 0, sizeof(o));
    if (e->peer_mss) {
        o.present |= TOF_MSS;
        o.mss = e->peer_mss;
    }
    if (e->flags & SCF_WINSCALE) {
        o.present |= TOF_WSCALE;
        o.wscale = e->wscale & 0xf;
        tp->request_r_scale = e->wscale >> 4; /* what the SYN-ACK offered */
    } else {
        tp->t_flags &= ~TF_REQ_SCALE;
    }
    if (e->flags & SCF_TIMESTAMP) {
        o.present |= TOF_TS;
        o.tsval = th->opts.tsval;
        /* Our clock continues from the TSval the SYN-ACK carried. */
        tp->ts_offset = e->ts - sent_ms;
    }
    if (e->flags & SCF_SACK)
        o.present |= TOF_SACKPERM;
    tcp_syn_negotiate(stack, tp, &o);
    if (e->rxmits)
        tp->t_flags |= TF_SYN_REXMT; /* cwnd of one segment once established */
    if (timed && !(e->flags & SCF_TIMESTAMP)) {
        /* The SYN-ACK's send time on t_rtttime's 32-bit clock. */
        uint32_t ago = (now_ms - sent_ms) * (uint32_t)TCPC_USEC_PER_MSEC;
        tp->t_rtttime = tcp_rtt_stamp(stack) - ago;
        tp->t_rtseq = e->iss;
        if (!tp->t_rtttime)
            tp->t_rtttime = 1;
    }

    tp->iss = e->iss;
    tp->snd_una = tp->snd_recover = tp->t_ecn_recover = e->iss;
    if (e->flags & SCF_ECN) {
        tp->t_flags2 |= TF2_ECN_PERMIT;
        STAT_INC(stack, tcps_ecn_shs);
    }
    tp->snd_nxt = tp->snd_max = e->iss + 1;
    tp->irs = e->irs;
    tp->rcv_nxt = e->irs + 1;
    tp->rcv_adv = tp->rcv_nxt + e->wnd;
    tp->last_ack_sent = tp->rcv_nxt;
    tp->snd_wnd = th->win;
    tp->snd_wl1 = e->irs;
    tp->snd_wl2 = e->iss;

    tcb_child_attach(stack->tcp, l, tp);
    return tp;
}

/* Validation of the ACK against an entry (FreeBSD's order): 0, or the
 * syncache_expand error with the reason in *why (not yet counted). */
static int sc_validate(const struct sc_entry *e, const struct tcp_repr *th, bool tolerate_no_ts,
                       const char **why)
{
    bool has_ts = th->opts.present & TOF_TS;
    if (th->ack != e->iss + 1) {
        *why = "ACK is not ISS+1";
        return -ECONNREFUSED;
    }
    /* RFC 9293's acceptability test, as FreeBSD's syncache_expand applies
     * it: SEQ within the window our SYN-ACK offered, after the SYN. The
     * completing segment may be data whose predecessors were lost or
     * overtaken; it then waits out of order. At or before IRS it would be
     * data on the SYN, which we never acknowledged. */
    if (SEQ_LEQ(th->seq, e->irs) || SEQ_GT(th->seq, e->irs + e->wnd)) {
        *why = "SEQ outside the window after IRS";
        return -ECONNREFUSED;
    }
    if (!(e->flags & SCF_TIMESTAMP) && has_ts) {
        *why = "timestamp not negotiated";
        return -ECONNREFUSED;
    }
    if ((e->flags & SCF_TIMESTAMP) && !has_ts) {
        /* RFC 7323 3.2: drop, silently, a segment without the option,
         * unless net.inet.tcp.tolerate_missing_ts says to take it. */
        if (tolerate_no_ts)
            return 0;
        *why = "timestamp missing";
        return -EAGAIN;
    }
    if ((e->flags & SCF_TIMESTAMP) && th->opts.tsecr != e->ts) {
        *why = "TSecr is not the TSval we sent";
        return -ECONNREFUSED;
    }
    /* RFC 2385: the handshake is signed throughout or not at all (the
     * listener's keys changed between SYN and ACK); dropped silently. */
    if (!(e->flags & SCF_SIGNATURE) != !(th->opts.present & TOF_SIG)) {
        *why = "MD5 signature on the SYN and on the ACK disagree";
        return -EAGAIN;
    }
    return 0;
}

/* The ACK as a cookie: 0 with *e filled in, or -1. */
static int sc_cookie_ack(struct tcpc_stack *stack, struct syncache *sc, const struct tcpcb *l,
                         const struct ip_repr *ip, const struct tcp_repr *th, bool v6,
                         struct sc_entry *e)
{
    struct syncookie_params p;
    struct syncookie_tuple t = {&ip->dst, &ip->src, th->dport, th->sport,
                                (th->opts.present & TOF_SIG) != 0};
    bool has_ts = (th->opts.present & TOF_TS) && stack->cfg.tun.rfc1323;
    if (syncookie_check(&sc->cookies, &stack->rand, stack->now, &t, th->seq - 1, th->ack - 1,
                        has_ts, th->opts.tsecr, &p) != 0)
        return -1;
    STAT_INC(stack, tcps_sc_recvcookie);
    sc_from_cookie(stack, l, th, v6, &p, e);
    return 0;
}

/* A handshake that cannot have its connection: -ECONNREFUSED (the caller
 * resets) or, with net.inet.tcp.syncache.rst_on_sock_fail 0, -EAGAIN
 * (dropped). */
static int sc_sock_fail(const struct tcpc_stack *stack)
{
    return stack->cfg.tun.sc_rst_on_sock_fail ? -ECONNREFUSED : -EAGAIN;
}

/*
 * May an ACK that failed entry e's check be tried as a cookie? Only for the
 * entry's own SYN (SEQ = IRS + 1, so a forger must know the client's ISN
 * as well as beat the digest), and never for a TIME_WAIT reopen, whose
 * connection must start at the ISS the entry holds.
 */
static bool sc_cookie_fallback(const struct tcpc_stack *stack, const struct sc_entry *e,
                               const struct tcp_repr *th)
{
    return sc_cookies_enabled(stack) && !(e->flags & SCF_REOPEN) && th->seq == e->irs + 1;
}

int syncache_expand(struct tcpc_stack *stack, struct tcpcb *l, const struct ip_repr *ip,
                    const struct tcp_repr *th, struct tcpcb **out)
{
    struct syncache *sc = sc_of(stack);
    struct sc_key k;
    sc_key_of(&k, &ip->dst, &ip->src, th->dport, th->sport);
    struct sc_entry e;
    struct sc_bucket *b = NULL;
    struct sc_entry *found = NULL;
    uint32_t idx = SC_NIL, pos = 0;
    /* During an attack the table is empty or nearly: skip the hash when
     * there is nothing to find and the answer does not depend on it. */
    if (sc->count > 0 || !syncache_cookies_only(stack)) {
        b = sc_bucket_of(sc, &k);
        found = sc_lookup(sc, b, &k, &idx, &pos);
    }
    bool cached = found != NULL;
    if (found) {
        const char *why = NULL;
        int err = sc_validate(found, th, stack->cfg.tun.tolerate_missing_ts, &why);
        if (err == 0) {
            e = *found;
        } else if (sc_cookie_fallback(stack, found, th) &&
                   sc_cookie_ack(stack, sc, l, ip, th, k.v6, &e) == 0) {
            cached = false; /* the connection is the cookie's; the entry goes */
        } else {
            stack_drop(stack, TCPC_STAT_tcps_sc_badack, why);
            return err; /* the entry stays: a blind forger cannot remove it */
        }
        sc_remove(sc, b, idx, pos);
    } else {
        if (!sc_cookie_honoured(stack, sc, b)) {
            stack_drop(stack, TCPC_STAT_tcps_sc_spurcookie, "ACK to a listener, no entry");
            return -ECONNREFUSED;
        }
        if (sc_cookie_ack(stack, sc, l, ip, th, k.v6, &e) != 0) {
            stack_drop(stack, TCPC_STAT_tcps_sc_failcookie, "SYN cookie failed validation");
            return -ECONNREFUSED;
        }
    }
    /*
     * A full accept queue: FreeBSD's sonewconn refuses once the completed
     * queue passes 3/2 of the backlog, the entry is gone, and the peer gets
     * a RST (net.inet.tcp.syncache.rst_on_sock_fail, on by default; off,
     * the ACK is dropped and the peer finds out by its timeouts). The peer thinks
     * the connection is established; a silent drop would leave it sending
     * into a void until it times out, while the RST tells it at once that
     * the server is overloaded. Same for a control block we cannot have
     * (maxsockets or memory).
     */
    struct tcpcb *tp = NULL;
    if (l->q_len < l->q_limit + l->q_limit / 2 + 1)
        tp = sc_socket(stack, l, &e, cached, ip, th);
    if (!tp) {
        STAT_INC(stack, tcps_sc_aborted);
        stack_drop(stack, TCPC_STAT_tcps_listendrop, "accept queue full or no control block");
        return sc_sock_fail(stack);
    }
    /* Past every other way to fail: the TIME_WAIT record a reopen kept
     * gives its 4-tuple to the new connection now, and not before. */
    if (e.flags & SCF_REOPEN)
        tw_reopened(stack, &ip->dst, th->dport, &ip->src, th->sport);
    /* The 4-tuple may be held already, by a connection or a TIME_WAIT
     * record that this handshake's segments missed because the NIC gave
     * them a wrong flow hash. It must not be indexed twice (nor the new
     * connection left unindexed): refused, and the peer told, as for any
     * completion that cannot have its control block. */
    if (demux_insert(stack, tp, &ip->dst, th->dport, &ip->src, th->sport) != 0) {
        tcb_free(stack, tp);
        stack_drop(stack, TCPC_STAT_tcps_inshash_fail, "4-tuple already in the connection table");
        return sc_sock_fail(stack);
    }
    STAT_INC(stack, tcps_sc_completed);
    *out = tp;
    return 0;
}

/* ---- RST and ICMP ------------------------------------------------------- */

static void sc_challenge_ack(struct tcpc_stack *stack, struct syncache *sc, uint32_t idx,
                             const struct sc_entry *e)
{
    tcpc_time_t now = stack->now;
    if (now - sc->challenge_start >= TCPC_USEC_PER_SEC) {
        sc->challenge_start = now;
        sc->challenge_count = 0;
    }
    if (sc->challenge_count >= (uint32_t)stack->cfg.tun.ack_limit) {
        STAT_INC(stack, tcps_challenge_ack_limited);
        return;
    }
    sc->challenge_count++;
    STAT_INC(stack, tcps_challenge_ack);
    struct tcpc_addr laddr, faddr;
    sc_addrs(idx, e, &laddr, &faddr);
    sc_emit(stack, e, &laddr, &faddr, TH_ACK, NULL);
}

void syncache_chkrst(struct tcpc_stack *stack, const struct ip_repr *ip, const struct tcp_repr *th)
{
    struct syncache *sc = sc_of(stack);
    /* SYN or FIN with an RST make no sense. The ACK bit and field are not
     * looked at: RFC 9293 3.10.7.4 judges an RST in SYN-RECEIVED by its
     * sequence number alone, and so does FreeBSD's syncache, so a peer's
     * RST|ACK answering our SYN-ACK (the common form) removes the entry.
     * The sequence tests below are the RFC 5961 protection, ACK or not. */
    if (th->flags & (TH_SYN | TH_FIN)) {
        stack_drop(stack, TCPC_STAT_tcps_badrst, "RST with SYN or FIN to a listener");
        return;
    }
    struct sc_key k;
    sc_key_of(&k, &ip->dst, &ip->src, th->dport, th->sport);
    struct sc_entry *e = NULL;
    uint32_t idx, pos;
    struct sc_bucket *b = NULL;
    if (sc->count > 0) {
        b = sc_bucket_of(sc, &k);
        e = sc_lookup(sc, b, &k, &idx, &pos);
    }
    if (!e) {
        stack_drop(stack, TCPC_STAT_tcps_badrst, "RST to a listener, no SYN cache entry");
        return;
    }
    /* RFC 5961 3.2: only an exact match resets; in the window, challenge
     * (net.inet.tcp.insecure_rst: anywhere in the window resets). */
    uint32_t rcv_nxt = e->irs + 1;
    bool in_window = SEQ_GEQ(th->seq, rcv_nxt) && SEQ_LT(th->seq, rcv_nxt + e->wnd);
    if (th->seq == rcv_nxt || (in_window && stack->cfg.tun.insecure_rst)) {
        sc_remove(sc, b, idx, pos);
        STAT_INC(stack, tcps_sc_reset);
    } else if (in_window) {
        sc_challenge_ack(stack, sc, idx, e);
    } else {
        stack_drop(stack, TCPC_STAT_tcps_badrst, "RST outside the SYN cache entry's window");
    }
}

bool syncache_unreach(struct tcpc_stack *stack, const struct icmp_repr *icmp)
{
    struct syncache *sc = sc_of(stack);
    if (icmp->kind != ICMP_KIND_UNREACH || sc->count == 0)
        return false;
    struct sc_key k;
    sc_key_of(&k, &icmp->quoted_src, &icmp->quoted_dst, icmp->quoted_sport, icmp->quoted_dport);
    struct sc_bucket *b = sc_bucket_of(sc, &k);
    uint32_t idx, pos;
    struct sc_entry *e = sc_lookup(sc, b, &k, &idx, &pos);
    /* RFC 5927: an error must quote what we sent, the SYN-ACK's ISS. */
    if (!e || icmp->quoted_seq != e->iss)
        return false;
    if (!(e->flags & SCF_UNREACH) || e->rxmits < SC_UNREACH_REXMITS) {
        e->flags |= SCF_UNREACH; /* also stops DF on later SYN-ACKs */
        return true;
    }
    sc_remove(sc, b, idx, pos);
    STAT_INC(stack, tcps_sc_unreach);
    return true;
}

/* ---- Listing ------------------------------------------------------------ */

int syncache_pcblist(struct tcpc_stack *stack, tcpc_conn_fn fn, void *ctx)
{
    struct syncache *sc = sc_of(stack);
    if (!sc || sc->count == 0)
        return 0;
    for (uint32_t i = 0; i <= sc->hashmask; i++) {
        const struct sc_bucket *b = &sc->buckets[i];
        for (uint32_t pos = b->len; pos-- > 0;) { /* newest first */
            uint32_t idx = sc_slots(sc, b)[pos];
            const struct sc_entry *e = sc_at(sc, idx);
            struct tcpc_conninfo ci = {
                .kind = TCPC_CONN_SYNCACHE,
                .state = TCPS_SYN_RECEIVED,
                .sd = -1,
                .lport = e->lport,
                .fport = e->fport,
            };
            sc_addrs(idx, e, &ci.laddr, &ci.faddr);
            int stop = fn(ctx, &ci);
            if (stop)
                return stop;
        }
    }
    return 0;
}

uint32_t syncache_pcbcount(const struct tcpc_stack *stack)
{
    const struct syncache *sc = sc_of(stack);
    return sc ? sc->count : 0;
}
