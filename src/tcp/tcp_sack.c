/*
 * SACK blocks received and sent, and the sender's scoreboard; see
 * tcp_sack.h.
 */
#include "tcp/tcp_sack.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core/stack.h"
#include "util/seq.h"

int sack_pool_init(struct tcp_state *ts, int64_t globalmaxholes)
{
    int64_t n = globalmaxholes / TCP_SACK_HOLES;
    return pool_init(&ts->sackpool, ts->mem, sizeof(struct tcp_sack), (uint32_t)(n > 0 ? n : 1));
}

void sack_pool_free(struct tcp_state *ts)
{
    pool_free(&ts->sackpool);
}

struct tcp_sack *sack_of(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return tp->t_sack ? pool_at(&stack->tcp->sackpool, tp->t_sack - 1) : NULL;
}

struct tcp_sack *sack_take(struct tcpc_stack *stack, struct tcpcb *tp, bool count)
{
    if (tp->t_sack)
        return pool_at(&stack->tcp->sackpool, tp->t_sack - 1);
    uint32_t idx = pool_get(&stack->tcp->sackpool);
    if (idx == POOL_NONE) {
        if (count)
            STAT_INC(stack, tcps_sack_sboverflow);
        return NULL;
    }
    struct tcp_sack *sk = pool_at(&stack->tcp->sackpool, idx);
    memset(sk, 0, offsetof(struct tcp_sack, rack.span));
    sk->high_rxt = tp->snd_una;
    tp->t_sack = idx + 1;
    return sk;
}

void sack_release(struct tcpc_stack *stack, struct tcpcb *tp, bool force)
{
    struct tcp_sack *sk = sack_of(stack, tp);
    if (!sk)
        return;
    /* RACK's send times are kept while a flight is out. */
    bool needed = sack_holds_more(tp, sk) || sk->rack.nspan;
    if (needed && !force)
        return;
    pool_put(&stack->tcp->sackpool, tp->t_sack - 1);
    tp->t_sack = 0;
}

/* ---- Receiver ---- */

/* The record a receiver notes len bytes of news in, when it reports
 * SACK blocks at all. */
static struct tcp_sack *sack_rcv_record(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t len)
{
    if (!(tp->t_flags & TF_SACK_PERMIT) || len == 0)
        return NULL;
    return sack_take(stack, tp, true);
}

void sack_rcv_segment(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t seq, uint32_t len)
{
    struct tcp_sack *sk = sack_rcv_record(stack, tp, len);
    if (!sk)
        return;
    /* Newest first; a position already listed moves to the front. */
    unsigned n = sk->nrecent;
    for (unsigned i = 0; i < n; i++) {
        if (sk->rcv_recent[i] == seq) {
            memmove(sk->rcv_recent + 1, sk->rcv_recent, i * sizeof(sk->rcv_recent[0]));
            sk->rcv_recent[0] = seq;
            return;
        }
    }
    if (n == TCP_SACK_MAX)
        n--;
    memmove(sk->rcv_recent + 1, sk->rcv_recent, n * sizeof(sk->rcv_recent[0]));
    sk->rcv_recent[0] = seq;
    sk->nrecent = (uint8_t)(n + 1);
}

void sack_rcv_duplicate(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t seq, uint32_t len)
{
    struct tcp_sack *sk = sack_rcv_record(stack, tp, len);
    if (!sk)
        return;
    sk->dsack = (struct tcp_sack_block){seq, seq + len};
    sk->dsack_owed = 1;
    /* Reported at once, as FreeBSD does: a delayed ACK would wait for the
     * next segment, whose own news then takes the block's place. */
    tp->t_flags |= TF_ACKNOW;
}

void sack_rcv_held_part(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t off, uint32_t len)
{
    uint32_t end = off + len;
    /* Ranges are sorted: the first one reaching past off is the lowest
     * that can share bytes with the segment. */
    for (unsigned i = 0; i < tp->rcv_reass.nranges; i++) {
        const struct sb_range *r = &tp->rcv_reass.ranges[i];
        if (r->end <= off)
            continue;
        if (r->start >= end)
            return;
        uint32_t lo = r->start > off ? r->start : off;
        uint32_t hi = r->end < end ? r->end : end;
        sack_rcv_duplicate(stack, tp, tp->rcv_nxt + lo, hi - lo);
        return;
    }
}

/* The reassembly range holding sequence number seq, as a block; false
 * when none does (the data became in order, or seq is stale). */
static bool sack_range_of(const struct tcpcb *tp, uint32_t seq, struct tcp_sack_block *b)
{
    uint32_t off = seq - tp->rcv_nxt;
    for (unsigned i = 0; i < tp->rcv_reass.nranges; i++) {
        const struct sb_range *r = &tp->rcv_reass.ranges[i];
        if (SEQ_GEQ(seq, tp->rcv_nxt) && r->start <= off && off < r->end) {
            *b = (struct tcp_sack_block){tp->rcv_nxt + r->start, tp->rcv_nxt + r->end};
            return true;
        }
    }
    return false;
}

static bool sack_listed(const struct tcp_opts *o, unsigned from, const struct tcp_sack_block *b)
{
    for (unsigned i = from; i < o->nsack; i++)
        if (o->sack[i].start == b->start && o->sack[i].end == b->end)
            return true;
    return false;
}

static void sack_put_block(struct tcp_opts *o, unsigned from, struct tcp_sack_block b)
{
    if (o->nsack < TCP_SACK_MAX && !sack_listed(o, from, &b))
        o->sack[o->nsack++] = b;
}

void sack_fill_options(const struct tcpc_stack *stack, const struct tcpcb *tp, struct tcp_opts *o)
{
    if (!(tp->t_flags & TF_SACK_PERMIT))
        return;
    const struct tcp_sack *sk = sack_of(stack, tp);
    unsigned from = 0; /* a D-SACK block may repeat a range below it */
    if (sk && sk->dsack_owed) {
        o->sack[o->nsack++] = sk->dsack;
        /* RFC 2883 2: a duplicate inside an out-of-order island is
         * followed by that island's block. */
        struct tcp_sack_block held;
        if (sack_range_of(tp, sk->dsack.start, &held))
            o->sack[o->nsack++] = held;
        from = 1;
    }
    for (unsigned i = 0; sk && i < sk->nrecent; i++) {
        struct tcp_sack_block b;
        if (sack_range_of(tp, sk->rcv_recent[i], &b))
            sack_put_block(o, from, b);
    }
    /* Islands not recently reported (or no record): highest first, the
     * most likely to be the newest. */
    for (unsigned i = tp->rcv_reass.nranges; i-- > 0;) {
        const struct sb_range *r = &tp->rcv_reass.ranges[i];
        sack_put_block(o, from,
                       (struct tcp_sack_block){tp->rcv_nxt + r->start, tp->rcv_nxt + r->end});
    }
    if (o->nsack)
        o->present |= TOF_SACK;
}

void sack_options_sent(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_opts *o)
{
    if (!(o->present & TOF_SACK))
        return;
    STAT_INC(stack, tcps_sack_send_blocks);
    struct tcp_sack *sk = sack_of(stack, tp);
    if (!sk)
        return;
    /* Forget positions whose data became in order. */
    unsigned n = 0;
    for (unsigned i = 0; i < sk->nrecent; i++) {
        struct tcp_sack_block b;
        if (sack_range_of(tp, sk->rcv_recent[i], &b))
            sk->rcv_recent[n++] = sk->rcv_recent[i];
    }
    sk->nrecent = (uint8_t)n;
    sk->dsack_owed = 0;
    sack_release(stack, tp, false);
}

/* ---- Sender ---- */

void sack_clear(struct tcp_sack *sk)
{
    sk->nsb = 0;
    sk->sacked = 0;
}

/* Drops what lies below the cumulative ACK. */
static void sack_prune(struct tcp_sack *sk, uint32_t ack)
{
    unsigned n = 0;
    uint32_t sacked = 0;
    for (unsigned i = 0; i < sk->nsb; i++) {
        struct tcp_sack_block b = sk->sb[i];
        if (SEQ_LEQ(b.end, ack))
            continue;
        if (SEQ_LT(b.start, ack))
            b.start = ack;
        sk->sb[n++] = b;
        sacked += b.end - b.start;
    }
    sk->nsb = (uint8_t)n;
    sk->sacked = sacked;
}

/* Merges b into the sorted, disjoint scoreboard; past TCP_SACK_HOLES
 * ranges the highest is forgotten. */
static void sack_add(struct tcpc_stack *stack, struct tcp_sack *sk, struct tcp_sack_block b)
{
    struct tcp_sack_block out[TCP_SACK_HOLES + 1];
    unsigned n = 0;
    bool placed = false;
    for (unsigned i = 0; i < sk->nsb; i++) {
        struct tcp_sack_block r = sk->sb[i];
        if (SEQ_LT(r.end, b.start)) {
            out[n++] = r;
        } else if (SEQ_LT(b.end, r.start)) {
            if (!placed) {
                out[n++] = b;
                placed = true;
            }
            out[n++] = r;
        } else {
            b.start = SEQ_LT(r.start, b.start) ? r.start : b.start;
            b.end = SEQ_GT(r.end, b.end) ? r.end : b.end;
        }
    }
    if (!placed)
        out[n++] = b;
    if (n > TCP_SACK_HOLES) {
        STAT_INC(stack, tcps_sack_sboverflow);
        n = TCP_SACK_HOLES;
    }
    uint32_t sacked = 0;
    for (unsigned i = 0; i < n; i++)
        sacked += out[i].end - out[i].start;
    memcpy(sk->sb, out, n * sizeof(out[0]));
    sk->nsb = (uint8_t)n;
    sk->sacked = sacked;
}

/* RFC 2883 4: a first block below the cumulative ACK, or inside the
 * second block, reports a duplicate, not data held. */
static bool sack_is_dsack(const struct tcp_opts *o, unsigned i, uint32_t ack)
{
    if (i != 0)
        return false;
    const struct tcp_sack_block *b = &o->sack[0];
    if (SEQ_LEQ(b->end, ack))
        return true;
    return o->nsack > 1 && SEQ_GEQ(b->start, o->sack[1].start) && SEQ_LEQ(b->end, o->sack[1].end);
}

bool sack_has_dsack(const struct tcp_opts *o, uint32_t ack)
{
    return (o->present & TOF_SACK) && o->nsack && sack_is_dsack(o, 0, ack);
}

bool sack_covers(const struct tcp_sack *sk, uint32_t start, uint32_t end)
{
    for (unsigned i = 0; i < sk->nsb; i++)
        if (SEQ_LEQ(sk->sb[i].start, start) && SEQ_GEQ(sk->sb[i].end, end))
            return true;
    return false;
}

uint32_t sack_first_unsacked(const struct tcp_sack *sk, uint32_t start, uint32_t end)
{
    uint32_t x = start;
    for (unsigned i = 0; i < sk->nsb && SEQ_LT(x, end); i++) /* sorted: one pass */
        if (SEQ_LEQ(sk->sb[i].start, x) && SEQ_GT(sk->sb[i].end, x))
            x = sk->sb[i].end;
    return SEQ_LT(x, end) ? x : end;
}

int32_t sack_input(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_opts *o,
                   uint32_t ack)
{
    struct tcp_sack *sk = sack_of(stack, tp);
    bool news = (tp->t_flags & TF_SACK_PERMIT) && (o->present & TOF_SACK) && o->nsack;
    if (news) {
        STAT_INC(stack, tcps_sack_rcv_blocks);
        if (!sk)
            sk = sack_take(stack, tp, true);
    }
    if (!sk)
        return 0;
    /* RFC 6937's DeliveredData counts SACKed bytes once: the bytes an ACK
     * covers that were SACKed before come off the change. */
    uint32_t una = SEQ_GT(ack, tp->snd_una) ? ack : tp->snd_una;
    uint32_t before = sk->sacked;
    sack_prune(sk, una);
    for (unsigned i = 0; news && i < o->nsack; i++) {
        struct tcp_sack_block b = o->sack[i];
        if (sack_is_dsack(o, i, ack)) {
            STAT_INC(stack, tcps_dsack_count);
            continue;
        }
        /* Only what we sent and the ACK does not already cover. */
        if (!SEQ_LT(b.start, b.end) || SEQ_GT(b.end, tp->snd_max) || SEQ_LEQ(b.end, una))
            continue;
        if (SEQ_LT(b.start, una))
            b.start = una;
        sack_add(stack, sk, b);
    }
    int32_t change = (int32_t)(sk->sacked - before);
    sack_release(stack, tp, false);
    return change;
}

/* SACKed bytes and ranges at or above seq. */
static void sack_above(const struct tcp_sack *sk, uint32_t seq, uint32_t *bytes, unsigned *ranges)
{
    *bytes = 0;
    *ranges = 0;
    for (unsigned i = 0; i < sk->nsb; i++) {
        if (SEQ_GEQ(sk->sb[i].start, seq)) {
            *bytes += sk->sb[i].end - sk->sb[i].start;
            (*ranges)++;
        }
    }
}

/* RFC 6675 IsLost for every byte of a hole ending at hole_end: what the
 * peer holds above it is the same for all of them. */
static bool sack_hole_lost(const struct tcpcb *tp, const struct tcp_sack *sk, uint32_t hole_end)
{
    uint32_t bytes;
    unsigned ranges;
    sack_above(sk, hole_end, &bytes, &ranges);
    return ranges >= TCP_DUPTHRESH || bytes > (TCP_DUPTHRESH - 1) * (uint32_t)tp->t_maxseg;
}

bool sack_una_lost(const struct tcpcb *tp, const struct tcp_sack *sk)
{
    return sk->nsb > 0 && SEQ_GT(sk->sb[0].start, tp->snd_una) &&
           sack_hole_lost(tp, sk, sk->sb[0].start);
}

/* Overlap of [a, b) with [lo, hi). */
static uint32_t seq_overlap(uint32_t a, uint32_t b, uint32_t lo, uint32_t hi)
{
    uint32_t s = SEQ_GT(a, lo) ? a : lo;
    uint32_t e = SEQ_LT(b, hi) ? b : hi;
    return SEQ_GT(e, s) ? e - s : 0;
}

/* Calls fn for each unSACKed hole [start, end) between snd_una and
 * snd_max, lowest first, until it returns true; with_tail: also the data
 * above the highest SACKed byte. */
typedef bool (*sack_hole_fn)(void *ctx, uint32_t start, uint32_t end, bool lost);

static void sack_holes(const struct tcpcb *tp, const struct tcp_sack *sk, bool with_tail,
                       sack_hole_fn fn, void *ctx)
{
    uint32_t at = tp->snd_una;
    for (unsigned i = 0; i < sk->nsb + (unsigned)with_tail; i++) {
        uint32_t end = i < sk->nsb ? sk->sb[i].start : tp->snd_max;
        if (SEQ_GT(end, at) && fn(ctx, at, end, i < sk->nsb && sack_hole_lost(tp, sk, end)))
            return;
        if (i < sk->nsb && SEQ_GT(sk->sb[i].end, at))
            at = sk->sb[i].end;
    }
}

struct pipe_ctx {
    const struct tcp_sack *sk;
    uint32_t pipe, high_rxt;
    bool lost; /* the hole, by RFC 6675's IsLost */
};

/* A piece of a hole: what RACK has marked lost is out of the network; a
 * retransmission still out counts, below HighRxt or resent in an earlier
 * recovery (RACK's mark). */
static bool pipe_piece(void *ctx, uint32_t start, uint32_t end, uint8_t fl)
{
    struct pipe_ctx *c = ctx;
    if (fl & RS_LOST)
        return false;
    if (!c->lost)
        c->pipe += end - start;
    c->pipe += (fl & RS_RXT) ? end - start : seq_overlap(start, end, start, c->high_rxt);
    return false;
}

static bool pipe_hole(void *ctx, uint32_t start, uint32_t end, bool lost)
{
    struct pipe_ctx *c = ctx;
    c->lost = lost;
    return rack_pieces(c->sk, start, end, pipe_piece, c);
}

uint32_t sack_pipe(const struct tcpcb *tp, const struct tcp_sack *sk)
{
    struct pipe_ctx c = {sk, 0, sk->high_rxt, false};
    sack_holes(tp, sk, true, pipe_hole, &c);
    return c.pipe;
}

struct next_ctx {
    const struct tcp_sack *sk;
    uint32_t high_rxt, maxlen;
    bool lost_only;
    bool hole_lost; /* the hole, by RFC 6675's IsLost */
    uint32_t seq, len;
    bool found;
};

/* A piece of a hole: RACK's marks go first wherever they lie (below
 * HighRxt, a retransmission was lost); the rest as RFC 6675 says, except
 * what RACK knows is a retransmission still on its way (HighRxt starts
 * again at each recovery; its sending time does not): time will tell
 * whether that is lost, not another recovery's count of SACKs. */
static bool next_piece(void *ctx, uint32_t start, uint32_t end, uint8_t fl)
{
    struct next_ctx *c = ctx;
    uint32_t s = start;
    if (!(fl & RS_LOST)) {
        if ((c->lost_only && !c->hole_lost) || (fl & RS_RXT))
            return false;
        s = SEQ_GT(c->high_rxt, start) ? c->high_rxt : start;
        if (!SEQ_LT(s, end))
            return false;
    }
    c->seq = s;
    c->len = end - s < c->maxlen ? end - s : c->maxlen;
    c->found = true;
    return true;
}

static bool next_hole(void *ctx, uint32_t start, uint32_t end, bool lost)
{
    struct next_ctx *c = ctx;
    c->hole_lost = lost;
    return rack_pieces(c->sk, start, end, next_piece, c);
}

bool sack_next_rexmit(const struct tcpcb *tp, const struct tcp_sack *sk, uint32_t maxlen,
                      bool lost_only, uint32_t *seq, uint32_t *len)
{
    struct next_ctx c = {
        .sk = sk, .high_rxt = sk->high_rxt, .maxlen = maxlen, .lost_only = lost_only};
    sack_holes(tp, sk, false, next_hole, &c); /* rule 3: below a SACKed byte */
    *seq = c.seq;
    *len = c.len;
    return c.found;
}

uint32_t sack_skip(const struct tcp_sack *sk, uint32_t seq)
{
    for (unsigned i = 0; i < sk->nsb; i++)
        if (SEQ_GEQ(seq, sk->sb[i].start) && SEQ_LT(seq, sk->sb[i].end))
            return sk->sb[i].end;
    return seq;
}
