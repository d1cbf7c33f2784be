/*
 * Fast retransmit and fast recovery; see tcp_recovery.h.
 */
#include "tcp/tcp_recovery.h"

#include "core/stack.h"
#include "tcp/tcp_cc.h"
#include "tcp/tcp_rack.h"
#include "tcp/tcp_sack.h"
#include "tcp/tcp_subr.h"
#include "util/seq.h"

/* The SACK record when recovery follows the scoreboard. */
static struct tcp_sack *recovery_board(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return (tp->t_flags & TF_SACKRECOV) ? sack_of(stack, tp) : NULL;
}

/*
 * RFC 6937: the window for this ACK. While pipe exceeds ssthresh, sending
 * follows delivery in proportion ssthresh / RecoverFS, so the window comes
 * down to ssthresh smoothly over one round trip instead of in one step;
 * once pipe is below ssthresh (more was lost), slow-start reduction bound
 * (PRR-SSRB) builds it back up by at most one segment more than delivered.
 */
static void recovery_prr(struct tcpcb *tp, struct tcp_sack *sk, uint32_t delivered)
{
    sk->prr_delivered += delivered;
    uint32_t pipe = sack_pipe(tp, sk);
    uint32_t mss = tp->t_maxseg;
    int64_t sndcnt;
    if (pipe > tp->snd_ssthresh) {
        uint64_t fs = sk->recover_fs ? sk->recover_fs : 1;
        uint64_t share = ((uint64_t)sk->prr_delivered * tp->snd_ssthresh + fs - 1) / fs;
        sndcnt = (int64_t)share - sk->prr_out;
    } else {
        int64_t owed = (int64_t)sk->prr_delivered - sk->prr_out;
        int64_t limit = (owed > delivered ? owed : delivered) + mss;
        int64_t gap = (int64_t)tp->snd_ssthresh - pipe;
        sndcnt = gap < limit ? gap : limit;
    }
    if (sndcnt < 0)
        sndcnt = 0;
    tp->snd_cwnd = pipe + (uint32_t)sndcnt;
}

/* Fast retransmit (RFC 5681 3.2, RFC 6675 5 (4)): the reduction, then the
 * first unacknowledged segment at once. */
static void recovery_enter(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_sack *sk,
                           uint32_t delivered)
{
    cc_cong_signal(stack, tp, CC_NDUPACK);
    tp->snd_recover = tp->snd_max;
    tp->t_flags |= TF_FASTRECOV;
    uint32_t seg = tcp_seg_payload(tp);
    uint32_t seq = tp->snd_una, len = seg;
    if (sk) {
        STAT_INC(stack, tcps_sack_recovery_episode);
        tp->t_flags |= TF_SACKRECOV;
        sk->high_rxt = tp->snd_una;
        sk->recover_fs = tp->snd_max - tp->snd_una;
        sk->prr_delivered = sk->prr_out = 0;
        sk->rescued = 0;
        /* The first lost range (RACK's mark may lie above snd_una), else
         * the first hole, unless an earlier recovery's retransmission of
         * it is still on its way. */
        if (!sack_next_rexmit(tp, sk, seg, true, &seq, &len)) {
            seq = tp->snd_una;
            if (sk->nsb && SEQ_LT(sk->sb[0].start - tp->snd_una, len))
                len = sk->sb[0].start - tp->snd_una;
            if (rack_resent(sk, seq))
                len = 0;
        }
    } else {
        /* NewReno: the three segments the duplicates stand for have left
         * the network (RFC 6582 3.2 (3)). */
        tp->snd_cwnd = tp->snd_ssthresh + TCP_DUPTHRESH * (uint32_t)tp->t_maxseg;
    }
    if (len)
        (void)tcp_rexmit_segment(stack, tp, seq, len);
    if (sk)
        recovery_prr(tp, sk, delivered);
}

static void recovery_exit(struct tcpc_stack *stack, struct tcpcb *tp)
{
    tp->t_flags &= ~(TF_FASTRECOV | TF_SACKRECOV);
    tp->t_dupacks = 0;
    cc_post_recovery(stack, tp, tp->snd_max - tp->snd_una);
    rack_recovery_done(tp);
    sack_release(stack, tp, false);
}

/* NewReno during recovery (RFC 6582 3.2 (4) and (5)). */
static void recovery_newreno(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t acked,
                             bool dupack)
{
    uint32_t mss = tp->t_maxseg;
    if (acked) {
        /* A partial ACK: the next hole starts at snd_una. Deflate by what
         * left the network, keeping one segment for the retransmission. */
        (void)tcp_rexmit_segment(stack, tp, tp->snd_una, tcp_seg_payload(tp));
        tp->snd_cwnd = tp->snd_cwnd > acked ? tp->snd_cwnd - acked : 0;
        if (acked >= mss)
            tp->snd_cwnd += mss;
        if (tp->snd_cwnd < mss)
            tp->snd_cwnd = mss;
    } else if (dupack) {
        tp->snd_cwnd += mss; /* one more segment has left the network */
    }
}

/* RFC 6582 3.2 (2): duplicates of data sent before the last timeout or
 * recovery are no new loss; nor is recovery entered while a timeout's
 * resending from snd_una is still under way. */
static bool recovery_may_enter(const struct tcpcb *tp)
{
    return !SEQ_LT(tp->snd_una, tp->snd_recover) && !SEQ_LT(tp->snd_nxt, tp->snd_max);
}

void recovery_ack(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t acked, int32_t sacked,
                  bool dupack)
{
    uint32_t delivered = (int64_t)acked + sacked > 0 ? (uint32_t)((int64_t)acked + sacked) : 0;
    cc_ack_delivered(stack, tp, delivered);
    if (tp->t_flags & TF_FASTRECOV) {
        if (SEQ_GEQ(tp->snd_una, tp->snd_recover)) {
            recovery_exit(stack, tp);
            return;
        }
        struct tcp_sack *sk = recovery_board(stack, tp);
        if (sk)
            recovery_prr(tp, sk, delivered);
        else
            recovery_newreno(stack, tp, acked, dupack);
        return;
    }
    if (acked) {
        tp->t_dupacks = 0;
        cc_ack_received(stack, tp, acked);
    } else if (dupack && tp->t_dupacks < UINT8_MAX) {
        tp->t_dupacks++;
    }
    struct tcp_sack *sk = (tp->t_flags & TF_SACK_PERMIT) ? sack_of(stack, tp) : NULL;
    /* RACK (RFC 8985) finds losses on any ACK; the counting rules need a
     * duplicate. */
    bool rack = sk && rack_has_lost(tp, sk);
    if (!dupack && !rack)
        return;
    /* SACK recovery needs blocks (or RACK's marks) to go by; duplicates
     * without any (the record may be the receiving side's) recover as
     * NewReno. */
    if (sk && sk->nsb == 0 && !rack)
        sk = NULL;
    bool lost = rack || tp->t_dupacks >= TCP_DUPTHRESH || (sk && sack_una_lost(tp, sk));
    if (lost && recovery_may_enter(tp))
        recovery_enter(stack, tp, sk, delivered);
}

void recovery_rack_loss(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct tcp_sack *sk = sack_of(stack, tp);
    if (sk && !(tp->t_flags & TF_FASTRECOV) && recovery_may_enter(tp))
        recovery_enter(stack, tp, sk, 0);
}

uint32_t recovery_sack_room(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    const struct tcp_sack *sk = sack_of(stack, tp);
    uint32_t pipe = sk ? sack_pipe(tp, sk) : tp->snd_nxt - tp->snd_una;
    return tp->snd_cwnd > pipe ? tp->snd_cwnd - pipe : 0;
}

/* Whether rule 2 has a full segment of new data the peer's window takes
 * (a shorter rest waits for Nagle and must not stop rule 3). */
static bool recovery_new_segment_due(const struct tcpcb *tp, uint32_t seg)
{
    uint32_t inflight = tp->snd_nxt - tp->snd_una;
    uint32_t wnd = tp->snd_wnd > inflight ? tp->snd_wnd - inflight : 0;
    uint32_t unsent = tcp_sb_unsent(tp);
    return tp->snd_nxt == tp->snd_max && (unsent < wnd ? unsent : wnd) >= seg;
}

/*
 * RFC 6675 4.3 rule 4, once per recovery: with nothing else to send, the
 * last segment sent, if the peer has not SACKed it, goes again, so that a
 * lost tail draws the SACKs that repair it instead of a timeout. It is not
 * a hole repair: HighRxt stays where it was.
 */
static int recovery_rescue(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_sack *sk,
                           uint32_t seg, uint32_t room)
{
    uint32_t sacked_end = sk->nsb ? sk->sb[sk->nsb - 1].end : tp->snd_una;
    if (!SEQ_LT(sacked_end, tp->snd_max) || room < seg)
        return 0; /* the peer has the tail */
    uint32_t len;
    uint32_t seq = tcp_tail_seq(tp, sacked_end, &len);
    sk->rescued = 1;
    uint32_t high_rxt = sk->high_rxt;
    int r = tcp_rexmit_segment(stack, tp, seq, len);
    sk->high_rxt = high_rxt;
    return r > 0 ? 1 : r;
}

int recovery_rexmit(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct tcp_sack *sk = recovery_board(stack, tp);
    if (!sk)
        return 0;
    uint32_t seg = tcp_seg_payload(tp);
    uint32_t pipe = sack_pipe(tp, sk);
    uint32_t room = tp->snd_cwnd > pipe ? tp->snd_cwnd - pipe : 0;
    uint32_t seq, len;
    /* Rule 1: a hole presumed lost. Rule 3 (after new data, which is rule
     * 2 and ordinary output, has had its turn): any hole below a SACKed
     * byte, so that a window with nothing new to send keeps repairing. */
    bool found = sack_next_rexmit(tp, sk, seg, true, &seq, &len);
    bool idle = !found && !recovery_new_segment_due(tp, seg);
    if (idle)
        found = sack_next_rexmit(tp, sk, seg, false, &seq, &len);
    if (!found && idle && !sk->rescued)
        return recovery_rescue(stack, tp, sk, seg, room);
    if (!found || room < len)
        return 0;
    int r = tcp_rexmit_segment(stack, tp, seq, len);
    return r > 0 ? 1 : r;
}

void recovery_sent(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t len, bool rexmit,
                   uint32_t end)
{
    struct tcp_sack *sk = recovery_board(stack, tp);
    if (!sk)
        return;
    sk->prr_out += len;
    if (rexmit) {
        STAT_INC(stack, tcps_sack_rexmits);
        STAT_ADD(stack, tcps_sack_rexmit_bytes, len);
        if (SEQ_GT(end, sk->high_rxt))
            sk->high_rxt = end;
    }
}

void recovery_timeout(struct tcpc_stack *stack, struct tcpcb *tp)
{
    tp->t_flags &= ~(TF_FASTRECOV | TF_SACKRECOV);
    tp->t_dupacks = 0;
    struct tcp_sack *sk = sack_of(stack, tp);
    if (sk) {
        sack_clear(sk);
        rack_timeout(sk);
        sack_release(stack, tp, false);
    }
    cc_cong_signal(stack, tp, CC_RTO);
    tp->snd_recover = tp->snd_max;
    /* Only a first timeout can be told spurious: later ones resend what
     * the first already did. */
    bool ts = (tp->t_flags & (TF_REQ_TSTMP | TF_RCVD_TSTMP)) == (TF_REQ_TSTMP | TF_RCVD_TSTMP);
    tp->t_flags &= ~TF_PREVVALID;
    if (ts && tp->t_rxtcount == 1) {
        tp->t_flags |= TF_PREVVALID;
        tp->t_rxt_tsval = tcp_ts_now(stack, tp);
    }
}

void recovery_check_spurious(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_opts *o,
                             uint32_t ack)
{
    if (!(tp->t_flags & TF_PREVVALID))
        return;
    tp->t_flags &= ~TF_PREVVALID; /* only the first ACK after it can tell */
    if (!(o->present & TOF_TS) || !o->tsecr || !TSTMP_LT(o->tsecr, tp->t_rxt_tsval))
        return;
    STAT_INC(stack, tcps_sndrexmitbad);
    cc_cong_signal(stack, tp, CC_RTO_ERR);
    tp->snd_nxt = tp->snd_max;
    tp->snd_recover = ack; /* a loss in what follows is a loss again */
}

void recovery_skip_sacked(const struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (!SEQ_LT(tp->snd_nxt, tp->snd_max))
        return;
    const struct tcp_sack *sk = sack_of(stack, tp);
    if (sk)
        tp->snd_nxt = sack_skip(sk, tp->snd_nxt);
}
