/*
 * Deciding what a connection sends, and sending it.
 *
 * tcp_output looks at the connection as a whole (what is queued, what the
 * peer's window and our congestion window allow, whether an ACK or window
 * update is owed, whether SYN or FIN is due) and emits segments until there
 * is nothing more worth sending: RFC 9293 3.8.6 for silly-window avoidance
 * and Nagle, RFC 7323 for options, RFC 6298 for the retransmission timer.
 */
#include <errno.h>
#include <string.h>

#include "core/ip_input.h"
#include "core/stack.h"
#include "tcp/tcp_cc.h"
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
#include "util/seq.h"

/* Option room of the timestamps (with the two NOPs aligning them). */
#define TCP_TS_OPTSPACE 12

/* The flags a state always sends (FreeBSD's tcp_outflags). */
static uint8_t tcp_state_flags(uint8_t state)
{
    switch (state) {
    case TCPS_SYN_SENT:
        return TH_SYN;
    case TCPS_SYN_RECEIVED:
        return TH_SYN | TH_ACK;
    case TCPS_CLOSED:
    case TCPS_LISTEN:
        return 0;
    default:
        return TH_ACK;
    }
}

static bool tcp_syn_unacked(const struct tcpcb *tp)
{
    return tp->state == TCPS_SYN_SENT || tp->state == TCPS_SYN_RECEIVED;
}

/* Sequence number of the first byte in the send buffer. */
static uint32_t tcp_sb_seq0(const struct tcpcb *tp)
{
    return tcp_syn_unacked(tp) ? tp->iss + 1 : tp->snd_una;
}

static void tcp_syn_options(const struct tcpc_stack *stack, const struct tcpcb *tp,
                            struct tcp_opts *o)
{
    if (tp->t_flags & TF_NOOPT)
        return; /* TCP_NOOPT: not even an MSS (the peer assumes 536) */
    o->present |= TOF_MSS;
    o->mss = tcp_mss_local(stack, tp);
    bool synack = tp->state == TCPS_SYN_RECEIVED;
    if ((tp->t_flags & TF_REQ_SCALE) && (!synack || (tp->t_flags & TF_RCVD_SCALE))) {
        o->present |= TOF_WSCALE;
        o->wscale = tp->request_r_scale;
    }
    if ((tp->t_flags & TF_SACK_PERMIT) ||
        (!synack && stack->cfg.tun.sack_enable && !(tp->t_flags2 & TF2_SYN_NOSACK)))
        o->present |= TOF_SACKPERM;
    tfo_syn_option(stack, tp, o);
}

/* RFC 2385: every segment, TCP_NOOPT or not; the digest is filled in by
 * tcp_sig_output, but the room is taken here, so that the payload is
 * placed once and SACK blocks fit around it. RFC 5925 the same way: the
 * MAC by tcp_sig_output, the room here. */
static void tcp_sig_options(const struct tcpcb *tp, struct tcp_opts *o)
{
    if (tp->t_md5)
        o->present |= TOF_SIG;
    if (tcp_ao_on(tp)) {
        o->present |= TOF_AO;
        o->ao_maclen = TCP_AO_MACLEN;
    }
}

/* A SYN's options: the negotiation ones, and timestamps when offered (or,
 * on a SYN-ACK, when the peer offered them). */
static void tcp_fill_syn_options(const struct tcpc_stack *stack, const struct tcpcb *tp,
                                 struct tcp_opts *o)
{
    tcp_syn_options(stack, tp, o);
    if ((tp->t_flags & TF_REQ_TSTMP) &&
        (tp->state == TCPS_SYN_SENT || (tp->t_flags & TF_RCVD_TSTMP))) {
        o->present |= TOF_TS;
        o->tsval = tcp_ts_now(stack, tp);
        o->tsecr = tp->ts_recent;
    }
    tcp_sig_options(tp, o);
}

/* Options for a segment of tp; SYNs carry the negotiation ones (apart,
 * so that every other segment's path stays short). o comes cleared
 * (tcp_repr_init, or an initialiser of the whole tcp_repr), so it is not
 * cleared a second time. */
static void tcp_fill_options(const struct tcpc_stack *stack, const struct tcpcb *tp, uint8_t flags,
                             struct tcp_opts *o)
{
    if (flags & TH_SYN) {
        tcp_fill_syn_options(stack, tp, o);
        return;
    }
    if ((tp->t_flags & (TF_REQ_TSTMP | TF_RCVD_TSTMP)) == (TF_REQ_TSTMP | TF_RCVD_TSTMP)) {
        o->present |= TOF_TS;
        o->tsval = tcp_ts_now(stack, tp);
        o->tsecr = tp->ts_recent;
    }
    /* RFC 2018: after out-of-order data, or with a D-SACK block owed (a
     * record held for RACK alone, the usual one, owes none). */
    if ((flags & TH_ACK) && (tp->t_flags & TF_SACK_PERMIT) &&
        (tp->rcv_reass.nranges || (tp->t_sack && sack_of(stack, tp)->dsack_owed)))
        sack_fill_options(stack, tp, o);
    tcp_sig_options(tp, o);
}

/* The window to advertise, never shrinking what was offered (RFC 9293
 * 3.8.6.2.2) unless buffer memory ran short (which that section allows:
 * tcp_sbuf.h), and unscaled on SYNs (RFC 7323 2.2). */
static uint16_t tcp_window_field(const struct tcpc_stack *stack, const struct tcpcb *tp,
                                 uint8_t flags, uint32_t *wnd_out)
{
    uint32_t mem = tcp_sb_rcv_mem(stack, tp);
    uint32_t wnd = tcp_rcv_space_of(tp, mem);
    /* Receiver SWS avoidance: hold back windows smaller than a segment
     * and a quarter of the buffer. */
    if (wnd < tp->rcv_bufsize / 4 && wnd < tp->t_maxseg)
        wnd = 0;
    uint32_t offered = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
    if (wnd < offered && !tcp_sb_rcv_memcut_of(tp, mem))
        wnd = offered;
    uint8_t shift = (flags & TH_SYN) ? 0 : tp->rcv_scale;
    uint32_t field = wnd >> shift;
    /* A scaled window is rounded up to the scale's unit, as FreeBSD's
     * tcp_output does (65,700 bytes at shift 6 read 1027), where the
     * storage may hold the extra bytes. */
    if ((field << shift) < wnd && ((uint64_t)(field + 1) << shift) <= mem)
        field++;
    if (field > TCP_MAXWIN)
        field = TCP_MAXWIN;
    *wnd_out = field << shift;
    return (uint16_t)field;
}

/* Whether the window growing by `growth` is worth an update. */
static bool tcp_window_growth_due(const struct tcpcb *tp, uint32_t growth)
{
    return growth >= 2u * tp->t_maxseg || growth * 2 >= tp->rcv_bufsize;
}

/* tcp_window_update_due of a connection known to be synchronized and
 * still receiving (ESTABLISHED, say). */
static inline bool tcp_window_update_open(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    uint32_t offered = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
    /* The window is never above the limit's room: when even that would be
     * no update (the usual case after a small read), the storage need not
     * be asked. */
    uint32_t most = tcp_rcv_limit_room(tp);
    if (most <= offered || !tcp_window_growth_due(tp, most - offered))
        return false;
    uint32_t space = tcp_rcv_space(stack, tp);
    return space > offered && tcp_window_growth_due(tp, space - offered);
}

/* Would a window update now tell the peer something useful? */
static bool tcp_window_update_due(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    if (!TCPS_HAVEESTABLISHED(tp->state) || TCPS_HAVERCVDFIN(tp->state))
        return false;
    return tcp_window_update_open(stack, tp);
}

struct tcp_plan {
    uint32_t off, len; /* payload: offset into the send buffer and length */
    uint32_t segmax;   /* payload bytes a full segment carries */
    uint8_t flags;
    bool more;   /* more data remains after this segment */
    bool rexmit; /* a retransmission chosen by loss recovery: snd_nxt stays */
    bool probe;  /* a zero-window probe */
};

/* th of tp out through the one door, signed with tp's MD5 key or under its
 * TCP-AO MKT; a segment sent moves the send SNE on. */
static int tcp_output_signed(struct tcpc_stack *stack, struct tcpcb *tp, const struct ip_repr *ip,
                             struct tcp_repr *th)
{
    if (!tp->t_ao) /* the plain path: no MKT to sign under or SNE to follow */
        return tcp_sig_output(stack, ip, th, tp->t_md5, NULL);
    struct tcp_ao_sign ao;
    bool authenticated = tcp_ao_sign_of(tp, th, &ao);
    int err = tcp_sig_output(stack, ip, th, tp->t_md5, authenticated ? &ao : NULL);
    if (err == 0 && authenticated)
        tcp_ao_sent(tp, th->seq);
    return err;
}

uint32_t tcp_seg_payload(const struct tcpcb *tp)
{
    uint32_t seg = tp->t_maxseg;
    if ((tp->t_flags & (TF_REQ_TSTMP | TF_RCVD_TSTMP)) == (TF_REQ_TSTMP | TF_RCVD_TSTMP))
        seg -= TCP_TS_OPTSPACE; /* the timestamp option takes payload room */
    if (tp->t_md5)
        seg -= TCP_MD5_OPTSPACE; /* and so does an RFC 2385 signature */
    if (tcp_ao_on(tp))
        seg -= TCP_AO_OPTSPACE; /* or an RFC 5925 MAC */
    return seg;
}

uint32_t tcp_sb_unsent(const struct tcpcb *tp)
{
    uint32_t sent = tp->snd_nxt - tcp_sb_seq0(tp);
    return tp->snd.len > sent ? tp->snd.len - sent : 0;
}

/* How much data to send now, before Nagle and SWS decide whether to. */
static void tcp_plan_data(const struct tcpc_stack *stack, const struct tcpcb *tp, bool force,
                          struct tcp_plan *p)
{
    uint32_t seq0 = tcp_sb_seq0(tp);
    uint32_t off = SEQ_GT(tp->snd_nxt, seq0) ? tp->snd_nxt - seq0 : 0;
    if (off > tp->snd.len)
        off = tp->snd.len; /* only the FIN lies beyond the data */
    uint32_t wnd = tp->snd_wnd;
    if (force && wnd == 0) {
        wnd = 1; /* a zero-window probe carries one byte past the window */
        p->probe = true;
    }
    uint32_t inflight = tp->snd_nxt - tp->snd_una;
    uint32_t len = tp->snd.len - off;
    uint32_t room = wnd > inflight ? wnd - inflight : 0;
    uint32_t cong = recovery_cwnd_room(stack, tp);
    if (room > cong)
        room = cong;
    if (len > room)
        len = room;
    uint32_t seg = tcp_seg_payload(tp);
    p->segmax = seg;
    p->more = len > seg;
    if (len > seg)
        len = seg;
    p->off = off;
    p->len = len;
}

/*
 * TCP_NOPUSH (FreeBSD's TF_NOPUSH, Linux's TCP_CORK): the tail of the send
 * buffer, short of a full segment, waits for more data, for the option to
 * be cleared or for the FIN (the application will add nothing more), and
 * at the latest for the persist timer, which FreeBSD lets push it too.
 */
static bool tcp_tail_held(const struct tcpcb *tp)
{
    return (tp->t_flags & (TF_NOPUSH | TF_NEEDFIN)) == TF_NOPUSH;
}

/* Sender SWS avoidance and Nagle (RFC 9293 3.8.6.2.1, RFC 896). */
static bool tcp_data_worth_sending(const struct tcpcb *tp, const struct tcp_plan *p, bool force)
{
    if (p->len == 0)
        return false;
    if (force || p->len >= p->segmax || SEQ_LT(tp->snd_nxt, tp->snd_max))
        return true;
    bool idle = tp->snd_una == tp->snd_max;
    bool drains = p->off + p->len >= tp->snd.len;
    /* Urgent data waits neither for an ACK (Nagle) nor for more data
     * (TCP_NOPUSH); only for the window, as any data. */
    if (drains && urg_ahead_of(tp, tcp_sb_seq0(tp) + p->off))
        return true;
    if ((idle || (tp->t_flags & TF_NODELAY)) && drains && !tcp_tail_held(tp))
        return true;
    return p->len >= tp->max_sndwnd / 2 && tp->max_sndwnd > 0;
}

static bool tcp_fin_due(const struct tcpcb *tp, const struct tcp_plan *p)
{
    if (!(tp->t_flags & TF_NEEDFIN) || tcp_syn_unacked(tp))
        return false;
    if (p->off + p->len != tp->snd.len)
        return false;
    /* Not yet sent, or being retransmitted (snd_nxt pulled back). */
    return !(tp->t_flags & TF_SENTFIN) || SEQ_LT(tp->snd_nxt, tp->snd_max);
}

static void tcp_count_output(struct tcpc_stack *stack, const struct tcpcb *tp,
                             const struct tcp_repr *th)
{
    if ((th->flags & (TH_SYN | TH_ACK)) == TH_SYN && (th->opts.present & TOF_FASTOPEN)) {
        if (th->opts.tfo_len == 0)
            STAT_INC(stack, tcps_tfo_cookie_req);
        else if (th->payload_len)
            STAT_INC(stack, tcps_tfo_syn_data_sent);
    }
    if (th->payload_len) {
        if (SEQ_LT(th->seq, tp->snd_max)) {
            STAT_INC(stack, tcps_sndrexmitpack);
            STAT_ADD(stack, tcps_sndrexmitbyte, th->payload_len);
        } else {
            STAT_INC(stack, tcps_sndpack);
            STAT_ADD(stack, tcps_sndbyte, th->payload_len);
        }
    } else if (th->flags & (TH_SYN | TH_FIN | TH_RST)) {
        STAT_INC(stack, tcps_sndctrl);
    } else if (tp->t_flags & (TF_ACKNOW | TF_DELACK)) {
        STAT_INC(stack, tcps_sndacks);
    } else {
        STAT_INC(stack, tcps_sndwinup);
    }
}

/*
 * The send sequence space th covers is in flight from now on, whether the
 * segment left or the link refused it: snd_max grows over it (a FIN counts
 * as sent) and the retransmission timer watches it. A refused segment is
 * thus recovered exactly as one lost on the wire, by retransmission, and a
 * connection never waits for a timer that was not armed. Only a segment
 * that left is timed (Karn).
 */
static void tcp_seq_in_flight(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_repr *th,
                              bool left)
{
    uint32_t seqlen = (uint32_t)th->payload_len + !!(th->flags & TH_SYN) + !!(th->flags & TH_FIN);
    if (seqlen == 0)
        return;
    uint32_t end = th->seq + seqlen;
    rack_sent(stack, tp, th->seq, end);
    if (th->flags & TH_FIN)
        tp->t_flags |= TF_SENTFIN;
    bool fresh = SEQ_GT(end, tp->snd_max);
    if (fresh) {
        if (left && SEQ_GEQ(th->seq, tp->snd_max) && !tp->t_rtttime) {
            tp->t_rtttime = tcp_rtt_stamp(stack);
            tp->t_rtseq = th->seq;
            STAT_INC(stack, tcps_segstimed);
        }
        tp->snd_max = end;
    }
    if (!tcp_timer_active(tp, TT_REXMT)) {
        tcp_timer_stop(stack, tp, TT_PERSIST);
        tcp_timer_set(stack, tp, TT_REXMT, tp->t_rxtcur);
    }
    if (fresh && left)
        rack_tlp_schedule(stack, tp); /* RFC 8985 7.2: from the last new data */
}

/* Bookkeeping after a segment left: the send point moves past it, and any
 * ACK or window update owed has now been given. */
static void tcp_after_send(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_repr *th,
                           uint32_t wnd, bool rexmit)
{
    uint32_t seqlen = (uint32_t)th->payload_len + !!(th->flags & TH_SYN) + !!(th->flags & TH_FIN);
    if (rexmit) {
        /* Karn: a retransmitted segment times nothing. */
        if (tp->t_rtttime && SEQ_GEQ(tp->t_rtseq, th->seq) && SEQ_LT(tp->t_rtseq, th->seq + seqlen))
            tp->t_rtttime = 0;
    } else if (seqlen) {
        tp->snd_nxt = th->seq + seqlen; /* an ACK's SEQ is not a send point */
    }
    if (seqlen)
        tcp_seq_in_flight(stack, tp, th, true); /* an ACK puts nothing in flight */
    if (tp->t_flags & TF_FASTRECOV)
        recovery_sent(stack, tp, (uint32_t)th->payload_len, rexmit, th->seq + seqlen);
    if (th->flags & TH_ACK) {
        if (th->opts.present & TOF_SACK)
            sack_options_sent(stack, tp, &th->opts);
        tp->last_ack_sent = tp->rcv_nxt;
        if (SEQ_GT(tp->rcv_nxt + wnd, tp->rcv_adv))
            tp->rcv_adv = tp->rcv_nxt + wnd;
        tp->t_flags &= ~(TF_ACKNOW | TF_DELACK);
        tp->t_segs_unacked = 0;
        tcp_timer_stop(stack, tp, TT_DELACK);
        tcp_sb_quiet(stack, tp);
    }
}

/*
 * The SEQ of a segment without data, SYN or FIN (an ACK, a window update):
 * the highest sequence number sent, RFC 9293's SND.NXT. Our snd_nxt runs
 * behind it while a timeout resends from snd_una, and the peer, already
 * past it, would find an ACK there wholly before its window and drop it
 * (RFC 9293 3.10.7.4) with the news it carries. While the persist timer
 * probes a shut window, snd_max covers a probe byte the peer refused, and
 * the ACK goes at snd_nxt, where the peer's window begins (as in BSD).
 */
static uint32_t tcp_ack_seq(const struct tcpcb *tp)
{
    return tcp_timer_active(tp, TT_PERSIST) ? tp->snd_nxt : tp->snd_max;
}

/* SACK blocks take option room that a full segment's payload counted on:
 * the payload gives way (the blocks are what the peer's recovery needs) and
 * the rest follows in the next segment. */
static void tcp_fit_options(const struct tcpcb *tp, struct tcp_plan *p, const struct tcp_opts *o)
{
    if (p->len && (p->flags & TH_SYN)) {
        /* Data on a Fast Open SYN, beside its cookie only; the options
         * share the segment with it. */
        uint32_t optlen = (uint32_t)tcp_opts_len(o);
        uint32_t room = p->segmax > optlen ? p->segmax - optlen : 0;
        if (!(o->present & TOF_FASTOPEN) || o->tfo_len == 0)
            room = 0;
        if (p->len > room)
            p->len = room;
        return;
    }
    if (p->len == 0 || !(o->present & TOF_SACK))
        return;
    uint32_t room = tp->t_maxseg - (uint32_t)tcp_opts_len(o);
    if (p->len <= room)
        return;
    p->len = room;
    p->more = true;
    p->flags &= (uint8_t)~TH_FIN;
}

/* The payload goes from the send buffer straight to its place in the
 * output packet, where tcp_emit_packet finds it and leaves it: one copy,
 * no staging buffer. Timestamps alone, on nearly every segment, take
 * their 12 bytes (<nop,nop,TS>) without the layout being worked out. */
static int tcp_place_payload(struct tcpc_stack *stack, const struct tcpcb *tp,
                             const struct tcp_plan *p, const struct ip_repr *ip,
                             struct tcp_repr *th)
{
    uint8_t *pkt = stack_outbuf(stack);
    size_t at = th->opts.present == TOF_TS ? ip_header_len(ip) + TCP_HDR_LEN + TCP_TS_OPTSPACE
                                           : tcp_payload_offset(ip, &th->opts);
    if (at + p->len > STACK_OUTBUF_LEN)
        return -EMSGSIZE; /* as ip_output_tcp says of a packet it cannot build */
    sb_copy_out(&tp->snd, p->off, pkt + at, p->len);
    th->payload = pkt + at;
    th->payload_len = p->len;
    return 0;
}

/*
 * Pacing. A paced connection (a rate from its congestion-control
 * algorithm, t_pacing_rate, or from TCPC_SO_MAX_PACING_RATE, which caps
 * it) sends its data in bursts: one output sends what starts within a
 * quantum, and each data segment that leaves moves the release, the time
 * the next may leave, on by its length at the rate. While the release lies
 * ahead, data waits: the release is a connection deadline (TT_PACE), and
 * its firing runs output again. Time is the stack's clock, as everywhere.
 *
 * The quantum is a millisecond at the rate, at least two segments and at
 * most 64 KiB. A millisecond bounds the work to one output (and one
 * deadline for the embedder) per millisecond per connection; two segments
 * keep a slow connection's bursts in the pairs a delayed-ACK receiver
 * acknowledges at once (one at a time, each would wait for its delayed
 * ACK); 64 KiB keeps a fast connection's burst to what a switch port
 * usually absorbs. Only data waits: ACKs, window updates, SYN, FIN alone
 * and RST go when due, and what a timer sends goes at once (the
 * retransmission timeout's resend, which drops the release, the path
 * having drained: tcp_timer.c; the persist probe) as does the one
 * segment a loss signal resends outside output (the fast retransmit,
 * NewReno's partial-ACK resend, the tail-loss probe: each is a single
 * segment, whose delay would only delay the repair). What leaves
 * unheld still moves the release, so the rate holds over what follows.
 * Retransmissions output makes during SACK recovery wait as new data
 * does: a burst of them into the queue that just overflowed is what
 * pacing is there to prevent.
 */
#define PACE_QUANTUM_MAX 65536u

uint32_t tcp_pacing_rate(const struct tcpcb *tp)
{
    uint32_t rate = tp->t_pacing_rate, cap = tp->t_max_pacing_rate;
    return rate && (!cap || rate < cap) ? rate : cap;
}

/* The flag test an unpaced connection pays. */
static inline bool tcp_paced(const struct tcpcb *tp)
{
    return (tp->t_pacing_rate | tp->t_max_pacing_rate) != 0;
}

/* Microseconds len bytes take at rate, rounded up: never faster. */
static tcpc_time_t pace_time(uint64_t len, uint32_t rate)
{
    return (len * TCPC_USEC_PER_SEC + rate - 1) / rate;
}

static uint32_t pace_quantum(uint32_t rate, uint32_t seg)
{
    uint32_t q = rate / 1000;
    if (q > PACE_QUANTUM_MAX)
        q = PACE_QUANTUM_MAX;
    return q > 2 * seg ? q : 2 * seg;
}

/*
 * Whether tp's data may start now: a release passed begins a burst, which
 * lasts, at this instant of the clock, while the release stays before the
 * burst's end (a quantum at the rate past its start); otherwise the data
 * waits. The burst under way is the stack's (tcp_state.pace_*), not the
 * connection's: it only lives for the instant it began in, so one record
 * does, and a burst cut short by another connection's only ends early.
 */
static bool pace_may_start(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct tcp_state *ts = stack->tcp;
    tcpc_time_t rel = tp->t_deadline[TT_PACE];
    if (rel <= stack->now) {
        uint32_t rate = tcp_pacing_rate(tp);
        ts->pace_tp = tp;
        ts->pace_at = stack->now;
        ts->pace_end = stack->now + pace_time(pace_quantum(rate, tcp_seg_payload(tp)), rate);
        return true;
    }
    return ts->pace_tp == tp && ts->pace_at == stack->now && rel < ts->pace_end;
}

/* len bytes of data left: the release moves on by their time at the rate,
 * from itself or, once passed, from now (time nothing was sent in earns
 * no burst beyond the quantum). Never in FIN_WAIT_2, whose timer shares
 * the slot: nothing is left to send there. */
static void pace_sent(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t len)
{
    tcpc_time_t rel = tp->t_deadline[TT_PACE];
    tcpc_time_t from = rel > stack->now ? rel : stack->now;
    tp->t_deadline[TT_PACE] = from + pace_time(len, tcp_pacing_rate(tp));
    /* An entry filed at the release just moved would wake the embedder
     * for nothing once per segment of a burst: it is filed again, at the
     * earliest deadline now. */
    if (rel && timer_armed(&tp->t_timer) && timer_deadline(&tp->t_timer) == rel)
        tcp_timer_cancel_all(stack, tp);
    tcp_timer_rearm(stack, tp);
}

/* Planned data of a paced connection: held (false) unless it may start,
 * else charged now, before it is sent (a segment the link then refuses
 * stays charged: it goes again later, as if lost). */
static bool pace_admit(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_plan *p)
{
    if (!pace_may_start(stack, tp)) {
        STAT_INC(stack, tcps_pace_held);
        p->more = false;
        return false;
    }
    pace_sent(stack, tp, p->len);
    return true;
}

/* Builds and emits one segment from the plan (which a SACK option may
 * shorten). */
static int tcp_send_segment(struct tcpc_stack *stack, struct tcpcb *tp, struct tcp_plan *p)
{
    struct ip_repr ip;
    struct tcp_repr th;
    tcp_repr_init(&th, tp->inp->lport, tp->inp->fport, p->flags);
    tcp_fill_ip(stack, tp, &ip);
    th.seq = (p->flags & TH_SYN) ? tp->iss : tcp_sb_seq0(tp) + p->off;
    if (!(p->flags & TH_SYN) && p->len == 0 && !(p->flags & TH_FIN))
        th.seq = tcp_ack_seq(tp);
    th.ack = (p->flags & TH_ACK) ? tp->rcv_nxt : 0;
    uint32_t wnd;
    th.win = tcp_window_field(stack, tp, p->flags, &wnd);
    tcp_fill_options(stack, tp, p->flags, &th.opts);
    tcp_fit_options(tp, p, &th.opts);
    th.flags = p->flags;
    urg_output(tp, &th);
    int err = 0;
    if (ecn_output_due(tp, th.flags)) {
        bool new_data = !p->rexmit && !p->probe && SEQ_GEQ(th.seq, tp->snd_max);
        ip.tos |= ecn_output(stack, tp, &th.flags, p->len, new_data);
    }
    if (p->len) {
        err = tcp_place_payload(stack, tp, p, &ip, &th);
        if (p->off + p->len == tp->snd.len && !(p->flags & TH_SYN))
            th.flags |= TH_PSH; /* FreeBSD's Fast Open SYN goes without it */
    }
    if (!err)
        err = tcp_output_signed(stack, tp, &ip, &th);
    if (err) {
        /* Refused by the link (ips_odropped counted it), or not buildable:
         * in flight all the same, so the retransmission timer resends it.
         * snd_nxt stays at its start, so that the next output resends it
         * sooner if the link has room by then (FreeBSD backs snd_nxt out
         * the same way), and an ACK it carried is still owed. A lost ACK
         * needs no timer of its own: the peer's retransmission asks again. */
        tcp_seq_in_flight(stack, tp, &th, false);
        return err;
    }
    tcp_count_output(stack, tp, &th);
    tcp_after_send(stack, tp, &th, wnd, p->rexmit);
    return 0;
}

/*
 * FreeBSD's tcp_output sends the FIN with every segment of FIN_WAIT_1,
 * CLOSING and LAST_ACK while it is unacknowledged: an ACK due there (of
 * the peer's FIN, of data, after an unacceptable segment) repeats the FIN
 * at its sequence number, "F. 1:1(0) ack 2" where a bare ACK would read
 * ". 2:2(0) ack 2". Only challenge ACKs (RFC 5961), which FreeBSD sends
 * apart from tcp_output, stay bare. tcpcore repeats it only when the FIN is
 * all that is unacknowledged: beyond a hole in the peer's data it would
 * draw an immediate ACK, from a peer that is closing too a repeated FIN,
 * and two such peers would trade them without end.
 */
static bool tcp_fin_repeats(const struct tcpcb *tp, const struct tcp_plan *p)
{
    bool fin_state =
        tp->state == TCPS_FIN_WAIT_1 || tp->state == TCPS_CLOSING || tp->state == TCPS_LAST_ACK;
    return fin_state && (tp->t_flags & TF_SENTFIN) && tp->snd_nxt == tp->snd_max &&
           tp->snd_una + 1 == tp->snd_max && p->len == 0 && p->off == tp->snd.len;
}

/* The data a Fast Open SYN carries: from the start of the send buffer, at
 * most a segment of the smaller of our MSS and the one the server gave with
 * its cookie (tcp_fit_options takes the options off). */
static void tcp_plan_syn_data(const struct tcpcb *tp, struct tcp_plan *p)
{
    uint32_t seg = tp->t_maxseg;
    if (tp->t_tfo_mss && tp->t_tfo_mss < seg)
        seg = tp->t_tfo_mss;
    p->segmax = seg;
    p->off = 0;
    p->len = tp->snd.len < seg ? tp->snd.len : seg;
}

/* One decision: fills the plan and says whether a segment is due. bare:
 * an ACK without a repeated FIN (a challenge ACK). */
static bool tcp_plan_segment(struct tcpc_stack *stack, struct tcpcb *tp, bool force, bool bare,
                             struct tcp_plan *p)
{
    memset(p, 0, sizeof(*p));
    p->flags = tcp_state_flags(tp->state);
    if (p->flags == 0)
        return false;
    if (tcp_syn_unacked(tp)) {
        /* Nothing but the SYN until it is acknowledged: with Fast Open,
         * the SYN itself carries what it can of the data. */
        if (tp->snd_nxt == tp->iss) {
            if (tfo_syn_data_ok(tp))
                tcp_plan_syn_data(tp, p);
            return true;
        }
        p->flags &= (uint8_t)~TH_SYN;
        return (tp->t_flags & TF_ACKNOW) && (p->flags & TH_ACK);
    }
    recovery_skip_sacked(stack, tp);
    tcp_plan_data(stack, tp, force, p);
    bool send_data = tcp_data_worth_sending(tp, p, force);
    /* The one test pacing costs an unpaced connection's data. */
    if (send_data && tcp_paced(tp) && !force)
        send_data = pace_admit(stack, tp, p);
    if (!send_data)
        p->len = 0;
    if (tcp_fin_due(tp, p))
        p->flags |= TH_FIN;
    bool due = send_data || (p->flags & TH_FIN) || (tp->t_flags & TF_ACKNOW) ||
               tcp_window_update_due(stack, tp);
    if (due && !bare && tcp_fin_repeats(tp, p))
        p->flags |= TH_FIN;
    return due;
}

/* Data waits behind a zero window: make sure the persist timer probes it. */
static void tcp_maybe_persist(struct tcpc_stack *stack, struct tcpcb *tp)
{
    /* Queued data with nothing in flight and no timer would wait for the
     * peer forever, whether a zero window or sender SWS avoidance (RFC 9293
     * 3.8.6.2.1's override timeout) held it back: the persist timer covers
     * both, as in FreeBSD. */
    if (tcp_syn_unacked(tp) || tcp_timer_active(tp, TT_REXMT) || tcp_timer_active(tp, TT_PERSIST))
        return;
    uint32_t seq0 = tcp_sb_seq0(tp);
    bool unsent = tp->snd.len > tp->snd_nxt - seq0;
    bool fin_unsent = (tp->t_flags & (TF_NEEDFIN | TF_SENTFIN)) == TF_NEEDFIN;
    if (unsent || fin_unsent)
        tcp_timer_set(stack, tp, TT_PERSIST, tcp_rexmt_timeout(stack, tp));
}

static int tcp_output_loop(struct tcpc_stack *stack, struct tcpcb *tp, bool force, bool bare)
{
    struct tcp_plan plan;
    int err = 0;
    cc_output_idle_check(stack, tp);
    tcp_sb_snd_autosize(stack, tp);
    for (int budget = 0; budget < 1024; budget++) {
        if ((tp->t_flags & TF_SACKRECOV) && (!tcp_paced(tp) || pace_may_start(stack, tp))) {
            err = recovery_rexmit(stack, tp);
            if (err < 0)
                break;
            if (err > 0) {
                err = 0;
                continue;
            }
        }
        if (!tcp_plan_segment(stack, tp, force, bare, &plan))
            break;
        err = tcp_send_segment(stack, tp, &plan);
        if (err)
            break; /* the link is full: stop, the timers are armed */
        force = false;
        if (!plan.more)
            break;
    }
    if (tp->t_flags2 & TF2_CC_RATE)
        rack_rate_app_limited(stack, tp);
    tcp_maybe_persist(stack, tp);
    return err;
}

/* One segment of at most maxlen bytes from seq: a retransmission (below
 * snd_max, snd_nxt stays) or, when !rexmit, new data at snd_max. */
static int tcp_send_range(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t seq, uint32_t maxlen,
                          bool rexmit)
{
    uint32_t seq0 = tcp_sb_seq0(tp);
    bool where = rexmit ? SEQ_LT(seq, tp->snd_max) : seq == tp->snd_max && seq == tp->snd_nxt;
    if (tcp_syn_unacked(tp) || SEQ_LT(seq, seq0) || !where)
        return 0;
    struct tcp_plan p = {.off = seq - seq0, .segmax = tcp_seg_payload(tp), .rexmit = rexmit};
    p.flags = tcp_state_flags(tp->state);
    if (!(p.flags & TH_ACK) || p.off > tp->snd.len)
        return 0;
    uint32_t len = tp->snd.len - p.off;
    if (len > maxlen)
        len = maxlen;
    if (len > p.segmax)
        len = p.segmax;
    p.len = len;
    /* The FIN goes again with the last byte (or alone when only it is due). */
    if ((tp->t_flags & TF_SENTFIN) && p.off + len == tp->snd.len && seq + len + 1 == tp->snd_max)
        p.flags |= TH_FIN;
    if (p.len == 0 && !(p.flags & TH_FIN))
        return 0;
    int err = tcp_send_segment(stack, tp, &p);
    if (!err && p.len && tcp_paced(tp))
        pace_sent(stack, tp, p.len); /* not held, but the rate goes on from it */
    return err ? err : (int)(p.len + !!(p.flags & TH_FIN));
}

int tcp_rexmit_segment(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t seq, uint32_t maxlen)
{
    return tcp_send_range(stack, tp, seq, maxlen, true);
}

int tcp_probe_new_data(struct tcpc_stack *stack, struct tcpcb *tp)
{
    uint32_t unsent = tcp_sb_unsent(tp);
    uint32_t inflight = tp->snd_max - tp->snd_una;
    uint32_t room = tp->snd_wnd > inflight ? tp->snd_wnd - inflight : 0;
    uint32_t len = unsent < tcp_seg_payload(tp) ? unsent : tcp_seg_payload(tp);
    if (len == 0 || room < len)
        return 0;
    return tcp_send_range(stack, tp, tp->snd_max, len, false);
}

uint32_t tcp_tail_seq(const struct tcpcb *tp, uint32_t floor, uint32_t *len)
{
    uint32_t data_end = tp->snd_max - !!(tp->t_flags & TF_SENTFIN);
    uint32_t seg = tcp_seg_payload(tp);
    uint32_t seq = SEQ_GT(data_end - seg, floor) ? data_end - seg : floor;
    *len = data_end - seq;
    return seq;
}

int tcp_output(struct tcpc_stack *stack, struct tcpcb *tp)
{
    return tcp_output_loop(stack, tp, false, false);
}

/* What tcp_output_loop does when tcp_output_if_due finds the connection
 * quiet and an ACK owed: the plan it would make (no payload, no FIN, ACK
 * only, nothing more), sent without working it out; the idle restart and
 * the persist timer have nothing to act on with no data queued. */
static int tcp_output_ack(struct tcpc_stack *stack, struct tcpcb *tp)
{
    tcp_sb_snd_autosize(stack, tp);
    struct tcp_plan plan = {.flags = TH_ACK}; /* segmax: read only for a payload */
    return tcp_send_segment(stack, tp, &plan);
}

int tcp_output_if_due(struct tcpc_stack *stack, struct tcpcb *tp)
{
    /* Established, with nothing queued or pulled back (so no data, FIN,
     * probe, skip over SACKed data or idle restart) and no recovery under
     * way, the one segment that can be due is an ACK, owed or as a window
     * update: tcp_output would plan exactly that and find nothing else. */
    bool quiet = !(tp->t_flags & (TF_NEEDFIN | TF_SACKRECOV)) && tp->state == TCPS_ESTABLISHED &&
                 tp->snd.len == 0 && tp->snd_nxt == tp->snd_max;
    if (quiet && (tp->t_flags & TF_ACKNOW))
        return tcp_output_ack(stack, tp);
    if (quiet && !tcp_window_update_open(stack, tp)) /* quiet: ESTABLISHED */
        return 0;
    return tcp_output(stack, tp);
}

/* The persist timer's probe: one byte past a zero window, or whatever
 * the window now allows. */
int tcp_output_force(struct tcpc_stack *stack, struct tcpcb *tp)
{
    return tcp_output_loop(stack, tp, true, false);
}

int tcp_send_keepalive(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct ip_repr ip;
    struct tcp_repr th = {.sport = tp->inp->lport,
                          .dport = tp->inp->fport,
                          .flags = TH_ACK,
                          .seq = tp->snd_una - 1,
                          .ack = tp->rcv_nxt};
    tcp_fill_ip(stack, tp, &ip);
    uint32_t wnd;
    th.win = tcp_window_field(stack, tp, TH_ACK, &wnd);
    tcp_fill_options(stack, tp, TH_ACK, &th.opts);
    return tcp_output_signed(stack, tp, &ip, &th);
}

void tcp_send_challenge_ack(struct tcpc_stack *stack, struct tcpcb *tp)
{
    uint32_t now = cc_clock_ms(stack->now); /* t_rcvtime's clock */
    if (now - tp->t_challenge_start >= 1000) {
        tp->t_challenge_start = now;
        tp->t_challenge_count = 0;
    }
    if (tp->t_challenge_count >= (uint32_t)stack->cfg.tun.ack_limit) {
        STAT_INC(stack, tcps_challenge_ack_limited);
        return;
    }
    tp->t_challenge_count++;
    STAT_INC(stack, tcps_challenge_ack);
    tp->t_flags |= TF_ACKNOW;
    tcp_output_loop(stack, tp, false, true);
}

uint32_t tcp_rtt_stamp(const struct tcpc_stack *stack)
{
    uint32_t t = (uint32_t)stack->now;
    return t ? t : 1;
}

tcpc_time_t tcp_rtt_since(const struct tcpc_stack *stack, uint32_t stamp)
{
    return (uint32_t)((uint32_t)stack->now - stamp);
}

void tcp_xmit_timer(struct tcpc_stack *stack, struct tcpcb *tp, tcpc_time_t rtt)
{
    STAT_INC(stack, tcps_rttupdated);
    if (rtt == 0)
        rtt = 1;
    if (rtt > TCP_RTT_MAX)
        rtt = TCP_RTT_MAX; /* keeps 7 * srtt + rtt within 32 bits */
    uint32_t sample = (uint32_t)rtt;
    if (tp->t_srtt == 0) {
        tp->t_srtt = sample;
        tp->t_rttvar = sample / 2;
    } else {
        uint32_t delta = tp->t_srtt > sample ? tp->t_srtt - sample : sample - tp->t_srtt;
        tp->t_rttvar = (3 * tp->t_rttvar + delta) / 4;
        tp->t_srtt = (7 * tp->t_srtt + sample) / 8;
    }
    tp->t_rxtshift = 0;
    tp->t_rxtcur = tcp_rexmt_timeout(stack, tp);
}
