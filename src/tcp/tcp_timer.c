/*
 * Connection timers: retransmission (RFC 6298) with TCP_USER_TIMEOUT and
 * path-MTU black-hole detection, zero-window persist, connection
 * establishment and keepalive (one timer, as in FreeBSD), delayed ACK, and
 * the FIN_WAIT_2 timeout.
 *
 * Each connection has one wheel entry armed at its earliest logical timer
 * (see tcp_var.h); when it fires, every logical timer that is due runs.
 */
#include <errno.h>

#include "core/stack.h"
#include "tcp/syncache.h"
#include "tcp/tcp_accf.h"
#include "tcp/tcp_rack.h"
#include "tcp/tcp_cc.h"
#include "tcp/tcp_recovery.h"
#include "tcp/tcp_sbuf.h"
#include "tcp/tcp_subr.h"
#include "tcp/timewait.h"
#include "util/container.h"

uint32_t tcp_rexmt_timeout(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    const struct tcpc_tunables *tun = &stack->cfg.tun;
    tcpc_time_t base;
    if (tp->t_srtt == 0) {
        base = (tcpc_time_t)tun->rexmit_initial * TCPC_USEC_PER_MSEC;
    } else {
        tcpc_time_t var = 4 * tp->t_rttvar;
        base = tp->t_srtt + (var > TCPC_USEC_PER_MSEC ? var : TCPC_USEC_PER_MSEC);
    }
    /* RFC 6298 2.4 then 5.5: the floor applies to the RTO itself, and the
     * backoff doubles that (as FreeBSD's TCP_REXMTVAL * tcp_backoff[]);
     * flooring after the shift would leave a short-RTT path retrying at
     * rexmit_min with no backoff at all. */
    tcpc_time_t lo = (tcpc_time_t)tun->rexmit_min * TCPC_USEC_PER_MSEC;
    tcpc_time_t hi = (tcpc_time_t)tun->rexmit_max * TCPC_USEC_PER_MSEC;
    if (base < lo)
        base = lo;
    tcpc_time_t rto = base << (tp->t_rxtshift < 20 ? tp->t_rxtshift : 20);
    /* FreeBSD's slop (TCPT_RANGESET) goes on top of the backed-off value,
     * for a timer set from an RTT sample or a timeout; the first SYN's
     * rexmit_initial, set before either, goes without. */
    if (tp->t_srtt || tp->t_rxtshift)
        rto += (tcpc_time_t)tun->rexmit_slop * TCPC_USEC_PER_MSEC;
    if (rto > hi)
        rto = hi;
    return (uint32_t)rto; /* rexmit_max is at most 600 s */
}

/*
 * Whether the retransmissions have gone on long enough to give up:
 * TCP_MAXRXTSHIFT timeouts without progress, or, with TCP_USER_TIMEOUT,
 * that many milliseconds since the data was last known to progress, however
 * many timeouts that took (Linux's rule: the user timeout replaces the
 * count). The backoff itself only collapses on a valid RTT sample (RFC 6298
 * 5.7), so an ACK of a retransmission keeps it while counting as progress.
 */
static bool rexmt_give_up(struct tcpc_stack *stack, struct tcpcb *tp)
{
    uint32_t now_ms = cc_clock_ms(stack->now);
    if (tp->t_rxtcount == 0) /* the timer ran from the last progress */
        tp->t_rxtstart = now_ms - (uint32_t)(tp->t_rxtcur / TCPC_USEC_PER_MSEC);
    if (tp->t_rxtcount < UINT8_MAX)
        tp->t_rxtcount++;
    if (tp->t_user_timeout)
        return now_ms - tp->t_rxtstart >= tp->t_user_timeout;
    return tp->t_rxtcount > TCP_MAXRXTSHIFT;
}

/* The next retransmission no later than the user timeout, so that the
 * connection ends when it says rather than up to a backed-off RTO later. */
static void rexmt_clamp_user_timeout(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (!tp->t_user_timeout || !tcp_timer_active(tp, TT_REXMT))
        return;
    uint32_t spent = cc_clock_ms(stack->now) - tp->t_rxtstart; /* < t_user_timeout */
    tcpc_time_t left = (tcpc_time_t)(tp->t_user_timeout - spent) * TCPC_USEC_PER_MSEC;
    if (stack->now + left < tp->t_deadline[TT_REXMT])
        tcp_timer_set(stack, tp, TT_REXMT, left);
}

/*
 * Path-MTU black-hole detection (net.inet.tcp.pmtud_blackhole_detection,
 * FreeBSD's scheme): a path that silently drops full-size segments (an
 * ICMP "too big" filtered on the way) shows as timeouts. From the second
 * timeout of a full-size segment, every second timeout tries a smaller MSS:
 * pmtud_blackhole_mss (v6pmtud_blackhole_mss) if below the one in use and
 * above the smallest, then the smallest (net.inet.tcp.mssdflt; IPv6: the
 * MSS of its 1280-byte minimum MTU). Each gets two timeouts; when the last
 * has had them too, the path was not the problem and the MSS goes back.
 */
static uint32_t blackhole_floor(const struct tcpc_stack *stack, bool v6)
{
    return v6 ? tcp_mss_for_mtu(true, 1280) : (uint32_t)stack->cfg.tun.mssdflt;
}

static void rexmt_blackhole(struct tcpc_stack *stack, struct tcpcb *tp)
{
    const struct tcpc_tunables *tun = &stack->cfg.tun;
    bool v6 = tp->family != TCPC_AF_INET;
    int64_t mode = tun->pmtud_blackhole_detection; /* 1 both, 2 IPv4, 3 IPv6 */
    if (mode == 0 || mode == (v6 ? 2 : 3))
        return;
    if (tp->state != TCPS_ESTABLISHED && tp->state != TCPS_FIN_WAIT_1)
        return;
    bool lowered = tp->t_pmtud_saved_maxseg != 0;
    uint32_t orig = lowered ? tp->t_pmtud_saved_maxseg : tp->t_maxseg;
    uint32_t first = (uint32_t)(v6 ? tun->v6pmtud_blackhole_mss : tun->pmtud_blackhole_mss);
    uint32_t floor = blackhole_floor(stack, v6);
    unsigned tries = (orig > first && first > floor) + (orig > floor);
    unsigned shift = tp->t_rxtshift;
    uint32_t held = tp->snd_max - tp->snd_una;
    bool full = (held < tp->snd.len ? held : tp->snd.len) >= tcp_seg_payload(tp);
    if (shift >= 2 && shift < 2 + 2 * tries && shift % 2 == 0 && full) {
        if (!lowered)
            tp->t_pmtud_saved_maxseg = tp->t_maxseg;
        if (tp->t_maxseg > first && first > floor) {
            tp->t_maxseg = (uint16_t)first;
            STAT_INC(stack, tcps_pmtud_blackhole_activated);
        } else {
            tp->t_maxseg = (uint16_t)floor;
            STAT_INC(stack, tcps_pmtud_blackhole_activated_min_mss);
        }
    } else if (lowered && shift >= 2 + 2 * tries) {
        tp->t_maxseg = tp->t_pmtud_saved_maxseg;
        tp->t_pmtud_saved_maxseg = 0;
        STAT_INC(stack, tcps_pmtud_blackhole_failed);
    }
}

/* net.inet.tcp.rexmit_drop_options: a peer (or a middlebox) that drops
 * SYNs with options it does not know gets, from the fourth SYN on, one with
 * only the MSS, as FreeBSD sends it. */
static void rexmt_drop_syn_options(const struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (!stack->cfg.tun.rexmit_drop_options || tp->state != TCPS_SYN_SENT || tp->t_rxtshift != 3)
        return;
    tp->t_flags &= ~(uint32_t)(TF_REQ_SCALE | TF_REQ_TSTMP);
    tp->t_flags2 |= TF2_SYN_NOSACK;
}

static bool tcp_timer_rexmt(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (tp->t_flags2 & (TF2_RACK_TIMER | TF2_TLP_TIMER)) {
        rack_timer_fire(stack, tp); /* a reorder deadline or a probe, not a timeout */
        return true;
    }
    STAT_INC(stack, tcps_rexmttimeo);
    if (rexmt_give_up(stack, tp)) {
        STAT_INC(stack, tcps_timeoutdrop);
        tcp_drop(stack, tp, tp->t_softerror ? tp->t_softerror : ETIMEDOUT);
        return false;
    }
    if (tp->t_rxtshift < TCP_MAXRXTSHIFT)
        tp->t_rxtshift++;
    if (tp->state == TCPS_SYN_SENT || tp->state == TCPS_SYN_RECEIVED)
        tp->t_flags |= TF_SYN_REXMT;
    rexmt_drop_syn_options(stack, tp);
    tp->t_rxtcur = tcp_rexmt_timeout(stack, tp);
    rexmt_blackhole(stack, tp); /* before the window is cut to one segment of it */
    /* RFC 5681 3.1: after a timeout, one segment and half the flight;
     * any fast recovery is over. */
    recovery_timeout(stack, tp);
    tp->snd_nxt = tp->snd_una; /* go back and resend from the first hole */
    tp->t_rtttime = 0;         /* Karn: no RTT sample from a retransmission */
    /* The resend does not wait for a pacing release: the timeout says the
     * path has drained, so the rate starts again from it (FIN_WAIT_2,
     * whose timer shares the slot, has nothing to time out). */
    if (tp->state != TCPS_FIN_WAIT_2)
        tcp_timer_stop(stack, tp, TT_PACE);
    tcp_output(stack, tp);
    rexmt_clamp_user_timeout(stack, tp);
    return true;
}

static bool tcp_timer_persist(struct tcpc_stack *stack, struct tcpcb *tp)
{
    STAT_INC(stack, tcps_persisttimeo);
    bool shut = tp->snd_wnd == 0;
    if (shut) {
        if (tp->t_rxtshift < TCP_MAXRXTSHIFT)
            tp->t_rxtshift++;
        STAT_INC(stack, tcps_sndprobe);
    }
    /* With an open window this is the SWS override: send what fits. */
    tcp_output_force(stack, tp);
    if (shut) {
        /* Probing a shut window is not retransmitting (RFC 1122 4.2.2.17:
         * as long as the peer answers, the connection stays). As in
         * FreeBSD, the probe leaves snd_nxt where the window ends, so the
         * next probe (or the data once the window opens) starts there;
         * and the persist timer, not the retransmission timer, times the
         * next probe, backing off up to rexmit_max. */
        tp->snd_nxt = tp->snd_una;
        tcp_timer_stop(stack, tp, TT_REXMT);
        tcp_timer_set(stack, tp, TT_PERSIST, tcp_rexmt_timeout(stack, tp));
    }
    return true;
}

/* Keepalive parameters in force: the socket's, else the tunables'. */
uint64_t tcp_keepidle_ms(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return tp->t_keepidle ? (uint64_t)tp->t_keepidle * 1000 : (uint64_t)stack->cfg.tun.keepidle;
}

uint64_t tcp_keepintvl_ms(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return tp->t_keepintvl ? (uint64_t)tp->t_keepintvl * 1000 : (uint64_t)stack->cfg.tun.keepintvl;
}

unsigned tcp_keepcnt(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return tp->t_keepcnt ? tp->t_keepcnt : (unsigned)stack->cfg.tun.keepcnt;
}

/* FreeBSD's TP_MAXIDLE: what the probes may take before the peer counts
 * as gone. */
static uint64_t keep_maxidle_ms(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return tcp_keepcnt(stack, tp) * tcp_keepintvl_ms(stack, tp);
}

/* Milliseconds since the last segment arrived. */
static uint64_t keep_idle_ms(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return (uint32_t)(cc_clock_ms(stack->now) - tp->t_rcvtime);
}

/* Keepalive covers a synchronized connection until our FIN is acknowledged
 * (FreeBSD: ESTABLISHED to CLOSING). */
static bool keep_state(const struct tcpcb *tp)
{
    return TCPS_HAVEESTABLISHED(tp->state) && tp->state <= TCPS_CLOSING;
}

bool tcp_keep_enabled(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return (tp->t_flags & TF_KEEPALIVE) || stack->cfg.tun.always_keepalive;
}

void tcp_keep_start(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (!keep_state(tp))
        return; /* the establishment timeout, or no keepalive, owns TT_KEEP */
    if (tcp_keep_enabled(stack, tp))
        tcp_timer_set(stack, tp, TT_KEEP, tcp_keepidle_ms(stack, tp) * TCPC_USEC_PER_MSEC);
    else
        tcp_timer_stop(stack, tp, TT_KEEP);
}

/* Idle time after which unanswered probes drop the connection: keepcnt
 * intervals past keepidle; with TCP_USER_TIMEOUT, that timeout, once at
 * least one probe has had its interval (Linux's rule). */
static uint64_t keep_limit_ms(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    uint64_t idle = tcp_keepidle_ms(stack, tp);
    if (!tp->t_user_timeout)
        return idle + keep_maxidle_ms(stack, tp);
    uint64_t one = idle + tcp_keepintvl_ms(stack, tp);
    return one > tp->t_user_timeout ? one : tp->t_user_timeout;
}

/*
 * Keepalive (RFC 1122 4.2.3.6, FreeBSD's tcp_timer_keep). The timer is not
 * moved by every arriving segment: when it fires it looks at how long the
 * connection has been idle and sleeps again for what is left. Past
 * keepidle it probes every keepintvl; idle past keep_limit_ms with a probe
 * unanswered, the peer is gone (ETIMEDOUT). Returns false when tp was
 * dropped.
 */
static bool keep_timeout(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (!keep_state(tp) || !tcp_keep_enabled(stack, tp))
        return true; /* lapses; SO_KEEPALIVE arms it again */
    uint64_t idle = keep_idle_ms(stack, tp);
    uint64_t keepidle = tcp_keepidle_ms(stack, tp);
    if (idle < keepidle) {
        tcp_timer_set(stack, tp, TT_KEEP, (keepidle - idle) * TCPC_USEC_PER_MSEC);
        return true;
    }
    STAT_INC(stack, tcps_keeptimeo);
    /* Never without a probe: keepalive turned on for a connection idle
     * longer than the limit gets one, and an interval to answer it. */
    if (idle >= keep_limit_ms(stack, tp) && (tp->t_flags & TF_KEEPPROBED)) {
        STAT_INC(stack, tcps_keepdrops);
        tcp_drop(stack, tp, ETIMEDOUT);
        return false;
    }
    STAT_INC(stack, tcps_keepprobe);
    tp->t_flags |= TF_KEEPPROBED;
    tcp_send_keepalive(stack, tp);
    tcp_timer_set(stack, tp, TT_KEEP, tcp_keepintvl_ms(stack, tp) * TCPC_USEC_PER_MSEC);
    return true;
}

static bool tcp_timer_keep(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (accf_timer(stack, tp))
        return true; /* TCP_DEFER_ACCEPT's limit: handed to accept */
    if (TCPS_HAVEESTABLISHED(tp->state))
        return keep_timeout(stack, tp);
    /* The connection-establishment timeout (TCP_KEEPINIT). An ICMP error
     * seen meanwhile says more than "timed out". */
    STAT_INC(stack, tcps_keeptimeo);
    STAT_INC(stack, tcps_keepdrops);
    tcp_drop(stack, tp, tp->t_softerror ? tp->t_softerror : ETIMEDOUT);
    return false;
}

/* A connection closed for reading (closed, or shut down both ways) waits
 * a bounded time in FIN_WAIT_2 for a FIN that may not come. */
static bool fin_wait_2_closed(const struct tcpcb *tp)
{
    return tp->sd < 0 || (tp->t_flags & TF_CANTRCVMORE);
}

void tcp_fin_wait_2_start(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (tp->state != TCPS_FIN_WAIT_2 || !fin_wait_2_closed(tp))
        return;
    uint64_t ms = stack->cfg.tun.fast_finwait2_recycle ? (uint64_t)stack->cfg.tun.finwait2_timeout
                                                       : keep_maxidle_ms(stack, tp);
    tcp_timer_set(stack, tp, TT_2MSL, ms * TCPC_USEC_PER_MSEC);
}

/* The pacing release (tcp_output.c): the data it held may go. */
static bool tcp_timer_pace(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (!tcp_sb_unsent(tp))
        return true; /* the application sent no more meanwhile */
    STAT_INC(stack, tcps_pace_released);
    tcp_output(stack, tp);
    return true;
}

/*
 * FreeBSD's FIN_WAIT_2 timeout (its tt_2msl; TIME_WAIT itself is a
 * compressed record with its own clock, timewait.c). Under
 * net.inet.tcp.fast_finwait2_recycle the connection goes when
 * finwait2_timeout is up, busy or not. Otherwise it stays while the peer
 * is heard from at least every keepcnt * keepintvl, checked every keepintvl.
 */
static bool tcp_timer_2msl(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (tp->state != TCPS_FIN_WAIT_2)
        return tcp_timer_pace(stack, tp); /* the slot's other use (TT_PACE) */
    if (stack->cfg.tun.fast_finwait2_recycle && fin_wait_2_closed(tp)) {
        STAT_INC(stack, tcps_finwait2_drops);
    } else if (keep_idle_ms(stack, tp) <= keep_maxidle_ms(stack, tp)) {
        tcp_timer_set(stack, tp, TT_2MSL, tcp_keepintvl_ms(stack, tp) * TCPC_USEC_PER_MSEC);
        return true;
    }
    tcp_close(stack, tp);
    return false;
}

static bool tcp_timer_delack(struct tcpc_stack *stack, struct tcpcb *tp)
{
    tp->t_flags |= TF_ACKNOW;
    STAT_INC(stack, tcps_delack);
    tcp_output(stack, tp);
    return true;
}

/* Each handler returns false when tp may have been freed. */
typedef bool (*tcp_timer_handler)(struct tcpc_stack *, struct tcpcb *);

static const tcp_timer_handler tcp_timer_handlers[TT_COUNT] = {
    [TT_REXMT] = tcp_timer_rexmt,   [TT_PERSIST] = tcp_timer_persist, [TT_KEEP] = tcp_timer_keep,
    [TT_DELACK] = tcp_timer_delack, [TT_2MSL] = tcp_timer_2msl,
};

void tcp_timer_fire(struct tcpc_stack *stack, struct tcpcb *tp)
{
    for (int k = 0; k < TT_COUNT; k++) {
        if (!tp->t_deadline[k] || tp->t_deadline[k] > stack->now)
            continue;
        tp->t_deadline[k] = 0;
        if (!tcp_timer_handlers[k](stack, tp))
            return;
    }
    /* The wheel entry was consumed; re-arm it for whatever remains. */
    tcp_timer_rearm(stack, tp);
}

/* Every deadline of the layer, from the sources themselves. */
static tcpc_time_t tcp_deadline_scan(const struct tcpc_stack *stack)
{
    tcpc_time_t conns = timer_wheel_next_deadline(&stack->wheel);
    tcpc_time_t half_open = syncache_next_deadline(stack);
    tcpc_time_t time_wait = tw_next_deadline(stack);
    tcpc_time_t next = conns < half_open ? conns : half_open;
    /* Spares to set aside or to give back: at once, or after a failed
     * allocation when its retry is due. */
    if (tcp_sb_pending(stack)) {
        tcpc_time_t retry = stack->tcp->sb_retry_at;
        tcpc_time_t due = retry > stack->now ? retry : stack->now;
        next = due < next ? due : next;
    }
    return next < time_wait ? next : time_wait;
}

/* tcp_advance past its check: runs what is due and finds ts->due again. */
void tcp_advance_due(struct tcpc_stack *stack)
{
    struct tcp_state *ts = stack->tcp;
    struct timer *t;
    while ((t = timer_wheel_expire(&stack->wheel, stack->now)) != NULL) {
        struct tcpcb *tp = container_of(t, struct tcpcb, t_timer);
        tcp_timer_fire(stack, tp);
    }
    syncache_advance(stack);
    tw_advance(stack);
    /* Both are usually idle here: their checks come first, without the
     * calls. */
    if (tcp_sb_refill_due(ts, stack->now))
        tcp_sb_refill(stack);
    if (ts->notify_head)
        tcp_deliver_events(stack);
    ts->due = tcp_deadline_scan(stack);
}

void tcp_advance(struct tcpc_stack *stack)
{
    const struct tcp_state *ts = stack->tcp;
    /* The embedder's loop calls on every turn and nearly always finds
     * nothing due: no timer before ts->due, no readiness to deliver, and
     * no demand to halve yet (sbpool_refill_due; the decay is not a
     * deadline tcpc_next_deadline reports, so it runs whenever a call
     * comes after it, as it did when every call looked). */
    if (stack->now < ts->due && stack->now < ts->sbpool.decay_at && !ts->notify_head)
        return;
    tcp_advance_due(stack);
}

tcpc_time_t tcp_next_deadline(const struct tcpc_stack *stack)
{
    tcpc_time_t due = stack->tcp->due;
    return due ? due : tcp_deadline_scan(stack);
}
