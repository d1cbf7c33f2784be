/*
 * RACK-TLP (RFC 8985); see tcp_rack.h.
 */
#include "tcp/tcp_rack.h"

#include <string.h>

#include "core/stack.h"
#include "tcp/tcp_cc.h"
#include "tcp/tcp_recovery.h"
#include "tcp/tcp_sack.h"
#include "tcp/tcp_subr.h"
#include "util/seq.h"

/* RFC 8985 7.2's WCDelAckT: the longest a peer may delay the ACK of a
 * lone segment. */
#define RACK_WCDELACK (200 * TCPC_USEC_PER_MSEC)
/* A probe's wait without an RTT sample, and its floor with one (as
 * FreeBSD's RACK stack's tlpminto): on a path of microseconds a probe
 * would chase every ACK a peer delays. */
#define RACK_PTO_NOSRTT TCPC_USEC_PER_SEC
#define RACK_PTO_MIN    (10 * TCPC_USEC_PER_MSEC)
/* A reordering window's floor, when there is one (FreeBSD's RACK stack
 * adds its pktdelay, 1 ms, the same way): below it the clock's and the
 * peer's jitter would pass for loss. */
#define RACK_REO_MIN TCPC_USEC_PER_MSEC
/* Recoveries a widened reordering window outlasts (RFC 8985 6.2). */
#define RACK_REO_PERSIST 16
/* Widenings at most, as t_reo_steps holds them: seven make the window
 * twice the minimum RTT, and it never exceeds SRTT anyway. */
#define RACK_REO_MAX_STEPS 7

static uint32_t rack_now(const struct tcpc_stack *stack)
{
    return (uint32_t)stack->now;
}

bool rack_enabled(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return stack->cfg.tun.rack_enable && (tp->t_flags & TF_SACK_PERMIT);
}

static struct rack *rack_of(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    if (!rack_enabled(stack, tp))
        return NULL;
    struct tcp_sack *sk = sack_of(stack, tp);
    return sk && sk->rack.nspan ? &sk->rack : NULL;
}

/* Where span i ends. */
static uint32_t rack_span_end(const struct rack *r, unsigned i, uint32_t snd_max)
{
    return i + 1 < r->nspan ? r->span[i + 1].start : snd_max;
}

/* ---- Send times ---- */

/* Spans being rebuilt: room for the split a stamp makes before merging. */
struct span_buf {
    struct rack_span s[RACK_SPANS + 3];
    uint8_t f[RACK_SPANS + 3];
    unsigned n;
};

/* The later and the earlier of two clock readings. */
static uint32_t time_max(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0 ? a : b;
}

static uint32_t time_min(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0 ? b : a;
}

/* sp's times and flags at start (or the previous span runs on). */
static void span_push(struct span_buf *b, uint32_t start, const struct rack_span *sp, uint8_t fl)
{
    if (b->n && b->s[b->n - 1].xmit == sp->xmit && b->s[b->n - 1].first == sp->first &&
        b->f[b->n - 1] == fl)
        return;
    b->s[b->n] = *sp;
    b->s[b->n].start = start;
    b->f[b->n++] = fl;
}

/* What merging spans k and k + 1 costs: nothing when the peer holds one
 * of them (its times are never read again: neither loss nor delivery
 * looks at SACKed bytes), else the range of send times the merged span
 * would cover (its uncertainty), flags that differ counting as far apart
 * (a lost mark merged away or spread is a cost). */
static uint64_t span_gap(const struct span_buf *b, const bool *held, unsigned k)
{
    if (held[k] || held[k + 1])
        return 0;
    const struct rack_span *s0 = &b->s[k], *s1 = &b->s[k + 1];
    uint64_t gap = time_max(s0->xmit, s1->xmit) - time_min(s0->first, s1->first);
    return b->f[k] == b->f[k + 1] ? gap : gap + (1ULL << 32);
}

/* Down to RACK_SPANS: the cheapest neighbours merge. A span the peer
 * holds takes its neighbour's times and marks; otherwise the merged span
 * covers both ranges of times, lost only if both were. Without that, in a
 * recovery whose spans alternate resent holes and SACKed islands, the
 * flight's unSACKed tail merged with every new segment and kept the time
 * of its oldest byte: no delivery could then tell RACK that anything sent
 * since was lost, and a lost retransmission waited for the timeout. */
static void span_compact(struct span_buf *b, const struct tcp_sack *sk, uint32_t snd_max)
{
    if (b->n <= RACK_SPANS)
        return;
    bool held[RACK_SPANS + 3];
    for (unsigned k = 0; k < b->n; k++)
        held[k] = sack_covers(sk, b->s[k].start, k + 1 < b->n ? b->s[k + 1].start : snd_max);
    while (b->n > RACK_SPANS) {
        unsigned best = 0;
        for (unsigned k = 1; k + 1 < b->n; k++)
            if (span_gap(b, held, k) < span_gap(b, held, best))
                best = k;
        struct rack_span *s0 = &b->s[best];
        const struct rack_span *s1 = &b->s[best + 1];
        uint8_t f0 = b->f[best], f1 = b->f[best + 1];
        if (held[best] && !held[best + 1]) {
            uint32_t start = s0->start;
            *s0 = *s1;
            s0->start = start;
            b->f[best] = f1;
        } else if (!held[best + 1]) {
            /* The rate stamp of the earlier part: a sample from it spans
             * more time, never less than the bytes took. */
            bool s1_earlier = (int32_t)(s1->first - s0->first) < 0;
            if (s1_earlier)
                s0->rate = s1->rate;
            s0->xmit = time_max(s0->xmit, s1->xmit);
            s0->first = time_min(s0->first, s1->first);
            b->f[best] = (uint8_t)(((f0 | f1) & RS_RXT) | (f0 & f1 & RS_LOST) |
                                   ((s1_earlier ? f1 : f0) & RS_APPLIM));
        }
        held[best] = held[best] && held[best + 1];
        unsigned tail = b->n - best - 2;
        memmove(b->s + best + 1, b->s + best + 2, tail * sizeof(b->s[0]));
        memmove(b->f + best + 1, b->f + best + 2, tail);
        memmove(held + best + 1, held + best + 2, tail * sizeof(held[0]));
        b->n--;
    }
}

/* [seq, e) takes the times of *t and flags fl: it was sent then, or it
 * keeps its span's times and takes a mark. */
static void rack_stamp(struct tcp_sack *sk, uint32_t seq, uint32_t e, struct rack_span t,
                       uint8_t fl, uint32_t snd_max)
{
    struct rack *r = &sk->rack;
    if (SEQ_LT(seq, r->span[0].start))
        seq = r->span[0].start;
    if (!SEQ_LT(seq, e))
        return;
    struct span_buf b; /* only b.s[0..n) is read: no need to clear the rest */
    b.n = 0;
    unsigned j = 0; /* the last span starting at or before e */
    for (unsigned i = 0; i < r->nspan; i++) {
        if (SEQ_LT(r->span[i].start, seq))
            span_push(&b, r->span[i].start, &r->span[i], r->sflags[i]);
        if (SEQ_LEQ(r->span[i].start, e))
            j = i;
    }
    span_push(&b, seq, &t, fl);
    if (SEQ_LT(e, snd_max)) {
        span_push(&b, e, &r->span[j], r->sflags[j]);
        for (unsigned i = j + 1; i < r->nspan; i++)
            span_push(&b, r->span[i].start, &r->span[i], r->sflags[i]);
    }
    span_compact(&b, sk, snd_max);
    memcpy(r->span, b.s, b.n * sizeof(b.s[0]));
    memcpy(r->sflags, b.f, b.n);
    r->nspan = (uint8_t)b.n;
}

/* New data from snd_max sent as t says with flags fl: usually the last
 * span runs on (sent at the same time) or a span is appended; only a full
 * list takes the general path. */
static void rack_append(struct tcp_sack *sk, struct rack_span t, uint8_t fl, uint32_t snd_max,
                        uint32_t end)
{
    struct rack *r = &sk->rack;
    unsigned last = r->nspan - 1u;
    if (r->span[last].xmit == t.xmit && r->sflags[last] == fl)
        return;
    t.start = snd_max;
    if (r->nspan < RACK_SPANS) {
        r->span[r->nspan] = t;
        r->sflags[r->nspan++] = fl;
        return;
    }
    rack_stamp(sk, snd_max, end, t, fl, end);
}

/* What a range sent now keeps: its time, and for an algorithm that takes
 * delivery-rate samples the connection's delivery state (flight_empty: a
 * flight starts with it). */
static struct rack_span rack_send_stamp(const struct tcpcb *tp, struct rack *r, uint32_t now,
                                        bool flight_empty, uint8_t *fl)
{
    struct rack_span t = {.xmit = now, .first = now};
    *fl = 0;
    if (tp->t_flags2 & TF2_CC_RATE) {
        bool applim;
        rate_stamp_take(&r->rate, now, flight_empty, &t.rate, &applim);
        *fl = applim ? RS_APPLIM : 0;
    }
    return t;
}

void rack_sent(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t seq, uint32_t end)
{
    if (!rack_enabled(stack, tp) || !SEQ_LT(seq, end) || !TCPS_HAVEESTABLISHED(tp->state))
        return;
    struct tcp_sack *sk = sack_take(stack, tp, false);
    if (!sk)
        return;
    struct rack *r = &sk->rack;
    uint32_t now = rack_now(stack);
    uint8_t fl;
    struct rack_span t = rack_send_stamp(tp, r, now, r->nspan == 0, &fl);
    if (r->nspan == 0) {
        /* A flight starts (or the record came late: what is out counts
         * as sent now, so none of it is condemned early). */
        r->span[0] = t;
        r->span[0].start = tp->snd_una;
        r->sflags[0] = fl;
        r->nspan = 1;
        r->fack = tp->snd_una;
    }
    if (SEQ_LT(seq, tp->snd_max))
        rack_stamp(sk, seq, SEQ_LT(end, tp->snd_max) ? end : tp->snd_max, t, RS_RXT | fl,
                   tp->snd_max);
    if (SEQ_GT(end, tp->snd_max))
        rack_append(sk, t, fl, tp->snd_max, end);
}

/* Forgets what the cumulative ACK covers. */
static void rack_prune(struct rack *r, uint32_t ack, uint32_t snd_max)
{
    if (!r->nspan)
        return;
    if (SEQ_GEQ(ack, snd_max)) {
        r->nspan = 0;
        return;
    }
    unsigned k = 0;
    while (k + 1u < r->nspan && SEQ_LEQ(r->span[k + 1].start, ack))
        k++;
    if (k) {
        memmove(r->span, r->span + k, (r->nspan - k) * sizeof(r->span[0]));
        memmove(r->sflags, r->sflags + k, r->nspan - k);
        r->nspan = (uint8_t)(r->nspan - k);
    }
    if (SEQ_LT(r->span[0].start, ack))
        r->span[0].start = ack;
}

/* ---- Deliveries (RFC 8985 6.2 steps 1-3) ---- */

/* [a, b) was delivered (acknowledged or SACKed) by this ACK; fack0 is the
 * highest delivery before it. sk's scoreboard is the one before the ACK,
 * so ranges it already held are no news. */
static void rack_delivered(const struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_sack *sk,
                           uint32_t a, uint32_t b, uint32_t fack0)
{
    struct rack *r = &sk->rack;
    uint32_t now = rack_now(stack);
    for (unsigned i = 0; i < r->nspan; i++) {
        uint32_t s = r->span[i].start, e = rack_span_end(r, i, tp->snd_max);
        uint32_t pa = SEQ_GT(s, a) ? s : a, pb = SEQ_LT(e, b) ? e : b;
        if (!SEQ_LT(pa, pb))
            continue;
        /* The lowest byte this ACK is the news of: a span holds many
         * segments, so its part's end says nothing of their order. */
        uint32_t fresh = sack_first_unsacked(sk, pa, pb);
        if (fresh == pb)
            continue;
        /* The earliest the bytes can have gone (rack_span): an RTT no
         * shorter than theirs, a RACK.xmit no later. */
        uint32_t x = r->span[i].first;
        uint32_t rtt = now - x;
        bool rxt = r->sflags[i] & RS_RXT;
        if (tp->t_flags2 & TF2_CC_RATE)
            rate_delivered(&r->rate, &r->span[i].rate, x, pb, r->sflags[i] & RS_APPLIM);
        /* A retransmission acknowledged sooner than the path allows was
         * the original's delivery: no sample (step 2); sooner than that
         * after the latest of the span's sends is reason enough. */
        if (rxt && (!r->min_rtt || now - r->span[i].xmit < r->min_rtt))
            continue;
        if (!rxt && SEQ_LT(fresh, fack0))
            tp->t_reordered = 1; /* step 3: delivered below a later delivery */
        if (!r->min_rtt || rtt < r->min_rtt)
            r->min_rtt = rtt ? rtt : 1;
        if (!(r->flags & RACK_XMIT) || sent_after(x, pb, r->xmit, r->end_seq)) {
            r->xmit = x;
            r->end_seq = pb;
            r->rtt = rtt;
            r->flags |= RACK_XMIT;
        }
        if (SEQ_GT(pb, r->fack))
            r->fack = pb;
    }
}

/* RFC 8985 6.2 step 4: one widening per round trip with D-SACKs. */
static void rack_reo_update(struct tcpc_stack *stack, struct tcpcb *tp, struct rack *r, bool dsack,
                            uint32_t ack)
{
    if ((r->flags & RACK_DSACK) && SEQ_GEQ(ack, r->dsack_round))
        r->flags &= (uint8_t)~RACK_DSACK;
    if ((r->flags & RACK_DSACK) || !dsack)
        return;
    r->flags |= RACK_DSACK;
    r->dsack_round = tp->snd_max;
    if (tp->t_reo_steps < RACK_REO_MAX_STEPS)
        tp->t_reo_steps++;
    tp->t_reo_persist = RACK_REO_PERSIST - 1;
    STAT_INC(stack, tcps_rack_reowin);
}

/*
 * RFC 8985 7.4: the probe's outcome. A D-SACK of it says the original
 * arrived. A retransmitted probe acknowledged with none, at least a round
 * trip after it went (sooner, the ACK was the original's), repaired a
 * loss: the window comes down as after a fast recovery.
 */
static void rack_tlp_ack(struct tcpc_stack *stack, struct tcpcb *tp, struct rack *r,
                         const struct tcp_opts *o, bool dsack, uint32_t ack)
{
    if (!(r->flags & RACK_TLP))
        return;
    if (dsack && SEQ_GEQ(o->sack[0].end, r->tlp_end - tcp_seg_payload(tp) - 1)) {
        r->flags &= (uint8_t) ~(RACK_TLP | RACK_TLP_RXT);
        return;
    }
    if (SEQ_LT(ack, r->tlp_end))
        return;
    bool rxt = r->flags & RACK_TLP_RXT;
    r->flags &= (uint8_t) ~(RACK_TLP | RACK_TLP_RXT);
    uint32_t since = rack_now(stack) - r->tlp_xmit;
    if (!rxt || since < r->min_rtt || (tp->t_flags & TF_FASTRECOV))
        return;
    STAT_INC(stack, tcps_tlp_loss);
    cc_cong_signal(stack, tp, CC_NDUPACK);
    cc_post_recovery(stack, tp, tp->snd_max - ack);
}

/*
 * An ACK of the whole flight frees the record (sack_release, right after
 * rack_ack) unless it holds more than the send times: its deliveries are
 * no news to a flight that has ended, and a record taken again starts
 * clear but for what the connection keeps (t_reordered, t_reo_steps: a
 * D-SACK on this ACK still counts; its round is over, since the ACK is
 * past everything sent). The minimum RTT is the flight's own, a window
 * that closes when the connection has nothing in flight. Only a probe's
 * outcome (rack_tlp_ack) and a rate sample (TF2_CC_RATE) read it first.
 */
static bool rack_ack_ends_record(const struct tcpcb *tp, const struct tcp_sack *sk, uint32_t ack)
{
    return SEQ_GEQ(ack, tp->snd_max) && !(sk->rack.flags & RACK_TLP) &&
           !(tp->t_flags2 & TF2_CC_RATE) && !sack_holds_more(tp, sk);
}

void rack_ack(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_opts *o, uint32_t ack)
{
    struct tcp_sack *sk = sack_of(stack, tp);
    if (!sk || !sk->rack.nspan)
        return;
    struct rack *r = &sk->rack;
    if (!rack_enabled(stack, tp)) {
        r->nspan = 0; /* turned off meanwhile: the record need not stay */
        return;
    }
    bool dsack = sack_has_dsack(o, ack);
    if (rack_ack_ends_record(tp, sk, ack)) {
        rack_reo_update(stack, tp, r, dsack, ack); /* for its count */
        r->nspan = 0;
        return;
    }
    r->rate.p_flags = 0; /* a sample's candidate is this ACK's own */
    uint32_t fack0 = r->fack;
    if (SEQ_GT(ack, tp->snd_una))
        rack_delivered(stack, tp, sk, tp->snd_una, ack, fack0);
    for (unsigned i = dsack ? 1 : 0; (o->present & TOF_SACK) && i < o->nsack; i++) {
        const struct tcp_sack_block *b = &o->sack[i];
        if (SEQ_LT(b->start, b->end) && SEQ_LEQ(b->end, tp->snd_max))
            rack_delivered(stack, tp, sk, b->start, b->end, fack0);
    }
    rack_reo_update(stack, tp, r, dsack, ack);
    rack_tlp_ack(stack, tp, r, o, dsack, ack);
    rack_prune(r, ack, tp->snd_max);
}

/* ---- Delivery rate (tcp_rate.h) ---- */

bool rack_rate_ack(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t bytes,
                   struct rate_sample *rs)
{
    struct tcp_sack *sk = sack_of(stack, tp);
    if (!sk)
        return false;
    struct rack *r = &sk->rack;
    rate_ack(&r->rate, rack_now(stack), bytes, r->min_rtt, rs);
    if (rs->interval)
        r->rate.last = *rs;
    return true;
}

void rack_rate_app_limited(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct tcp_sack *sk = sack_of(stack, tp);
    if (!sk || !TCPS_HAVEESTABLISHED(tp->state))
        return;
    /* Limited by the application, not by the window or by repair: less
     * than a segment left to send, the congestion window not filled, and
     * nothing lost waiting to be resent. */
    uint32_t flight = tp->snd_max - tp->snd_una;
    if (tcp_sb_unsent(tp) >= tcp_seg_payload(tp) || flight >= tp->snd_cwnd ||
        (tp->t_flags & TF_FASTRECOV) || tp->snd_nxt != tp->snd_max || rack_has_lost(tp, sk))
        return;
    rate_mark_app_limited(&sk->rack.rate, flight);
}

/* ---- Loss detection (RFC 8985 6.2 step 5) ---- */

/* RACK.reo_wnd, microseconds. */
static uint32_t rack_reo_wnd(const struct tcpcb *tp, const struct tcp_sack *sk)
{
    const struct rack *r = &sk->rack;
    if (!tp->t_reordered) {
        /* No reordering seen: in recovery, or with DupThresh segments
         * SACKed, what was sent before the delivery is lost at once. */
        if ((tp->t_flags & TF_FASTRECOV) || SEQ_LT(tp->snd_una, tp->snd_recover))
            return 0;
        if (sk->sacked > (TCP_DUPTHRESH - 1) * (uint32_t)tp->t_maxseg)
            return 0;
    }
    uint64_t base = r->min_rtt ? r->min_rtt : (uint64_t)tp->t_srtt;
    uint64_t w = base * (1u + tp->t_reo_steps) / 4;
    if (tp->t_srtt && w > (uint64_t)tp->t_srtt)
        w = (uint64_t)tp->t_srtt;
    if (w < RACK_REO_MIN)
        w = RACK_REO_MIN;
    return w > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)w;
}

/* The retransmission timer's slot goes to the reorder or probe timer,
 * unless the timeout it would stand in front of comes first. */
static void rack_arm(struct tcpc_stack *stack, struct tcpcb *tp, uint8_t which, tcpc_time_t delay)
{
    bool rto = tcp_timer_active(tp, TT_REXMT) && !(tp->t_flags2 & (TF2_RACK_TIMER | TF2_TLP_TIMER));
    tcpc_time_t rto_at = rto ? tp->t_deadline[TT_REXMT] : stack->now + tp->t_rxtcur;
    if (stack->now + delay >= rto_at)
        return;
    tcp_timer_set(stack, tp, TT_REXMT, delay);
    tp->t_flags2 |= which;
}

bool rack_has_lost(const struct tcpcb *tp, const struct tcp_sack *sk)
{
    const struct rack *r = &sk->rack;
    for (unsigned i = 0; i < r->nspan; i++) {
        if ((r->sflags[i] & RS_LOST) &&
            !sack_covers(sk, r->span[i].start, rack_span_end(r, i, tp->snd_max)))
            return true;
    }
    return false;
}

/* Where span i's part sent before RACK's segment ends, or its start when
 * there is none. */
static uint32_t rack_before_cut(const struct rack *r, unsigned i, uint32_t e)
{
    uint32_t x = r->span[i].xmit;
    if ((int32_t)(r->xmit - x) > 0)
        return e;
    if (x != r->xmit || (r->sflags[i] & RS_RXT))
        return r->span[i].start;                   /* a retransmission left after the original */
    return SEQ_LT(r->end_seq, e) ? r->end_seq : e; /* a tie: lower ends first */
}

bool rack_detect(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct rack *r = rack_of(stack, tp);
    if (!r)
        return false;
    struct tcp_sack *sk = sack_of(stack, tp);
    if (!(r->flags & RACK_XMIT))
        return rack_has_lost(tp, sk);
    uint32_t reo = rack_reo_wnd(tp, sk), now = rack_now(stack);
    uint32_t wait = 0;
    /* Ranges to mark, found first: marking splits spans. */
    uint32_t mark_s[RACK_SPANS], mark_e[RACK_SPANS];
    unsigned nmark = 0;
    for (unsigned i = 0; i < r->nspan; i++) {
        uint32_t s = r->span[i].start, e = rack_span_end(r, i, tp->snd_max);
        if (r->sflags[i] & RS_LOST)
            continue;
        uint32_t cut = rack_before_cut(r, i, e);
        if (!SEQ_LT(s, cut) || sack_covers(sk, s, cut))
            continue;
        int32_t remaining = (int32_t)(r->span[i].xmit + r->rtt + reo - now);
        if (remaining > 0) {
            if ((uint32_t)remaining > wait)
                wait = (uint32_t)remaining;
            continue;
        }
        mark_s[nmark] = s;
        mark_e[nmark++] = cut;
    }
    for (unsigned m = 0; m < nmark; m++) {
        /* The span holding mark_s[m] keeps its time and takes the mark. */
        unsigned i = 0;
        while (i + 1u < r->nspan && SEQ_LEQ(r->span[i + 1].start, mark_s[m]))
            i++;
        rack_stamp(sk, mark_s[m], mark_e[m], r->span[i], r->sflags[i] | RS_LOST, tp->snd_max);
        STAT_INC(stack, tcps_rack_loss);
    }
    if (wait)
        rack_arm(stack, tp, TF2_RACK_TIMER, wait);
    return rack_has_lost(tp, sk);
}

/* ---- Tail-loss probe (RFC 8985 7) ---- */

void rack_tlp_schedule(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct rack *r = rack_of(stack, tp);
    if (!r || !TCPS_HAVEESTABLISHED(tp->state) || tp->snd_una == tp->snd_max)
        return;
    /* Not in recovery, not after a timeout, one probe a flight. */
    if ((tp->t_flags & TF_FASTRECOV) || tp->t_rxtshift || tp->snd_nxt != tp->snd_max ||
        (r->flags & RACK_TLP) || (tp->t_flags2 & TF2_RACK_TIMER) ||
        tcp_timer_active(tp, TT_PERSIST))
        return;
    tcpc_time_t pto = RACK_PTO_NOSRTT;
    if (tp->t_srtt) {
        pto = 2 * tp->t_srtt;
        if (tp->snd_max - tp->snd_una <= tp->t_maxseg)
            pto += RACK_WCDELACK; /* a lone segment's ACK may be delayed */
        if (pto < RACK_PTO_MIN)
            pto = RACK_PTO_MIN;
    }
    rack_arm(stack, tp, TF2_TLP_TIMER, pto);
}

/* RFC 8985 7.3: new data if the peer's window takes a segment of it,
 * else the last segment again. */
static void rack_tlp_send(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct rack *r = rack_of(stack, tp);
    if (!r || tp->snd_una == tp->snd_max || (tp->t_flags & TF_FASTRECOV))
        return;
    STAT_INC(stack, tcps_tlp_probe);
    r->flags |= RACK_TLP;
    r->flags &= (uint8_t)~RACK_TLP_RXT;
    if (tcp_probe_new_data(stack, tp) <= 0) {
        uint32_t len;
        uint32_t seq = tcp_tail_seq(tp, tp->snd_una, &len);
        r->flags |= RACK_TLP_RXT;
        (void)tcp_rexmit_segment(stack, tp, seq, len);
    }
    /* The send may have taken the record's times; r stays valid (the
     * record is held while anything is in flight). */
    r->tlp_end = tp->snd_max;
    r->tlp_xmit = rack_now(stack);
}

void rack_timer_fire(struct tcpc_stack *stack, struct tcpcb *tp)
{
    uint8_t which = tp->t_flags2 & (TF2_RACK_TIMER | TF2_TLP_TIMER);
    tcp_timer_set(stack, tp, TT_REXMT, tp->t_rxtcur); /* the timeout behind it */
    if (which & TF2_TLP_TIMER) {
        rack_tlp_send(stack, tp);
        return;
    }
    STAT_INC(stack, tcps_rack_reordertimeo);
    if (rack_detect(stack, tp))
        recovery_rack_loss(stack, tp);
    tcp_output(stack, tp);
}

void rack_timeout(struct tcp_sack *sk)
{
    struct rack *r = &sk->rack;
    for (unsigned i = 0; i < r->nspan; i++)
        r->sflags[i] &= (uint8_t)~RS_LOST;
    r->flags &= (uint8_t) ~(RACK_TLP | RACK_TLP_RXT);
}

void rack_recovery_done(struct tcpcb *tp)
{
    if (!tp->t_reo_steps)
        return;
    if (tp->t_reo_persist)
        tp->t_reo_persist--;
    else
        tp->t_reo_steps = 0;
}

bool rack_resent(const struct tcp_sack *sk, uint32_t seq)
{
    const struct rack *r = &sk->rack;
    unsigned i = 0;
    if (!r->nspan || SEQ_LT(seq, r->span[0].start))
        return false;
    while (i + 1u < r->nspan && SEQ_LEQ(r->span[i + 1].start, seq))
        i++;
    return (r->sflags[i] & (RS_RXT | RS_LOST)) == RS_RXT;
}

bool rack_pieces(const struct tcp_sack *sk, uint32_t start, uint32_t end, rack_piece_fn fn,
                 void *ctx)
{
    const struct rack *r = &sk->rack;
    uint32_t run = start;
    uint8_t run_fl = 0;
    for (unsigned i = 0; i < r->nspan; i++) {
        uint32_t s = r->span[i].start;
        if (!SEQ_LT(s, end))
            break;
        uint32_t e = i + 1u < r->nspan ? r->span[i + 1].start : end;
        uint8_t fl = r->sflags[i] & (RS_LOST | RS_RXT);
        if (!SEQ_GT(e, start) || fl == run_fl)
            continue;
        uint32_t a = SEQ_GT(s, start) ? s : start;
        if (SEQ_GT(a, run) && fn(ctx, run, a, run_fl))
            return true;
        run = a;
        run_fl = fl;
    }
    return fn(ctx, run, end, run_fl);
}
