/*
 * CUBIC congestion control (RFC 9438); see tcp_cc.h.
 *
 * After a reduction the window follows W_cubic(t) = C (t - K)^3 + W_max: a
 * concave climb back to the window where the loss happened (W_max), a
 * plateau around it, then a convex probe beyond. Time is the stack's
 * virtual clock; everything is integer: windows in bytes, times in
 * milliseconds, K from an integer cube root. The first slow start runs
 * HyStart++ (cc_hystart.h); later ones are RFC 5681's, with RFC 3465's
 * limit, as NewReno's.
 */
#include "tcp/cc_hystart.h"
#include "tcp/tcp_cc.h"

#define CUBIC_BETA_PCT 70 /* beta_cubic = 0.7 */
/* C = 0.4 segments per second cubed: with t in milliseconds, C t^3 segments
 * is 4 t^3 / 10^10; the cube is first cut to 10^7 ms^3 units (0.004 of a
 * segment, at most 2^31 of them below the cap), so nothing overflows. */
#define CUBIC_CUBE_UNIT        10000000u
#define CUBIC_C_PER_UNIT_MILLI 4u /* segments per unit, times 1000 */
/* |t - K| beyond 2^18 ms (4.4 minutes) changes nothing: W_cubic is then
 * millions of segments from W_max and the target is clamped anyway. */
#define CUBIC_T_CAP (1u << 18)
/* k_ms after a timeout: the next epoch starts with K = 0 and W_max = cwnd
 * (RFC 9438 4.8). W_max itself stays until then, so that an undo of the
 * timeout (4.9) finds it. */
#define CUBIC_K_AFTER_RTO ((1u << 20) - 1)
#define CUBIC_K_MAX       (CUBIC_K_AFTER_RTO - 1)
#define CUBIC_FRAC_BITS   12
/* alpha_cubic = 3 (1 - beta) / (1 + beta) = 0.9 / 1.7 = 9 / 17 (RFC 9438 4.3) */
#define CUBIC_ALPHA_NUM 9u
#define CUBIC_ALPHA_DEN 17u

static struct cc_cubic_state *cubic_of(struct tcpcb *tp)
{
    return &tp->t_ccs.cubic;
}

/* The stack's clock in milliseconds, never 0 (0 marks "no epoch"). */
static uint32_t cubic_ms(tcpc_time_t now)
{
    uint32_t ms = cc_clock_ms(now);
    return ms ? ms : 1;
}

/* floor(cbrt(x)): one result bit per step, from the top (three bits of x
 * each), keeping x - y^3 as the remainder. */
uint32_t cc_cbrt(uint64_t x)
{
    uint64_t y = 0;
    for (int shift = 63; shift >= 0; shift -= 3) {
        y <<= 1;
        uint64_t step = 3 * y * (y + 1) + 1; /* (2y + 1)^3 - (2y)^3, over 2^shift */
        if ((x >> shift) >= step) {
            x -= step << shift;
            y++;
        }
    }
    return (uint32_t)y;
}

/* K = cbrt((W_max - cwnd_epoch) / C) for a gap of `gap` bytes: in ms,
 * cbrt(gap / mss * 2.5 * 10^9). */
static uint32_t cubic_k_ms(uint32_t gap, uint32_t mss)
{
    uint64_t x = (uint64_t)gap * 100000000u / mss * 25u;
    uint32_t k = cc_cbrt(x);
    return k < CUBIC_K_MAX ? k : CUBIC_K_MAX;
}

/* W_cubic at t_ms after the epoch's start, in bytes (RFC 9438 (1)). */
static uint32_t cubic_window(const struct cc_cubic_state *s, uint32_t t_ms, uint32_t mss)
{
    int64_t d = (int64_t)t_ms - (int64_t)s->k_ms;
    uint64_t a = (uint64_t)(d < 0 ? -d : d);
    if (a > CUBIC_T_CAP)
        a = CUBIC_T_CAP;
    uint64_t off = a * a * a / CUBIC_CUBE_UNIT * CUBIC_C_PER_UNIT_MILLI * mss / 1000;
    int64_t w = d < 0 ? (int64_t)s->w_max - (int64_t)off : (int64_t)s->w_max + (int64_t)off;
    if (w < 0)
        return 0;
    return w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
}

/* The first ACK of a congestion-avoidance stage (RFC 9438 4.2): t counts
 * from here; W_est starts at the window; a window already at or above
 * W_max, or any window after a timeout, probes from where it is. */
static void cubic_epoch_start(struct cc_var *ccv, struct cc_cubic_state *s)
{
    struct tcpcb *tp = ccv->tp;
    s->epoch_ms = cubic_ms(ccv->now);
    s->w_est = tp->snd_cwnd;
    s->w_est_frac = 0;
    if (tp->snd_cwnd >= s->w_max || s->k_ms == CUBIC_K_AFTER_RTO) {
        s->w_max = tp->snd_cwnd;
        s->k_ms = 0;
    } else {
        s->k_ms = cubic_k_ms(s->w_max - tp->snd_cwnd, tp->t_maxseg);
    }
}

/* RFC 9438 4.3: the window standard TCP with CUBIC's beta would have
 * reached, grown per byte acknowledged; alpha becomes 1 once it passes
 * W_max. */
static void cubic_reno_estimate(struct tcpcb *tp, struct cc_cubic_state *s, uint32_t acked)
{
    uint64_t num = s->w_est >= s->w_max ? 1 : CUBIC_ALPHA_NUM;
    uint64_t den = s->w_est >= s->w_max ? 1 : CUBIC_ALPHA_DEN;
    uint64_t inc = ((uint64_t)acked * tp->t_maxseg * num << CUBIC_FRAC_BITS) / (den * tp->snd_cwnd);
    uint64_t w = ((uint64_t)s->w_est << CUBIC_FRAC_BITS | s->w_est_frac) + inc;
    if (w >> CUBIC_FRAC_BITS > UINT32_MAX) {
        s->w_est = UINT32_MAX;
        return;
    }
    s->w_est = (uint32_t)(w >> CUBIC_FRAC_BITS);
    s->w_est_frac = w & ((1u << CUBIC_FRAC_BITS) - 1);
}

static void cubic_ack_received(struct cc_var *ccv)
{
    struct tcpcb *tp = ccv->tp;
    if (tp->snd_cwnd < tp->snd_ssthresh) {
        hystart_slow_start(ccv);
        return;
    }
    hystart_end(tp); /* the window reached ssthresh: t_ccs is CUBIC's now */
    struct cc_cubic_state *s = cubic_of(tp);
    if (!s->epoch_ms)
        cubic_epoch_start(ccv, s);
    uint32_t mss = tp->t_maxseg;
    uint32_t t = cubic_ms(ccv->now) - s->epoch_ms;
    cubic_reno_estimate(tp, s, ccv->bytes_this_ack);
    if (cubic_window(s, t, mss) < s->w_est) {
        tp->snd_cwnd = s->w_est; /* Reno-friendly region (RFC 9438 4.3) */
        return;
    }
    /* Concave or convex region (4.4, 4.5): towards W_cubic one RTT ahead,
     * at most half the window more, never less than the window. The RFC's
     * (target - cwnd) / cwnd per ACK is taken per byte acknowledged, so a
     * stretch ACK counts for what it covers. */
    uint32_t rtt_ms = (uint32_t)(tp->t_srtt / 1000);
    uint32_t target = cubic_window(s, t + rtt_ms, mss);
    uint64_t most = (uint64_t)tp->snd_cwnd + tp->snd_cwnd / 2;
    if (target > most)
        target = (uint32_t)most;
    if (target <= tp->snd_cwnd)
        return;
    uint64_t inc = (uint64_t)(target - tp->snd_cwnd) * ccv->bytes_this_ack / tp->snd_cwnd;
    uint64_t w = tp->snd_cwnd + inc;
    tp->snd_cwnd = w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
}

static void cubic_cong_signal(struct cc_var *ccv, enum cc_signal sig)
{
    struct tcpcb *tp = ccv->tp;
    hystart_end(tp); /* any signal ends the first slow start for good */
    struct cc_cubic_state *s = cubic_of(tp);
    s->epoch_ms = 0; /* a new congestion-avoidance stage follows */
    switch (sig) {
    case CC_RTO_ERR: /* RFC 9438 4.9: as if it never happened (W_max is intact) */
        tp->snd_cwnd = tp->snd_cwnd_prev;
        tp->snd_ssthresh = tp->snd_ssthresh_prev;
        s->k_ms = 0;
        return;
    case CC_RTO: /* 4.8: Reno's window, CUBIC's ssthresh, K = 0 after */
        tp->snd_cwnd_prev = tp->snd_cwnd;
        tp->snd_ssthresh_prev = tp->snd_ssthresh;
        s->k_ms = CUBIC_K_AFTER_RTO;
        tp->snd_ssthresh = cc_ssthresh_of_flight(tp, CUBIC_BETA_PCT);
        tp->snd_cwnd = tp->t_maxseg;
        return;
    case CC_NDUPACK:
    case CC_ECN:
        /* 4.7 fast convergence: a loss below the last W_max means the
         * share is shrinking (a new flow arrived): give some up. */
        if (tp->snd_cwnd < s->w_max)
            s->w_max = (uint32_t)((uint64_t)tp->snd_cwnd * (100 + CUBIC_BETA_PCT) / 200);
        else
            s->w_max = tp->snd_cwnd;
        s->k_ms = 0; /* computed at the epoch's start, from this W_max */
        tp->snd_ssthresh = cc_ssthresh_of_flight(tp, CUBIC_BETA_PCT); /* 4.6 */
        if (sig == CC_ECN)
            tp->snd_cwnd = tp->snd_ssthresh;
        return;
    }
}

/* RFC 5681 4.1; the idle time is no part of the cubic curve's t: the
 * stage starts again from the restart window. */
static void cubic_after_idle(struct cc_var *ccv)
{
    hystart_end(ccv->tp); /* RFC 9406 4.3: later slow starts are standard */
    cc_restart_window(ccv);
    cubic_of(ccv->tp)->epoch_ms = 0;
}

const struct cc_algo cc_cubic = {
    .name = "cubic",
    .conn_init = hystart_begin,
    .ack_received = cubic_ack_received,
    .cong_signal = cubic_cong_signal,
    .after_idle = cubic_after_idle,
};
