/*
 * HyStart++ (RFC 9406); see cc_hystart.h.
 */
#include "tcp/cc_hystart.h"

#include <string.h>

#include "core/stack.h"
#include "util/seq.h"

static struct cc_hystart_state *hystart_of(struct tcpcb *tp)
{
    return &tp->t_ccs.hystart;
}

void hystart_begin(struct cc_var *ccv)
{
    struct tcpcb *tp = ccv->tp;
    /* ssthresh is 0 before the SYN is sent and "infinite" after, until the
     * first congestion signal: only then is this the first slow start. */
    bool first = tp->snd_ssthresh == 0 || tp->snd_ssthresh == UINT32_MAX;
    if (!ccv->stack->cfg.tun.hystart_enable || !first)
        return;
    struct cc_hystart_state *hs = hystart_of(tp);
    memset(hs, 0, sizeof(*hs));
    hs->round_min = hs->last_round_min = hs->css_baseline = HYSTART_RTT_NONE;
    tp->t_hystart = HYSTART_SS;
}

void hystart_end(struct tcpcb *tp)
{
    if (tp->t_hystart == HYSTART_OFF)
        return;
    memset(&tp->t_ccs, 0, sizeof(tp->t_ccs));
    tp->t_hystart = HYSTART_OFF;
}

/* A round ends when an ACK covers what was outstanding as it began: the
 * last round's minimum is kept, the next round's collected afresh. The
 * first call only marks where the first round ends. */
static void hystart_round(struct tcpcb *tp, struct cc_hystart_state *hs)
{
    if (hs->rounds_begun && SEQ_LT(tp->snd_una, hs->window_end))
        return;
    if (hs->rounds_begun) {
        hs->last_round_min = hs->round_min;
        hs->round_min = HYSTART_RTT_NONE;
        hs->samples = 0;
        if (tp->t_hystart == HYSTART_CSS && hs->css_rounds < UINT8_MAX)
            hs->css_rounds++;
    }
    hs->rounds_begun = 1;
    hs->window_end = tp->snd_max;
}

void hystart_rtt(struct cc_var *ccv, tcpc_time_t rtt)
{
    struct tcpcb *tp = ccv->tp;
    if (tp->t_hystart == HYSTART_OFF)
        return;
    struct cc_hystart_state *hs = hystart_of(tp);
    hystart_round(tp, hs);
    uint32_t us = rtt < HYSTART_RTT_NONE ? (uint32_t)rtt : HYSTART_RTT_NONE - 1;
    if (us < hs->round_min)
        hs->round_min = us;
    if (hs->samples < UINT8_MAX)
        hs->samples++;
}

/* RFC 9406 4.2: the increase that counts is an eighth of the last round's
 * minimum, clamped to [minrtt_thresh, maxrtt_thresh]. */
static uint32_t hystart_threshold(const struct tcpc_tunables *tun, uint32_t last)
{
    uint32_t t = last / 8;
    if (t < (uint32_t)tun->hystart_minrtt_thresh)
        t = (uint32_t)tun->hystart_minrtt_thresh;
    if (t > (uint32_t)tun->hystart_maxrtt_thresh)
        t = (uint32_t)tun->hystart_maxrtt_thresh;
    return t;
}

/* Moves between the phases on what this round has seen so far; returns
 * false when HyStart++ is over (CSS ran its rounds: congestion avoidance
 * from here, ssthresh where the window is). */
static bool hystart_decide(struct cc_var *ccv, struct cc_hystart_state *hs)
{
    struct tcpcb *tp = ccv->tp;
    const struct tcpc_tunables *tun = &ccv->stack->cfg.tun;
    if (tp->t_hystart == HYSTART_CSS && hs->css_rounds >= tun->hystart_css_rounds) {
        tp->snd_ssthresh = tp->snd_cwnd;
        hystart_end(tp);
        STAT_INC(ccv->stack, tcps_hystart_ca);
        return false;
    }
    bool enough = hs->samples >= tun->hystart_n_rttsamples && hs->round_min != HYSTART_RTT_NONE;
    if (!enough)
        return true;
    if (tp->t_hystart == HYSTART_SS) {
        if (hs->last_round_min == HYSTART_RTT_NONE)
            return true;
        uint32_t thresh = hystart_threshold(tun, hs->last_round_min);
        if (hs->round_min >= hs->last_round_min + thresh) {
            hs->css_baseline = hs->round_min;
            hs->css_rounds = 0;
            tp->t_hystart = HYSTART_CSS;
            STAT_INC(ccv->stack, tcps_hystart_css);
        }
    } else if (hs->round_min < hs->css_baseline) {
        /* The RTT came back down: the increase was noise, not a queue. */
        hs->css_baseline = HYSTART_RTT_NONE;
        tp->t_hystart = HYSTART_SS;
    }
    return true;
}

void hystart_slow_start(struct cc_var *ccv)
{
    struct tcpcb *tp = ccv->tp;
    if (tp->t_hystart == HYSTART_OFF) {
        cc_slow_start_div(ccv, 1);
        return;
    }
    struct cc_hystart_state *hs = hystart_of(tp);
    hystart_round(tp, hs);
    if (!hystart_decide(ccv, hs))
        return;
    cc_slow_start_div(ccv, tp->t_hystart == HYSTART_CSS
                               ? (uint32_t)ccv->stack->cfg.tun.hystart_css_growth_div
                               : 1);
}
