/*
 * Segment arrival: RFC 9293 section 3.10.7, with the RFC 5961 defences
 * against blind RST, SYN and data injection and RFC 7323 PAWS.
 *
 * The order of checks follows the RFC's event-processing text so that each
 * rule can be found by its step: RST, timestamps (PAWS), SYN, sequence
 * acceptability and trimming, ACK, data, FIN. Every segment that is dropped
 * bumps a counter; every rule has a segment-level test in tests/.
 */
#include <errno.h>
#include <string.h>

#include "core/ip_input.h"
#include "core/stack.h"
#include "tcp/syncache.h"
#include "tcp/tcp_accf.h"
#include "tcp/tcp_cc.h"
#include "tcp/tcp_demux.h"
#include "tcp/tcp_ecn.h"
#include "tcp/tcp_ao.h"
#include "tcp/tcp_md5.h"
#include "tcp/tcp_fastopen.h"
#include "tcp/tcp_rack.h"
#include "tcp/tcp_recovery.h"
#include "tcp/tcp_sack.h"
#include "tcp/tcp_sbuf.h"
#include "tcp/tcp_subr.h"
#include "tcp/tcp_urgent.h"
#include "tcp/timewait.h"
#include "util/seq.h"
#include "wire/wire.h"

/* A segment as the state machine sees it: parsed header plus where it came
 * from. seq/tlen/flags may be trimmed as processing goes. */
struct tcp_seg {
    const struct ip_repr *ip;
    struct tcp_repr th;
    uint32_t seq;
    uint32_t tlen; /* payload bytes still considered */
    const uint8_t *data;
    uint8_t flags;
    bool dup_reported;             /* its old part went into a D-SACK block (RFC 2883) */
    const struct tcp_md5_key *md5; /* the key it was checked against, for our answer */
};

/* RFC 7323 5.5: a ts_recent older than 24 days may be stale. */
#define TCP_PAWS_IDLE_SEC (24u * 24 * 3600)

/* ts_recent's age is kept in seconds: 32 bits of them never wrap, and the
 * 24-day rule needs no finer clock. */
static uint32_t tcp_now_sec(const struct tcpc_stack *stack)
{
    return (uint32_t)(stack->now / TCPC_USEC_PER_SEC);
}

/* RFC 9293 3.10.7.1: the reset owed for a segment nobody wants. */
static void tcp_reject(struct tcpc_stack *stack, const struct tcp_seg *s)
{
    if (s->flags & TH_RST)
        return;
    const struct ip_repr *ip = s->ip;
    if (s->flags & TH_ACK) {
        tcp_respond(stack, &ip->dst, s->th.dport, &ip->src, s->th.sport, s->th.ack, 0, TH_RST,
                    s->md5);
        return;
    }
    uint32_t seglen = s->tlen + !!(s->flags & TH_SYN) + !!(s->flags & TH_FIN);
    tcp_respond(stack, &ip->dst, s->th.dport, &ip->src, s->th.sport, 0, s->seq + seglen,
                TH_RST | TH_ACK, s->md5);
}

/* Options on a SYN we received, as RFC 7323 and RFC 2018 negotiate them. */
void tcp_syn_negotiate(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_opts *o)
{
    const struct tcpc_tunables *tun = &stack->cfg.tun;
    if (tun->rfc1323 && (o->present & TOF_WSCALE) && (tp->t_flags & TF_REQ_SCALE)) {
        tp->t_flags |= TF_RCVD_SCALE;
        tp->snd_scale = o->wscale > TCP_MAX_WINSHIFT ? TCP_MAX_WINSHIFT : o->wscale;
        tp->rcv_scale = tp->request_r_scale;
    } else {
        tp->snd_scale = tp->rcv_scale = 0;
    }
    if (tun->rfc1323 && (o->present & TOF_TS) && (tp->t_flags & TF_REQ_TSTMP)) {
        tp->t_flags |= TF_RCVD_TSTMP;
        tp->ts_recent = o->tsval;
        tp->ts_recent_age = tcp_now_sec(stack);
    } else {
        tp->t_flags &= ~TF_REQ_TSTMP;
    }
    if (tun->sack_enable && (o->present & TOF_SACKPERM) && !(tp->t_flags & TF_NOOPT))
        tp->t_flags |= TF_SACK_PERMIT;
    tcp_mss_update(stack, tp, (o->present & TOF_MSS) ? o->mss : 0);
    /* FreeBSD rounds the buffers to the MSS (tcp_mss) for every passive
     * open, and for an active one only when the SYN-ACK (or crossing SYN)
     * carried an MSS: without one it never calls tcp_mss there. */
    if ((o->present & TOF_MSS) || tp->state == TCPS_SYN_RECEIVED)
        tcp_sb_fit_mss(stack, tp);
    /* RFC 6928 initial window, now that the MSS is known. */
    tp->snd_cwnd = cc_initial_window(tp->t_maxseg);
}

/* What every new connection offers, before hearing from the peer. */
void tcp_syn_offer(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (stack->cfg.tun.rfc1323 && !(tp->t_flags & TF_NOOPT)) {
        tp->t_flags |= TF_REQ_SCALE | TF_REQ_TSTMP;
        tp->request_r_scale = tcp_rcv_wscale(stack);
        tp->ts_offset = rand_u32(&stack->rand);
    }
    tp->snd_cwnd = TCP_INITIAL_WINDOW * (uint32_t)tp->t_maxseg;
    tp->snd_ssthresh = UINT32_MAX;
}

/* Initial send/receive sequence state once IRS is known. */
static void tcp_seq_init_rcv(struct tcpcb *tp, uint32_t irs)
{
    tp->irs = irs;
    tp->rcv_nxt = irs + 1;
    tp->rcv_adv = tp->rcv_nxt;
    tp->last_ack_sent = tp->rcv_nxt;
}

void tcp_seq_init_snd(struct tcpc_stack *stack, struct tcpcb *tp)
{
    tp->iss = tcp_new_isn(stack, tp);
    tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
    tp->snd_recover = tp->t_ecn_recover = tp->iss;
}

static void tcp_do_segment(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_seg *s);
static bool tcp_trim_to_window(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_seg *s);
static void tcp_text_input(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_seg *s);

/* RFC 9293 3.10.7.2: a segment for a listener. Half-open connections live
 * in the SYN cache (syncache.c); a control block exists only once the
 * handshake's ACK arrives, and then goes through the normal path for any
 * data or FIN the ACK carries. reopen: the SYN reopens a TIME_WAIT 4-tuple. */
static void tcp_listen_input(struct tcpc_stack *stack, struct tcpcb *l, struct tcp_seg *s,
                             const struct syncache_reopen *reopen)
{
    if (s->flags & TH_RST) {
        syncache_chkrst(stack, s->ip, &s->th);
        return;
    }
    if (s->flags & TH_ACK) {
        if (s->flags & TH_SYN) {
            STAT_INC(stack, tcps_badsyn);
            tcp_reject(stack, s);
            return;
        }
        struct tcpcb *tp;
        int err = syncache_expand(stack, l, s->ip, &s->th, &tp);
        if (err == -ECONNREFUSED)
            tcp_reject(stack, s);
        if (err)
            return;
        tcp_do_segment(stack, tp, s); /* to ESTABLISHED and the accept queue */
        return;
    }
    if (!(s->flags & TH_SYN)) {
        stack_drop(stack, TCPC_STAT_tcps_dropped_noconn, "neither SYN, ACK nor RST to a listener");
        return;
    }
    syncache_add(stack, l, s->ip, &s->th, reopen);
}

/*
 * Text on the SYN of a simultaneous open. RFC 9293 3.10.7.3 has it "queued
 * for processing after the ESTABLISHED state has been reached": it waits as
 * an island at the start of the receive buffer, unacknowledged (our SYN-ACK
 * acknowledges the SYN only, as FreeBSD's does), and becomes readable when
 * the handshake completes (tcp_synrcvd_ack). A FIN on that SYN is dropped,
 * as FreeBSD drops it: the peer retransmits it once synchronized.
 */
static void tcp_syn_queue_text(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_seg *s)
{
    s->flags &= (uint8_t)~TH_FIN;
    uint32_t room = tcp_rcv_space(stack, tp);
    uint32_t n = s->tlen < room ? s->tlen : room;
    if (n && tcp_sb_rcv_storage(stack, tp, n) != 0)
        return;
    if (n && sb_place(&tp->rcv, &tp->rcv_reass, 0, s->data, n) != 0)
        stack_drop(stack, TCPC_STAT_tcps_rcvreassfull, "no room for the text of a crossing SYN");
}

/*
 * SND.UNA moves up to an acceptable ACK. The send point never stays below
 * it: after a timeout or a refused send (tcp_output) snd_nxt can lag behind
 * what the peer has acknowledged, and output counting from snd_una would
 * then see nothing to send and arm no timer.
 */
static void tcp_snd_una_advance(struct tcpcb *tp, uint32_t ack)
{
    tp->snd_una = ack;
    if (SEQ_LT(tp->snd_nxt, tp->snd_una))
        tp->snd_nxt = tp->snd_una;
    urg_acked(tp);
}

/* What of the data a Fast Open SYN carried the SYN-ACK acknowledges
 * leaves the send buffer (the SYN itself is the first of the sequence
 * space acknowledged). */
static void tcp_syn_data_acked(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t ack)
{
    uint32_t acked = ack - (tp->iss + 1);
    if (acked == 0)
        return;
    STAT_INC(stack, tcps_rcvackpack);
    STAT_ADD(stack, tcps_rcvackbyte, acked);
    sb_drop(&tp->snd, acked > tp->snd.len ? tp->snd.len : acked);
    tcp_sb_drained(stack, tp, false);
    tcp_notify(stack, tp);
}

/* RFC 9293 3.10.7.3: a segment for a connection in SYN_SENT. */
static void tcp_syn_sent_input(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_seg *s)
{
    bool ack_ok = false;
    if (s->flags & TH_ACK) {
        if (SEQ_LEQ(s->th.ack, tp->iss) || SEQ_GT(s->th.ack, tp->snd_max)) {
            tcp_reject(stack, s);
            return;
        }
        ack_ok = true;
    }
    if (s->flags & TH_RST) {
        if (ack_ok)
            tcp_drop(stack, tp, ECONNREFUSED);
        else
            stack_drop(stack, TCPC_STAT_tcps_badrst, "RST without an acceptable ACK in SYN_SENT");
        return;
    }
    if (!(s->flags & TH_SYN)) {
        stack_drop(stack, TCPC_STAT_tcps_dropped_noconn, "neither SYN nor RST in SYN_SENT");
        return;
    }
    tp->t_rcvtime = cc_clock_ms(stack->now);
    tp->t_flags &= ~TF_KEEPPROBED;
    ecn_syn_input(stack, tp, s->flags);
    tcp_syn_negotiate(stack, tp, &s->th.opts);
    tcp_seq_init_rcv(tp, s->seq);
    tp->snd_wnd = s->th.win;
    tp->snd_wl1 = s->seq;
    /* The SYN is consumed; what follows it is text (and perhaps a FIN). */
    s->flags &= (uint8_t)~TH_SYN;
    s->seq++;
    if (ack_ok) {
        tfo_client_synack(stack, tp, &s->th.opts, s->th.ack);
        tcp_syn_data_acked(stack, tp, s->th.ack);
        tcp_snd_una_advance(tp, s->th.ack); /* the SYN's retransmission may have been refused */
        /* RFC 7413 4.2.2: data on our SYN that the SYN-ACK does not cover
         * goes again at once, as FreeBSD sends it, not at a timeout. */
        if (SEQ_LT(s->th.ack, tp->snd_max))
            tp->snd_nxt = s->th.ack;
        tp->snd_wl2 = s->th.ack;
        if (tp->t_rtttime) {
            tcp_xmit_timer(stack, tp, tcp_rtt_since(stack, tp->t_rtttime));
            tp->t_rtttime = 0;
        }
        tcp_timer_stop(stack, tp, TT_REXMT);
        if (tp->t_flags & TF_SYN_REXMT)
            tp->snd_cwnd = tp->t_maxseg; /* RFC 5681 3.1: the SYN was lost once */
        tcp_set_state(stack, tp, TCPS_ESTABLISHED);
        tp->t_flags |= TF_ACKNOW;
        /* RFC 9293 3.10.7.3: text and FIN on the SYN-ACK are processed as
         * in ESTABLISHED ("continue processing at the sixth step"); the
         * ACK that completes our side acknowledges them. */
        if ((s->tlen || (s->flags & TH_FIN)) && !tcp_trim_to_window(stack, tp, s))
            return;
        tcp_text_input(stack, tp, s);
        return;
    }
    /* Simultaneous open: our SYN crossed theirs. */
    tp->snd_nxt = tp->iss;
    tcp_set_state(stack, tp, TCPS_SYN_RECEIVED);
    tcp_syn_queue_text(stack, tp, s);
    tp->t_flags |= TF_ACKNOW;
    tcp_output(stack, tp);
}

/* RCV.WND for sequence checks, as FreeBSD's rcv_wnd: the room the buffer
 * has, even beyond what the window field could say (65,700 bytes where at
 * most 65,535 were offered unscaled), or what we offered if that is more. */
static uint32_t tcp_rcv_window(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    uint32_t space = tcp_rcv_room(stack, tp);
    uint32_t offered = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
    return space > offered ? space : offered;
}

static bool tcp_seq_in_window(const struct tcpc_stack *stack, const struct tcpcb *tp, uint32_t seq)
{
    return seq_in_range(seq, tp->rcv_nxt, tcp_rcv_window(stack, tp));
}

/* A reset that passed RFC 5961's exact-match test. */
static void tcp_reset_received(struct tcpc_stack *stack, struct tcpcb *tp)
{
    switch (tp->state) {
    case TCPS_SYN_RECEIVED:
        /* Only an active (simultaneous) open is ever a tcpcb in this state
         * between segments; a passive one is a SYN cache entry. Refused,
         * and an RST is never answered (so not tcp_drop). */
        STAT_INC(stack, tcps_conndrops);
        tp->so_error = ECONNREFUSED;
        tcp_close(stack, tp);
        return;
    case TCPS_ESTABLISHED:
    case TCPS_FIN_WAIT_1:
    case TCPS_FIN_WAIT_2:
    case TCPS_CLOSE_WAIT:
    case TCPS_CLOSING:
    case TCPS_LAST_ACK:
        /* RFC 9293 only closes in CLOSING and LAST_ACK; FreeBSD reports
         * the reset there too, and a socket still open (after shutdown)
         * learns that its FIN may not have been taken. */
        STAT_INC(stack, tcps_drops);
        tp->so_error = ECONNRESET;
        tcp_close(stack, tp);
        return;
    default:
        tcp_close(stack, tp);
        return;
    }
}

/* RFC 5961 3.2: only an RST at exactly rcv_nxt resets; one merely in the
 * window draws a challenge ACK; anything else is dropped. (TIME_WAIT, where
 * RFC 1337 ignores RSTs, is a compressed record: see tw_check.) */
static void tcp_rst_input(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_seg *s)
{
    bool in_window = tcp_seq_in_window(stack, tp, s->seq);
    /* net.inet.tcp.insecure_rst: RFC 793's rule, any RST in the window. */
    if (s->seq == tp->rcv_nxt || (in_window && stack->cfg.tun.insecure_rst)) {
        tcp_reset_received(stack, tp);
        return;
    }
    if (in_window) {
        tcp_send_challenge_ack(stack, tp);
        return;
    }
    stack_drop(stack, TCPC_STAT_tcps_badrst, "RST outside the window");
}

/* RFC 7323 5.3 PAWS and 4.3 ts_recent. Returns false to drop. */
static bool tcp_paws_ok(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_seg *s)
{
    bool negotiated =
        (tp->t_flags & (TF_REQ_TSTMP | TF_RCVD_TSTMP)) == (TF_REQ_TSTMP | TF_RCVD_TSTMP);
    if (!negotiated)
        return true;
    if (!(s->th.opts.present & TOF_TS)) {
        /* RFC 7323 3.2: a TCP SHOULD drop non-RST segments without TSopt;
         * net.inet.tcp.tolerate_missing_ts takes them as FreeBSD then does,
         * with nothing to judge or remember. */
        if (stack->cfg.tun.tolerate_missing_ts)
            return true;
        stack_drop(stack, TCPC_STAT_tcps_rcvbadopt,
                   "missing timestamp on a timestamped connection");
        return false;
    }
    if (tp->ts_recent && TSTMP_LT(s->th.opts.tsval, tp->ts_recent)) {
        if (tcp_now_sec(stack) - tp->ts_recent_age > TCP_PAWS_IDLE_SEC) {
            tp->ts_recent = 0; /* too old to judge by */
            return true;
        }
        STAT_INC(stack, tcps_rcvduppack);
        STAT_ADD(stack, tcps_rcvdupbyte, s->tlen);
        stack_drop(stack, TCPC_STAT_tcps_pawsdrop, "PAWS: timestamp older than ts_recent");
        tp->t_flags |= TF_ACKNOW;
        tcp_output(stack, tp);
        return false;
    }
    return true;
}

/* RFC 7323 4.3: remember the timestamp of a segment that covers
 * last_ack_sent, the one our next ACK echoes. */
static void tcp_update_ts_recent(struct tcpc_stack *stack, struct tcpcb *tp,
                                 const struct tcp_seg *s, uint32_t orig_seq)
{
    if (!(s->th.opts.present & TOF_TS) || !(tp->t_flags & TF_RCVD_TSTMP))
        return;
    uint32_t end = orig_seq + s->th.payload_len + !!(s->th.flags & (TH_SYN | TH_FIN));
    if (SEQ_LEQ(orig_seq, tp->last_ack_sent) && SEQ_GEQ(end, tp->last_ack_sent) &&
        TSTMP_GEQ(s->th.opts.tsval, tp->ts_recent)) {
        tp->ts_recent = s->th.opts.tsval;
        tp->ts_recent_age = tcp_now_sec(stack);
    }
}

/*
 * RFC 9293 3.10.7.4, first check: whether a segment is acceptable, by the
 * RFC's four-row table. SEG.LEN counts the FIN (a SYN never gets here: it
 * was answered or, in a simultaneous open, consumed before).
 *
 *   SEG.LEN  RCV.WND  acceptable when
 *   0        0        SEG.SEQ = RCV.NXT
 *   0        >0       RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
 *   >0       0        never
 *   >0       >0       RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND, or
 *                     RCV.NXT =< SEG.SEQ+SEG.LEN-1 < RCV.NXT+RCV.WND
 *
 * The zero-length rows matter as much as the others: a bare ACK far beyond
 * the window is no more the peer's than data there would be, and must not
 * move snd_una or the send window (a blind attacker needs only the
 * 4-tuple to send one).
 */
static bool tcp_seg_acceptable(uint32_t rcv_nxt, uint32_t rcv_wnd, uint32_t seq, uint32_t seglen)
{
    if (seglen == 0)
        return rcv_wnd == 0 ? seq == rcv_nxt : seq_in_range(seq, rcv_nxt, rcv_wnd);
    if (rcv_wnd == 0)
        return false;
    return seq_in_range(seq, rcv_nxt, rcv_wnd) || seq_in_range(seq + seglen - 1, rcv_nxt, rcv_wnd);
}

/* An unacceptable segment (not an RST: those never get here) is answered
 * with an ACK saying where we are, and dropped. */
static void tcp_drop_unacceptable(struct tcpc_stack *stack, struct tcpcb *tp,
                                  const struct tcp_seg *s, uint32_t seglen)
{
    if (SEQ_LEQ(s->seq + seglen, tp->rcv_nxt)) {
        STAT_ADD(stack, tcps_rcvdupbyte, s->tlen);
        sack_rcv_duplicate(stack, tp, s->seq, s->tlen); /* RFC 2883 */
        stack_drop(stack, TCPC_STAT_tcps_rcvduppack, "segment wholly before the window");
    } else {
        stack_drop(stack, TCPC_STAT_tcps_rcvpackafterwin, "segment beyond the window");
    }
    tp->t_flags |= TF_ACKNOW;
    tcp_output(stack, tp);
}

/* A segment wholly before RCV.NXT whose ACK is kept (tcp_trim_to_window):
 * counted and reported as the duplicate it is, answered at once, and left
 * as a bare ACK at RCV.NXT. */
static void tcp_trim_all_old(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_seg *s)
{
    STAT_INC(stack, tcps_rcvduppack);
    STAT_ADD(stack, tcps_rcvdupbyte, s->tlen);
    if (s->tlen) {                                      /* a bare FIN has no data pointer to move */
        sack_rcv_duplicate(stack, tp, s->seq, s->tlen); /* RFC 2883 */
        s->dup_reported = true;
        s->data += s->tlen;
        s->tlen = 0;
    }
    s->seq = tp->rcv_nxt;
    s->flags &= (uint8_t)~TH_FIN;
    tp->t_flags |= TF_ACKNOW;
}

/*
 * Applies the acceptability test and trims what is left to the window:
 * octets before RCV.NXT are old, octets past the window's end are not ours
 * to take yet. Returns false when the segment was dropped (after an ACK).
 *
 * Three allowances, RFC 9293's or every stack's:
 *   - With a zero window, a segment at exactly RCV.NXT keeps its ACK: it is
 *     the peer's zero-window probe, whose ACK field and window may be news
 *     ("special allowance should be made to accept valid ACKs"). Its text
 *     is trimmed away like any beyond the window.
 *   - A FIN needs no buffer room, so one just past the window's last octet
 *     is kept when all the data before it fits (as FreeBSD and Linux do). A
 *     peer that filled our window and closed is not made to retransmit its
 *     FIN into a window that may stay shut past its retransmission limit.
 *   - A segment that ends exactly at RCV.NXT (a retransmission of the last
 *     thing received) keeps its ACK, its text and FIN trimmed away as old:
 *     in a simultaneous close the peer retransmits its FIN with the ACK of
 *     ours, and dropping that ACK would leave us in CLOSING until our FIN's
 *     retransmission. Linux's window test takes such a segment (its end
 *     reaches RCV.WUP), FreeBSD keeps the ACK of any old segment; older
 *     ones stay unacceptable here, as RFC 9293 has them.
 */
static bool tcp_trim_to_window(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_seg *s)
{
    uint32_t seglen = s->tlen + !!(s->flags & TH_FIN);
    /* The usual segment starts at RCV.NXT and fits the window already
     * offered, which the window is never below (tcp_rcv_window): every
     * test below takes it whole, so the storage need not be asked. */
    uint32_t offered = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
    if (s->seq == tp->rcv_nxt && seglen <= offered)
        return true;
    uint32_t wnd = tcp_rcv_window(stack, tp);
    bool probe = wnd == 0 && s->seq == tp->rcv_nxt;
    if (seglen && s->seq + seglen == tp->rcv_nxt && (s->flags & TH_ACK)) {
        tcp_trim_all_old(stack, tp, s);
        return true;
    }
    if (!probe && !tcp_seg_acceptable(tp->rcv_nxt, wnd, s->seq, seglen)) {
        tcp_drop_unacceptable(stack, tp, s, seglen);
        return false;
    }
    if (SEQ_LT(s->seq, tp->rcv_nxt)) {
        /* Acceptable, so its last octet is at or past RCV.NXT: old < seglen,
         * so the old part is data (never the FIN) and data is not NULL. */
        uint32_t old = tp->rcv_nxt - s->seq;
        STAT_INC(stack, tcps_rcvpartduppack);
        sack_rcv_duplicate(stack, tp, s->seq, old);
        s->dup_reported = true;
        s->seq += old;
        s->data += old;
        s->tlen -= old;
    }
    uint32_t room = tp->rcv_nxt + wnd - s->seq; /* s->seq now lies in [RCV.NXT, RCV.NXT+wnd] */
    if (s->tlen > room) {
        if (probe)
            STAT_INC(stack, tcps_rcvwinprobe);
        s->tlen = room;
        s->flags &= (uint8_t)~TH_FIN;
        tp->t_flags |= TF_ACKNOW;
    }
    return true;
}

static void tcp_ack_policy(struct tcpc_stack *stack, struct tcpcb *tp, bool in_order);

/* The handshake is done (FreeBSD counts the accept here): to the accept
 * queue, or held there by the listener's accept filter. */
static void tcp_queue_on_listener(struct tcpc_stack *stack, struct tcpcb *tp)
{
    STAT_INC(stack, tcps_accepts);
    accf_offer(stack, tp);
}

/* SYN_RECEIVED: an ACK of our SYN completes the handshake. Returns false
 * when the segment was answered with a reset and must go no further. */
static bool tcp_synrcvd_ack(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_seg *s)
{
    if (SEQ_LEQ(s->th.ack, tp->snd_una) || SEQ_GT(s->th.ack, tp->snd_max)) {
        tcp_reject(stack, s);
        return false;
    }
    tp->snd_wnd = (uint32_t)s->th.win << tp->snd_scale;
    tp->max_sndwnd = tp->snd_wnd;
    tp->snd_wl1 = s->seq;
    tp->snd_wl2 = s->th.ack;
    if (tp->t_flags & TF_SYN_REXMT)
        tp->snd_cwnd = tp->t_maxseg;
    tcp_set_state(stack, tp, TCPS_ESTABLISHED);
    /* Text a crossing SYN carried (tcp_syn_queue_text) is in order now. */
    uint32_t queued = sb_absorb(&tp->rcv, &tp->rcv_reass, 0);
    if (queued) {
        tp->rcv_nxt += queued;
        STAT_INC(stack, tcps_rcvpack);
        STAT_ADD(stack, tcps_rcvbyte, queued);
        tcp_ack_policy(stack, tp, true);
        tcp_notify(stack, tp);
    }
    if (tp->parent)
        tcp_queue_on_listener(stack, tp);
    else if (tp->t_flags & TF_NEEDFIN)
        tcp_set_state(stack, tp, TCPS_FIN_WAIT_1); /* closed while the SYN was unacked */
    return true;
}

/* RFC 9293 3.10.7.4 fifth check, "update the send window". */
static void tcp_update_window(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_seg *s)
{
    if (!(SEQ_LT(tp->snd_wl1, s->seq) ||
          (tp->snd_wl1 == s->seq && SEQ_LEQ(tp->snd_wl2, s->th.ack))))
        return;
    uint32_t wnd = (uint32_t)s->th.win << tp->snd_scale;
    if (wnd != tp->snd_wnd && s->tlen == 0)
        STAT_INC(stack, tcps_rcvwinupd);
    tp->snd_wnd = wnd;
    tp->snd_wl1 = s->seq;
    tp->snd_wl2 = s->th.ack;
    if (wnd > tp->max_sndwnd)
        tp->max_sndwnd = wnd;
    if (wnd > 0 && tcp_timer_active(tp, TT_PERSIST)) {
        /* The window opened: the probes' backoff is not a retransmission
         * count to carry into the retransmission timer. */
        tcp_timer_stop(stack, tp, TT_PERSIST);
        tp->t_rxtshift = 0;
    }
}

/* Returns the sample taken, in microseconds, or -1 for none. */
static int64_t tcp_rtt_sample(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_seg *s)
{
    int64_t rtt = -1;
    if ((s->th.opts.present & TOF_TS) && (tp->t_flags & TF_RCVD_TSTMP) && s->th.opts.tsecr) {
        uint32_t ms = tcp_ts_now(stack, tp) - s->th.opts.tsecr;
        if (ms < 0x7fffffff)
            rtt = (int64_t)ms * TCPC_USEC_PER_MSEC;
        tp->t_rtttime = 0;
    } else if (tp->t_rtttime && SEQ_GT(s->th.ack, tp->t_rtseq)) {
        rtt = (int64_t)tcp_rtt_since(stack, tp->t_rtttime);
        tp->t_rtttime = 0;
    }
    if (rtt >= 0)
        tcp_xmit_timer(stack, tp, (tcpc_time_t)rtt);
    return rtt;
}

/* New data acknowledged: advance snd_una and free the buffer. Returns true
 * when our FIN is now acknowledged too. */
static bool tcp_ack_new_data(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_seg *s)
{
    uint32_t acked = s->th.ack - tp->snd_una;
    STAT_INC(stack, tcps_rcvackpack);
    STAT_ADD(stack, tcps_rcvackbyte, acked);
    recovery_check_spurious(stack, tp, &s->th.opts, s->th.ack);
    int64_t rtt = tcp_rtt_sample(stack, tp, s); /* a sample collapses the backoff */
    tp->t_rxtcount = 0;
    if (rtt < 0) /* a sample set t_rxtcur from it already (tcp_xmit_timer) */
        tp->t_rxtcur = tcp_rexmt_timeout(stack, tp);
    if (s->th.ack == tp->snd_max)
        tcp_timer_stop(stack, tp, TT_REXMT);
    else
        tcp_timer_set(stack, tp, TT_REXMT, tp->t_rxtcur);
    bool fin_acked = (tp->t_flags & TF_SENTFIN) && s->th.ack == tp->snd_max;
    uint32_t data = acked > tp->snd.len ? tp->snd.len : acked;
    sb_drop(&tp->snd, data);
    tcp_sb_drained(stack, tp, s->tlen != 0);
    tcp_snd_una_advance(tp, s->th.ack);
    if (rtt >= 0)
        cc_rtt_sample_taken(stack, tp, (tcpc_time_t)rtt);
    tcp_notify(stack, tp);
    return fin_acked;
}

/* RFC 5961 5.2: an ACK outside [snd_una - max_sndwnd, snd_max] is
 * answered and dropped. Returns false to drop. */
static bool tcp_ack_acceptable(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_seg *s)
{
    if (SEQ_GT(s->th.ack, tp->snd_max)) {
        STAT_INC(stack, tcps_rcvacktoomuch);
        tcp_send_challenge_ack(stack, tp);
        return false;
    }
    if (SEQ_LT(s->th.ack, tp->snd_una - tp->max_sndwnd)) {
        stack_drop(stack, TCPC_STAT_tcps_rcvduppack, "ACK older than the send window");
        tcp_send_challenge_ack(stack, tp);
        return false;
    }
    return true;
}

/* A connection closed for reading waits a bounded time for the peer's FIN. */
static void tcp_enter_fin_wait_2(struct tcpc_stack *stack, struct tcpcb *tp)
{
    /* A pacing release left from the last burst would read as this
     * state's timer (they share a slot, tcp_var.h): nothing is left to
     * pace now. */
    tcp_timer_stop(stack, tp, TT_PACE);
    tcp_set_state(stack, tp, TCPS_FIN_WAIT_2);
    tcp_fin_wait_2_start(stack, tp);
}

/* sack_input for an ACK of `ack`; without blocks, with no scoreboard to
 * prune, it has only the record to give back (RACK's, its flight now
 * acknowledged), and that is all that is done. */
static int32_t tcp_sack_ack(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_opts *o,
                            uint32_t ack)
{
    if (!(o->present & TOF_SACK)) {
        const struct tcp_sack *sk = sack_of(stack, tp);
        if (!sk)
            return 0;
        if (sk->nsb == 0) {
            sack_release(stack, tp, false);
            return 0;
        }
    }
    return sack_input(stack, tp, o, ack);
}

/* An acceptable ACK: the ECN marks, RACK and the SACK scoreboard, new
 * data acknowledged or a duplicate counted, the send window, loss
 * detection and recovery. Returns true when our FIN is now acknowledged. */
static inline bool tcp_ack_core(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_seg *s)
{
    ecn_input(stack, tp, s->ip->tos, s->flags, s->th.ack);
    bool fin_acked = false, dupack = false;
    uint32_t acked = 0;
    int32_t sacked = 0;
    rack_ack(stack, tp, &s->th.opts, s->th.ack); /* before the scoreboard takes it */
    if ((s->th.opts.present & TOF_SACK) || tp->t_sack)
        sacked = tcp_sack_ack(stack, tp, &s->th.opts, s->th.ack);
    if (SEQ_GT(s->th.ack, tp->snd_una)) {
        acked = s->th.ack - tp->snd_una;
        fin_acked = tcp_ack_new_data(stack, tp, s);
    } else if (/* RFC 5681's duplicate ACK carries no data and no FIN: what the
                * segment carried, not what trimming left of it */
               s->th.ack == tp->snd_una && s->th.payload_len == 0 && !(s->th.flags & TH_FIN) &&
               tp->snd_max != tp->snd_una &&
               ((uint32_t)s->th.win << tp->snd_scale) == tp->snd_wnd) {
        STAT_INC(stack, tcps_rcvdupack);
        dupack = true;
    }
    tcp_update_window(stack, tp, s);
    if (tp->t_sack) /* RACK keeps its send times in the SACK record */
        rack_detect(stack, tp);
    recovery_ack(stack, tp, acked, sacked, dupack);
    if (acked && tp->snd_una != tp->snd_max) /* a probe only while data is out */
        rack_tlp_schedule(stack, tp);
    return fin_acked;
}

/* RFC 9293 3.10.7.4 fifth check. Returns false when the segment must go no
 * further (dropped, or tp closed). */
static bool tcp_ack_input(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_seg *s)
{
    if (!(s->flags & TH_ACK)) {
        stack_drop(stack, TCPC_STAT_tcps_dropped_noconn, "no ACK bit in a synchronized state");
        return false;
    }
    if (tp->state == TCPS_SYN_RECEIVED && !tcp_synrcvd_ack(stack, tp, s))
        return false;
    if (!tcp_ack_acceptable(stack, tp, s))
        return false;
    if (!tcp_ack_core(stack, tp, s))
        return true;
    switch (tp->state) {
    case TCPS_FIN_WAIT_1:
        tcp_enter_fin_wait_2(stack, tp);
        return true;
    case TCPS_CLOSING:
        tcp_twstart(stack, tp);
        return false;
    case TCPS_LAST_ACK:
        tcp_close(stack, tp);
        return false;
    default:
        return true;
    }
}

static void tcp_ack_policy(struct tcpc_stack *stack, struct tcpcb *tp, bool in_order)
{
    /* RFC 9293 3.8.6.3 / RFC 5681 4.2: ACK at least every second full
     * segment, at once for out-of-order data, otherwise after a delay. */
    if (!in_order || !stack->cfg.tun.delayed_ack || ++tp->t_segs_unacked >= 2) {
        tp->t_flags |= TF_ACKNOW;
        return;
    }
    tp->t_flags |= TF_DELACK;
    if (!tcp_timer_active(tp, TT_DELACK))
        tcp_timer_set(stack, tp, TT_DELACK,
                      (tcpc_time_t)stack->cfg.tun.delacktime * TCPC_USEC_PER_MSEC);
}

/* Where the out-of-order data ends, past the in-order end (0: none). */
static uint32_t reass_end(const struct tcpcb *tp)
{
    const struct sb_reass *ra = &tp->rcv_reass;
    return ra->nranges ? ra->ranges[ra->nranges - 1].end : 0;
}

/*
 * A FIN beyond a hole (at `off` past the in-order end) is kept when it
 * ends the out-of-order data held, and taken once the hole fills, as
 * FreeBSD's reassembly queue keeps it: the peer need not retransmit it. One
 * that would leave a hole of its own before it (no data held up to it) is
 * dropped; the peer retransmits it with what it follows.
 */
static void reass_hold_fin(struct tcpcb *tp, uint32_t off)
{
    if (tp->rcv_reass.nranges && reass_end(tp) == off)
        tp->rcv_reass.fin = 1;
}

/* Data the peer sends past a FIN it sent before is not what the FIN said:
 * the held FIN is forgotten (a retransmitted one is taken as usual). */
static void reass_check_fin(struct tcpcb *tp, uint32_t off, uint32_t len)
{
    if (tp->rcv_reass.fin && off + len > reass_end(tp))
        tp->rcv_reass.fin = 0;
}

/* In-order text, with whatever out-of-order data it makes contiguous.
 * Returns true when the peer's FIN is now next: this segment's, or the one
 * reassembly held. */
static inline bool tcp_data_in_order(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_seg *s)
{
    reass_check_fin(tp, 0, s->tlen);
    uint32_t n = sb_append(&tp->rcv, s->data, s->tlen);
    bool had_holes = tp->rcv_reass.nranges > 0;
    if (had_holes)
        n += sb_absorb(&tp->rcv, &tp->rcv_reass, n);
    tp->rcv_nxt += n;
    urg_arrived(tp);
    STAT_INC(stack, tcps_rcvpack);
    STAT_ADD(stack, tcps_rcvbyte, s->tlen);
    tcp_ack_policy(stack, tp, !had_holes);
    if (accf_held(tp))
        accf_arrived(stack, tp, n);
    tcp_notify(stack, tp);
    if (tp->rcv_reass.nranges)
        return false;
    bool held = tp->rcv_reass.fin;
    tp->rcv_reass.fin = 0;
    return held || ((s->flags & TH_FIN) && s->seq + s->tlen == tp->rcv_nxt);
}

/* RFC 9293 3.10.7.4 seventh check: segment text. Returns true when the
 * peer's FIN is now next in sequence and is to be processed. */
static bool tcp_data_input(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_seg *s)
{
    bool takes_data = tp->state == TCPS_ESTABLISHED || tp->state == TCPS_FIN_WAIT_1 ||
                      tp->state == TCPS_FIN_WAIT_2;
    if (s->tlen == 0) {
        if (!(s->flags & TH_FIN))
            return false;
        if (s->seq == tp->rcv_nxt)
            return true;
        if (takes_data) {
            reass_hold_fin(tp, s->seq - tp->rcv_nxt); /* a bare FIN past a hole */
            tp->t_flags |= TF_ACKNOW;
        }
        return false;
    }
    if (!takes_data) {
        stack_drop(stack, TCPC_STAT_tcps_rcvafterclose, "data after the peer's FIN");
        return false;
    }
    uint32_t off = s->seq - tp->rcv_nxt;
    uint32_t extent = off + s->tlen;
    uint32_t held = tp->rcv_reass.nranges ? tp->rcv_reass.ranges[tp->rcv_reass.nranges - 1].end : 0;
    if (tcp_sb_rcv_storage(stack, tp, tp->rcv.len + (extent > held ? extent : held)) != 0)
        return false;
    if (!s->dup_reported)
        sack_rcv_held_part(stack, tp, off, s->tlen);
    if (s->seq == tp->rcv_nxt) {
        tcp_sb_rcv_autosize(stack, tp, s->tlen);
        return tcp_data_in_order(stack, tp, s);
    }
    STAT_INC(stack, tcps_rcvoopack);
    STAT_ADD(stack, tcps_rcvoobyte, s->tlen);
    reass_check_fin(tp, off, s->tlen);
    if (sb_place(&tp->rcv, &tp->rcv_reass, off, s->data, s->tlen) != 0) {
        stack_drop(stack, TCPC_STAT_tcps_rcvreassfull, "reassembly ranges exhausted");
    } else {
        sack_rcv_segment(stack, tp, s->seq, s->tlen);
        if (s->flags & TH_FIN)
            reass_hold_fin(tp, off + s->tlen);
    }
    tp->t_flags |= TF_ACKNOW; /* a duplicate ACK tells the peer about the hole */
    return false;
}

/* RFC 9293 3.10.7.4 eighth check: FIN. Returns false when tp went to
 * TIME_WAIT's replacement or was closed. */
static bool tcp_fin_input(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (!(tp->t_flags & TF_RCVDFIN)) {
        tp->t_flags |= TF_RCVDFIN;
        tp->rcv_nxt++;
    }
    tp->t_flags |= TF_ACKNOW;
    tcp_notify(stack, tp);
    switch (tp->state) {
    case TCPS_SYN_RECEIVED:
    case TCPS_ESTABLISHED:
        tcp_set_state(stack, tp, TCPS_CLOSE_WAIT);
        break;
    case TCPS_FIN_WAIT_1:
        tcp_set_state(stack, tp, TCPS_CLOSING);
        break;
    case TCPS_FIN_WAIT_2:
        tcp_output(stack, tp);  /* the ACK of the FIN goes out before TIME_WAIT */
        tcp_twstart(stack, tp); /* tp is gone */
        return false;
    default:
        break;
    }
    return true;
}

/* SYN on a synchronized connection (RFC 5961 4.2), or the peer's SYN-ACK
 * completing a simultaneous open. Returns true when the segment was
 * consumed; false when it goes on without its SYN. (Duplicate SYNs of a
 * passive open are the SYN cache's: syncache_add.) */
static bool tcp_syn_in_window(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_seg *s)
{
    if (tp->state == TCPS_SYN_RECEIVED && !tp->parent && s->seq == tp->irs && (s->flags & TH_ACK)) {
        /* Simultaneous open (RFC 9293 figure 8, line 6): the peer's SYN-ACK.
         * Its SYN is the one we already have, so it is trimmed as old (as
         * FreeBSD does) and its ACK completes our side of the handshake. */
        s->flags &= (uint8_t)~TH_SYN;
        s->seq++;
        tp->t_flags |= TF_ACKNOW;
        return false;
    }
    STAT_INC(stack, tcps_badsyn);
    if (stack->cfg.tun.insecure_syn && tcp_seq_in_window(stack, tp, s->seq)) {
        /* net.inet.tcp.insecure_syn: RFC 793's rule, a SYN in the window
         * resets the connection (RFC 5961 4.2 off). */
        tcp_drop(stack, tp, ECONNRESET);
        return true;
    }
    tcp_send_challenge_ack(stack, tp);
    return true;
}

/* Data from a peer whose application-side socket is gone (RFC 9293
 * 3.10.7.4: "if the user has closed... reset"). */
static bool tcp_orphan_data(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_seg *s)
{
    if (tp->sd >= 0 || s->tlen == 0 || tp->state <= TCPS_CLOSE_WAIT || tp->parent)
        return false;
    STAT_INC(stack, tcps_rcvafterclose);
    STAT_INC(stack, tcps_drops);
    /* The RST goes at SEG.ACK (FreeBSD's tcp_dropwithreset), not SND.NXT:
     * the peer may not have our FIN yet, and an RFC 5961 peer only acts on
     * an RST at exactly its RCV.NXT. */
    uint32_t seq = (s->flags & TH_ACK) ? s->th.ack : tp->snd_nxt;
    tcp_respond_tp(stack, tp, seq, 0, TH_RST);
    tcp_close(stack, tp);
    return true;
}

/* RFC 9293 3.10.7.4 sixth to eighth checks (URG, text, FIN), then
 * whatever became due goes out. */
static void tcp_text_input(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_seg *s)
{
    urg_input(stack, tp, s->th.seq, s->flags, s->th.urp);
    if (tcp_data_input(stack, tp, s) && !tcp_fin_input(stack, tp))
        return;
    tcp_output_if_due(stack, tp);
}

/*
 * Header prediction. Nearly every segment of an established connection is
 * the next one in order, carries only ACK (and PSH) with the timestamp the
 * connection agreed on, leaves the send window as it was and either
 * acknowledges new data while carrying none, or carries data while
 * acknowledging nothing new. For those the general path's checks (RST,
 * PAWS, SYN, acceptability and trimming, orphaned data, the ACK's range,
 * duplicate ACKs, URG, FIN) are known to pass or to do nothing, so only
 * the steps that act are taken, the same functions in the same order.
 * Recovery, SACK blocks held of the peer and out-of-order data of our own
 * all go the general way.
 */

/* The timestamp check passes with nothing to drop or forgive. */
static bool tcp_ts_predicted(const struct tcpcb *tp, const struct tcp_opts *o)
{
    bool negotiated =
        (tp->t_flags & (TF_REQ_TSTMP | TF_RCVD_TSTMP)) == (TF_REQ_TSTMP | TF_RCVD_TSTMP);
    if (o->present == 0)
        return !negotiated;
    return o->present == TOF_TS && negotiated &&
           (!tp->ts_recent || TSTMP_GEQ(o->tsval, tp->ts_recent));
}

static bool tcp_predictable(const struct tcpcb *tp, const struct tcp_sack *sk,
                            const struct tcp_seg *s)
{
    if (tp->state != TCPS_ESTABLISHED || (s->flags & (uint8_t)~TH_PSH) != TH_ACK ||
        s->seq != tp->rcv_nxt || ((uint32_t)s->th.win << tp->snd_scale) != tp->snd_wnd)
        return false;
    if ((tp->t_flags & (TF_FASTRECOV | TF_SACKRECOV)) || tp->snd_nxt != tp->snd_max ||
        tp->rcv_reass.nranges || tp->rcv_reass.fin || !tcp_ts_predicted(tp, &s->th.opts))
        return false;
    return !sk || sk->nsb == 0;
}

/* A pure ACK of new data, within what was sent. */
static void tcp_predicted_ack(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_seg *s)
{
    STAT_INC(stack, tcps_predack);
    (void)tcp_ack_core(stack, tp, s); /* no FIN of ours in ESTABLISHED to matter */
    tcp_output_if_due(stack, tp);
}

/* In-order data, all of it within the window. When it acknowledges
 * nothing new and no RACK record of data in flight waits on an ACK, the
 * ACK's processing comes down to the ECN marks, the SACK record's release
 * and the send window. */
static void tcp_predicted_data(struct tcpc_stack *stack, struct tcpcb *tp,
                               const struct tcp_sack *sk, struct tcp_seg *s)
{
    STAT_INC(stack, tcps_preddat);
    if (s->th.ack != tp->snd_una || (sk && sk->rack.nspan)) {
        (void)tcp_ack_core(stack, tp, s);
    } else {
        ecn_input(stack, tp, s->ip->tos, s->flags, s->th.ack);
        if (tp->t_sack)
            (void)tcp_sack_ack(stack, tp, &s->th.opts, s->th.ack);
        tcp_update_window(stack, tp, s);
    }
    if (tcp_sb_rcv_storage(stack, tp, tp->rcv.len + s->tlen) == 0) {
        tcp_sb_rcv_autosize(stack, tp, s->tlen);
        (void)tcp_data_in_order(stack, tp, s); /* no FIN: nothing follows */
    }
    tcp_output_if_due(stack, tp);
}

/* A pure ACK is predicted when it acknowledges new data within what was
 * sent (one of nothing new may be a duplicate); data when its ACK lies
 * within what was sent and the window takes all of it (nothing to trim). */
static bool tcp_kind_predicted(const struct tcpc_stack *stack, const struct tcpcb *tp,
                               const struct tcp_seg *s)
{
    if (SEQ_LT(s->th.ack, tp->snd_una) || SEQ_GT(s->th.ack, tp->snd_max))
        return false;
    if (s->tlen == 0)
        return s->th.ack != tp->snd_una;
    /* RCV.WND is at least what was offered: the peer nearly always keeps
     * within that, and the buffer's room need not be worked out. */
    uint32_t offered = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
    return s->tlen <= offered || s->tlen <= tcp_rcv_window(stack, tp);
}

/* Takes s the short way when it is one of the predicted kinds. */
static bool tcp_predicted(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_seg *s)
{
    const struct tcp_sack *sk = tp->t_sack ? sack_of(stack, tp) : NULL;
    if (!tcp_predictable(tp, sk, s) || !tcp_kind_predicted(stack, tp, s))
        return false;
    tp->t_rcvtime = cc_clock_ms(stack->now);
    tp->t_flags &= ~TF_KEEPPROBED;
    tcp_update_ts_recent(stack, tp, s, s->seq);
    if (s->tlen == 0)
        tcp_predicted_ack(stack, tp, s);
    else
        tcp_predicted_data(stack, tp, sk, s);
    return true;
}

static void tcp_do_segment(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_seg *s)
{
    if (tcp_predicted(stack, tp, s))
        return;
    uint32_t orig_seq = s->seq;
    if (s->flags & TH_RST) {
        tcp_rst_input(stack, tp, s);
        return;
    }
    if (!tcp_paws_ok(stack, tp, s))
        return;
    tp->t_rcvtime = cc_clock_ms(stack->now);
    tp->t_flags &= ~TF_KEEPPROBED;
    if ((s->flags & TH_SYN) && tcp_syn_in_window(stack, tp, s))
        return;
    if (!tcp_trim_to_window(stack, tp, s))
        return;
    tcp_update_ts_recent(stack, tp, s, orig_seq);
    if (tcp_orphan_data(stack, tp, s))
        return;
    if (!tcp_ack_input(stack, tp, s))
        return;
    tcp_text_input(stack, tp, s);
}

static int tcp_parse_segment(struct tcpc_stack *stack, const struct ip_repr *ip, const uint8_t *seg,
                             size_t seglen, struct tcp_seg *s)
{
    /* The checksum first, as FreeBSD's tcp_input does: a segment damaged on
     * the way is a checksum error wherever the damage fell, not a bad data
     * offset or option that it only happens to look like. */
    if (seglen >= TCP_HDR_LEN && !tcp_cksum_ok(ip, seg, seglen)) {
        stack_drop(stack, TCPC_STAT_tcps_rcvbadsum, wire_strerror(-WIRE_TCP_BADSUM));
        return -WIRE_TCP_BADSUM;
    }
    int err = tcp_parse(seg, seglen, &s->th);
    if (err < 0) {
        stack_drop(stack, ip_input_error_stat(err), wire_strerror(err));
        return err;
    }
    s->ip = ip;
    s->seq = s->th.seq;
    s->tlen = (uint32_t)s->th.payload_len;
    s->data = s->th.payload;
    s->flags = s->th.flags;
    s->dup_reported = false;
    s->md5 = NULL;
    return 0;
}

void tcp_input(struct tcpc_stack *stack, const struct ip_repr *ip, const uint8_t *seg,
               size_t seglen, const uint32_t *flow)
{
    struct tcp_seg s;
    if (tcp_parse_segment(stack, ip, seg, seglen, &s) < 0)
        return;
    STAT_INC(stack, tcps_rcvtotal);
    if ((s.flags & (TH_SYN | TH_FIN)) == (TH_SYN | TH_FIN) && stack->cfg.tun.drop_synfin) {
        /* net.inet.tcp.drop_synfin: such a segment is a scanner's probe,
         * in any state (FreeBSD drops it before the state machine). */
        stack_drop(stack, TCPC_STAT_tcps_badsyn, "SYN with FIN (net.inet.tcp.drop_synfin)");
        return;
    }
    uint32_t twref;
    struct tcpcb *tp =
        demux_lookup_tw(stack, &ip->src, s.th.sport, &ip->dst, s.th.dport, flow, &twref);
    struct syncache_reopen reopen;
    bool reopening = false;
    bool sig_checked = false;
    if (twref != DEMUX_REF_NONE) {
        /* RFC 2385 before anything else: a signed record's segments are
         * checked, RSTs and SYNs included, against the key that the
         * listener a reopening SYN goes to would use as well. */
        if (!tw_md5_check(stack, twref, ip, seg, seglen, &s.th, &s.md5))
            return;
        sig_checked = s.md5 != NULL;
        /* A compressed TIME_WAIT record (timewait.c) holds the 4-tuple. An
         * acceptable SYN, and the rest of the handshake it starts, go to
         * the listener; the record stays until that handshake completes. */
        enum tw_verdict v = tw_input(stack, twref, ip, &s.th, &reopen);
        if (v == TW_CONSUMED) {
            tcp_deliver_events(stack);
            return;
        }
        reopening = v == TW_REOPEN;
        tp = demux_lookup_listener(stack, &ip->src, s.th.sport, &ip->dst, s.th.dport, flow);
    }
    bool local = tcpc_addr_is_local(stack, &ip->dst);
    if (!local && (!tp || !(tp->inp->flags & INP_BINDANY))) {
        stack_drop(stack, TCPC_STAT_ips_notlocal, "TCP segment for an address not ours");
        return;
    }
    /* RFC 2385: whoever takes the segment on checks its signature first,
     * so that no unsigned or forged segment (an RST, a SYN) reaches a
     * signed connection's state machine: a listener with the key for the
     * peer, a connection with its own. A segment for no connection gets
     * the unsigned RST it always got. */
    if (tp && tp->state != TCPS_CLOSED && !sig_checked && tcp_sig_involved(tp, &s.th)) {
        s.md5 = tp->state == TCPS_LISTEN ? tcp_md5_lookup(tp->t_md5keys, &ip->src) : tp->t_md5;
        if (!tcp_md5_input(stack, s.md5, ip, seg, seglen, &s.th))
            return;
        /* RFC 5925 7.5 the same way, and on the same segments: a TCP-AO
         * MAC where an MKT covers the peer, none where none does. */
        if (!tcp_ao_input(stack, tp, ip, seg, seglen, &s.th))
            return;
    }
    if ((!tp || tp->state == TCPS_CLOSED) &&
        stack_handoff_segment(stack, &ip->src, s.th.sport, &ip->dst, s.th.dport, seg - ip->hdrlen,
                              (size_t)ip->hdrlen + seglen)) {
        /* Another member of the group owns the port (an active open of
         * its own whose reply the host steered here): it answers. */
        return;
    }
    if (!tp || tp->state == TCPS_CLOSED) {
        /* A socket that is only bound (or whose connection is over) owns
         * its port but no connection: for the peer that is CLOSED, which
         * answers with a reset and leaves the socket as it was. */
        if (!(s.flags & TH_RST))
            STAT_INC(stack, tcps_noport);
        tcp_reject(stack, &s);
    } else if (tp->state == TCPS_LISTEN) {
        tcp_listen_input(stack, tp, &s, reopening ? &reopen : NULL);
    } else if (tp->state == TCPS_SYN_SENT) {
        tcp_syn_sent_input(stack, tp, &s);
    } else {
        tcp_do_segment(stack, tp, &s);
    }
    tcp_deliver_events(stack);
}

/* RFC 1191 / RFC 8201: the path is narrower than our segments; resend
 * what was too big at the size the router reported. */
static void tcp_mtu_shrink(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t mtu)
{
    uint32_t mss = tcp_mss_for_mtu(tp->family != TCPC_AF_INET, mtu);
    if (mss < (uint32_t)stack->cfg.tun.minmss)
        mss = (uint32_t)stack->cfg.tun.minmss;
    if (mss >= tp->t_maxseg)
        return;
    tp->t_maxseg = (uint16_t)mss;
    tp->t_pmtud_saved_maxseg = 0; /* the path said what fits: nothing to give back */
    tp->snd_nxt = tp->snd_una;
    tcp_output(stack, tp);
}

/*
 * The errno an ICMP error stands for, as FreeBSD maps them (icmp_errmap,
 * icmp6_errmap); 0 for a code TCP does not act on.
 *
 *   ICMPv4 unreachable  net, host, source route failed, net/host unknown,
 *                       isolated, TOS net/host, host precedence,
 *                       precedence cutoff                     EHOSTUNREACH
 *                       protocol, port, net/host/filter
 *                       administratively prohibited           ECONNREFUSED
 *   ICMPv6 unreachable  no route, address                     EHOSTUNREACH
 *                       administratively prohibited, port     ECONNREFUSED
 *                       beyond the source's scope             ENOPROTOOPT
 *   ICMPv6 parameter problem, unrecognized Next Header         ECONNREFUSED
 *   time exceeded in transit (both)                           EHOSTUNREACH
 */
static int tcp_icmp_errno(const struct icmp_repr *icmp)
{
    if (icmp->kind == ICMP_KIND_TIMXCEED)
        return EHOSTUNREACH;
    if (icmp->type == ICMP6_PARAM_PROB)
        return ECONNREFUSED;
    if (icmp->type == ICMP6_UNREACH) {
        static const int v6[] = {EHOSTUNREACH, ECONNREFUSED, ENOPROTOOPT, EHOSTUNREACH,
                                 ECONNREFUSED};
        return icmp->code < sizeof(v6) / sizeof(v6[0]) ? v6[icmp->code] : 0;
    }
    switch (icmp->code) {
    case 2:  /* protocol */
    case 3:  /* port */
    case 9:  /* net administratively prohibited */
    case 10: /* host administratively prohibited */
    case 13: /* communication administratively prohibited (RFC 1812) */
        return ECONNREFUSED;
    case 0:
    case 1:
    case 5:
    case 6:
    case 7:
    case 8:
    case 11:
    case 12:
    case 14:
    case 15:
        return EHOSTUNREACH;
    default:
        return 0;
    }
}

/*
 * Whether an error ends a connection attempt at once (FreeBSD's
 * tcp_drop_syn_sent, under its default net.inet.icmp.icmp_may_rst=1): the
 * ones that say the peer or a firewall refused (ECONNREFUSED above) and a
 * hop limit exceeded in transit. RFC 5461 4.1 lets a TCP treat these as
 * hard errors in SYN_SENT: no reply to the SYN is coming. In any other
 * state they are ignored, so that a forged one cannot reset a working
 * connection (RFC 5927).
 */
static bool tcp_icmp_may_reset(const struct tcpc_stack *stack, const struct icmp_repr *icmp,
                               int err)
{
    /* net.inet.tcp.icmp_may_rst=0: every error is soft, as FreeBSD has it. */
    if (!stack->cfg.tun.icmp_may_rst)
        return false;
    return err == ECONNREFUSED || icmp->kind == ICMP_KIND_TIMXCEED;
}

/* RFC 1122 4.2.3.9 and FreeBSD's tcp_notify: other unreachables are soft
 * errors. On a working connection, host and network unreachables are
 * routing hiccups and ignored; otherwise the error is remembered (a later
 * timeout reports it instead of ETIMEDOUT), and a connection attempt that
 * has already retransmitted several times gives up on a second error. */
static void tcp_soft_error(struct tcpc_stack *stack, struct tcpcb *tp, int err)
{
    if (TCPS_HAVEESTABLISHED(tp->state) && err == EHOSTUNREACH)
        return;
    if (tp->state < TCPS_ESTABLISHED && tp->t_rxtshift > 3 && tp->t_softerror) {
        tcp_drop(stack, tp, err);
        return;
    }
    tp->t_softerror = err;
}

/* RFC 5927: believe an ICMP error only if it quotes a sequence number we
 * have sent and not yet had acknowledged. */
void tcp_ctlinput(struct tcpc_stack *stack, const struct icmp_repr *icmp)
{
    struct tcpcb *tp = demux_lookup_exact(stack, &icmp->quoted_dst, icmp->quoted_dport,
                                          &icmp->quoted_src, icmp->quoted_sport);
    if ((!tp || tp->state == TCPS_LISTEN) && syncache_unreach(stack, icmp))
        return; /* it concerned a half-open connection */
    if (!tp || tp->state == TCPS_LISTEN || tp->inp->fport != icmp->quoted_dport ||
        SEQ_LT(icmp->quoted_seq, tp->snd_una) || SEQ_GEQ(icmp->quoted_seq, tp->snd_max)) {
        stack_drop(stack, TCPC_STAT_icps_ignored, "ICMP error for no segment in flight");
        return;
    }
    int err = icmp->kind == ICMP_KIND_NEEDFRAG ? 0 : tcp_icmp_errno(icmp);
    if (icmp->kind == ICMP_KIND_NEEDFRAG) {
        /* No router drops a packet for being larger than an MTU it fits
         * in: such a message (one quoting a bare SYN, say) says nothing
         * about the path, and obeying it would resend at once for nothing. */
        if (icmp->quoted_len <= icmp->mtu) {
            stack_drop(stack, TCPC_STAT_icps_ignored, "ICMP too-big for a packet that fitted");
            return;
        }
        tcp_mtu_shrink(stack, tp, icmp->mtu);
    } else if (err == 0) {
        stack_drop(stack, TCPC_STAT_icps_ignored, "ICMP code TCP does not act on");
        return;
    } else if (tcp_icmp_may_reset(stack, icmp, err)) {
        if (tp->state == TCPS_SYN_SENT) {
            tfo_client_failed(stack, tp); /* as FreeBSD's tcp_drop_syn_sent */
            tcp_drop(stack, tp, err);
        }
    } else {
        tcp_soft_error(stack, tp, err);
    }
    tcp_deliver_events(stack);
}
