/*
 * Connection timers: retransmission (RFC 6298), zero-window persist,
 * connection-establishment timeout, delayed ACK, and 2MSL.
 *
 * Each connection has one wheel entry armed at its earliest logical timer
 * (see tcp_var.h); when it fires, every logical timer that is due runs.
 */
#include <errno.h>

#include "core/stack.h"
#include "tcp/syncache.h"
#include "tcp/tcp_rack.h"
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

static bool tcp_timer_rexmt(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (tp->t_flags2 & (TF2_RACK_TIMER | TF2_TLP_TIMER)) {
        rack_timer_fire(stack, tp); /* a reorder deadline or a probe, not a timeout */
        return true;
    }
    STAT_INC(stack, tcps_rexmttimeo);
    /* Give up after TCP_MAXRXTSHIFT timeouts without progress. The backoff
     * itself only collapses on a valid RTT sample (RFC 6298 5.7), so an
     * ACK of a retransmission keeps it while still counting as progress. */
    if (++tp->t_rxtcount > TCP_MAXRXTSHIFT) {
        STAT_INC(stack, tcps_timeoutdrop);
        tcp_drop(stack, tp, tp->t_softerror ? tp->t_softerror : ETIMEDOUT);
        return false;
    }
    if (tp->t_rxtshift < TCP_MAXRXTSHIFT)
        tp->t_rxtshift++;
    if (tp->state == TCPS_SYN_SENT || tp->state == TCPS_SYN_RECEIVED)
        tp->t_flags |= TF_SYN_REXMT;
    tp->t_rxtcur = tcp_rexmt_timeout(stack, tp);
    /* RFC 5681 3.1: after a timeout, one segment and half the flight;
     * any fast recovery is over. */
    recovery_timeout(stack, tp);
    tp->snd_nxt = tp->snd_una; /* go back and resend from the first hole */
    tp->t_rtttime = 0;         /* Karn: no RTT sample from a retransmission */
    tcp_output(stack, tp);
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

static bool tcp_timer_keep(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (TCPS_HAVEESTABLISHED(tp->state))
        return true;
    STAT_INC(stack, tcps_keeptimeo);
    /* An ICMP error seen meanwhile says more than "timed out". */
    tcp_drop(stack, tp, tp->t_softerror ? tp->t_softerror : ETIMEDOUT);
    return false;
}

static bool tcp_timer_2msl(struct tcpc_stack *stack, struct tcpcb *tp)
{
    /* An orphan sat in FIN_WAIT_2 waiting for a FIN that is not coming
     * (FreeBSD's tt_2msl plays the same part). TIME_WAIT itself is a
     * compressed record with its own clock (timewait.c). */
    if (tp->state != TCPS_FIN_WAIT_2)
        return true;
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

void tcp_advance(struct tcpc_stack *stack)
{
    struct timer *t;
    while ((t = timer_wheel_expire(&stack->wheel, stack->now)) != NULL) {
        struct tcpcb *tp = container_of(t, struct tcpcb, t_timer);
        tcp_timer_fire(stack, tp);
    }
    syncache_advance(stack);
    tw_advance(stack);
    tcp_sb_refill(stack);
    tcp_deliver_events(stack);
}

tcpc_time_t tcp_next_deadline(const struct tcpc_stack *stack)
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
