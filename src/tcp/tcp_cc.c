/*
 * The congestion-control interface: which algorithm a connection runs, the
 * calls the engine makes, and the rules the algorithms share; see
 * tcp_cc.h.
 */
#include "tcp/tcp_cc.h"

#include <errno.h>
#include <string.h>

#include "core/stack.h"
#include "core/sysctl.h"
#include "tcp/cc_hystart.h"
#include "tcp/tcp_rack.h"
#include "util/seq.h"

static_assert(SYSCTL_CC_COUNT <= 16, "tcpcb.t_cc holds an algorithm's index in 4 bits");

static const struct cc_algo *const cc_algos[SYSCTL_CC_COUNT] = {
    [SYSCTL_CC_NEWRENO] = &cc_newreno,
    [SYSCTL_CC_CUBIC] = &cc_cubic,
};

const struct cc_algo *cc_algo_of(unsigned id)
{
    return id < SYSCTL_CC_COUNT ? cc_algos[id] : NULL;
}

static const struct cc_algo *cc_of(const struct tcpcb *tp)
{
    return cc_algos[tp->t_cc < SYSCTL_CC_COUNT ? tp->t_cc : SYSCTL_CC_NEWRENO];
}

static struct cc_var cc_var_of(struct tcpc_stack *stack, struct tcpcb *tp)
{
    return (struct cc_var){
        .tp = tp,
        .now = stack->now,
        .abc_l_var = (uint32_t)stack->cfg.tun.abc_l_var,
        .stack = stack,
    };
}

int cc_attach(struct tcpc_stack *stack, struct tcpcb *tp, unsigned id)
{
    const struct cc_algo *algo = cc_algo_of(id);
    if (!algo)
        return -ENOENT;
    tp->t_cc = (uint8_t)id & 0xf;
    tp->t_hystart = HYSTART_OFF;
    memset(&tp->t_ccs, 0, sizeof(tp->t_ccs));
    tp->t_pacing_rate = 0;
    tp->t_flags2 = (uint8_t)((tp->t_flags2 & ~TF2_CC_RATE) | (algo->rate_sample ? TF2_CC_RATE : 0));
    if (algo->conn_init) {
        struct cc_var ccv = cc_var_of(stack, tp);
        algo->conn_init(&ccv);
    }
    return 0;
}

void cc_ack_received(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t acked)
{
    /* The window an ECE reduced does not grow again until the data in
     * flight at the reduction is acknowledged (FreeBSD's congestion
     * recovery state): what arrives meanwhile was sent too fast. */
    if (tp->t_flags2 & TF2_ECN_PERMIT) {
        if (SEQ_LT(tp->snd_una, tp->t_ecn_recover))
            return;
        /* Past it: kept just below snd_una, so that it never falls half the
         * sequence space behind and reads as ahead. */
        tp->t_ecn_recover = tp->snd_una - 1;
    }
    const struct cc_algo *algo = cc_of(tp);
    struct cc_var ccv = cc_var_of(stack, tp);
    ccv.bytes_this_ack = acked;
    if (algo->ack_received)
        algo->ack_received(&ccv);
}

void cc_cong_signal(struct tcpc_stack *stack, struct tcpcb *tp, enum cc_signal sig)
{
    const struct cc_algo *algo = cc_of(tp);
    struct cc_var ccv = cc_var_of(stack, tp);
    if (!algo->cong_signal)
        algo = &cc_newreno;
    /* RFC 3168 6.1.2: one reduction per window, for loss or ECE alike. A
     * loss in a window an ECE already reduced is repaired by fast recovery
     * without a second reduction; an ECE during or just after recovery is
     * ignored (tcp_ecn.c) for the same reason. */
    bool ecn_reduced = (tp->t_flags2 & TF2_ECN_PERMIT) && SEQ_LT(tp->snd_una, tp->t_ecn_recover);
    if (sig != CC_NDUPACK || !ecn_reduced)
        algo->cong_signal(&ccv, sig);
    if (sig == CC_NDUPACK)
        tp->t_ecn_recover = tp->snd_max;
}

void cc_post_recovery(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t flight)
{
    const struct cc_algo *algo = cc_of(tp);
    struct cc_var ccv = cc_var_of(stack, tp);
    if (!algo->post_recovery)
        algo = &cc_newreno;
    algo->post_recovery(&ccv, flight);
}

void cc_output_idle_check(struct tcpc_stack *stack, struct tcpcb *tp)
{
    /* RFC 5681 4.1: "when TCP has not received a segment for more than one
     * retransmission timeout". Only with nothing in flight (else the ACK
     * clock is running), data to send (a pure ACK sends no burst), and
     * once established (the initial window is the restart window before). */
    if (tp->snd_una != tp->snd_max || tp->snd.len == 0 || !TCPS_HAVEESTABLISHED(tp->state))
        return;
    if ((tcpc_time_t)(cc_clock_ms(stack->now) - tp->t_rcvtime) * TCPC_USEC_PER_MSEC <= tp->t_rxtcur)
        return;
    const struct cc_algo *algo = cc_of(tp);
    if (algo->after_idle) {
        struct cc_var ccv = cc_var_of(stack, tp);
        algo->after_idle(&ccv);
    }
}

void cc_rate_sample(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t delivered)
{
    struct rate_sample r;
    bool have = rack_rate_ack(stack, tp, delivered, &r);
    const struct cc_algo *algo = cc_of(tp);
    if (!algo->rate_sample)
        return;
    struct cc_var ccv = cc_var_of(stack, tp);
    struct cc_rate_sample rs = {
        .acked = delivered,
        .in_flight = tp->snd_max - tp->snd_una,
        .srtt = tp->t_srtt,
        .now = stack->now,
    };
    if (have) {
        rs.delivered = r.delivered;
        rs.interval = r.interval;
        rs.rtt = r.rtt;
        rs.app_limited = r.app_limited;
    }
    algo->rate_sample(&ccv, &rs);
}

/* ---- Shared rules ------------------------------------------------------- */

void cc_rtt_hystart(struct tcpc_stack *stack, struct tcpcb *tp, tcpc_time_t rtt)
{
    struct cc_var ccv = cc_var_of(stack, tp);
    hystart_rtt(&ccv, rtt);
}

void cc_slow_start(struct cc_var *ccv)
{
    cc_slow_start_div(ccv, 1);
}

void cc_slow_start_div(struct cc_var *ccv, uint32_t div)
{
    struct tcpcb *tp = ccv->tp;
    uint32_t mss = tp->t_maxseg;
    /* RFC 3465 2.2: at most L segments per ACK; 2.3: one while the data
     * acknowledged may be a timeout's resending, which says nothing about
     * what the path can take. */
    uint32_t l = tp->snd_nxt == tp->snd_max ? ccv->abc_l_var : 1;
    uint64_t limit = (uint64_t)l * mss;
    uint32_t inc = ccv->bytes_this_ack < limit ? ccv->bytes_this_ack : (uint32_t)limit;
    inc /= div ? div : 1;
    if (tp->snd_cwnd + inc > tp->snd_cwnd)
        tp->snd_cwnd += inc;
}

uint32_t cc_ssthresh_of_flight(const struct tcpcb *tp, uint32_t beta_pct)
{
    uint32_t mss = tp->t_maxseg;
    uint32_t w = (uint32_t)((uint64_t)(tp->snd_max - tp->snd_una) * beta_pct / 100);
    return w > 2 * mss ? w : 2 * mss;
}

uint32_t cc_initial_window(uint32_t mss)
{
    uint32_t cap = 2 * mss > 14600 ? 2 * mss : 14600;
    return TCP_INITIAL_WINDOW * mss < cap ? TCP_INITIAL_WINDOW * mss : cap;
}

void cc_restart_window(struct cc_var *ccv)
{
    struct tcpcb *tp = ccv->tp;
    uint32_t rw = cc_initial_window(tp->t_maxseg);
    /* RFC 2861 2 (as FreeBSD does): ssthresh keeps three quarters of the
     * window given up, so slow start brings it back before probing on. */
    uint32_t keep = tp->snd_cwnd - (tp->snd_cwnd >> 2);
    if (tp->snd_ssthresh < keep)
        tp->snd_ssthresh = keep;
    if (tp->snd_cwnd > rw)
        tp->snd_cwnd = rw;
}
