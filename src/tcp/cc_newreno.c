/*
 * NewReno congestion control (RFC 5681, RFC 6582's window after recovery),
 * the algorithm tcpcore had before the interface existed, unchanged; see
 * tcp_cc.h.
 */
#include "tcp/tcp_cc.h"

/* Congestion avoidance, RFC 5681 (3): MSS*MSS/cwnd per ACK, at least a
 * byte, so that the window grows by about a segment per round trip. */
static void newreno_ack_received(struct cc_var *ccv)
{
    struct tcpcb *tp = ccv->tp;
    if (tp->snd_cwnd < tp->snd_ssthresh) {
        cc_slow_start(ccv);
        return;
    }
    uint32_t mss = tp->t_maxseg;
    uint32_t inc = (mss * mss) / tp->snd_cwnd ? (mss * mss) / tp->snd_cwnd : 1;
    if (tp->snd_cwnd + inc > tp->snd_cwnd)
        tp->snd_cwnd += inc;
}

static void newreno_cong_signal(struct cc_var *ccv, enum cc_signal sig)
{
    struct tcpcb *tp = ccv->tp;
    if (sig == CC_RTO_ERR) {
        tp->snd_cwnd = tp->snd_cwnd_prev;
        tp->snd_ssthresh = tp->snd_ssthresh_prev;
        return;
    }
    if (sig == CC_RTO) {
        tp->snd_cwnd_prev = tp->snd_cwnd;
        tp->snd_ssthresh_prev = tp->snd_ssthresh;
    }
    tp->snd_ssthresh = cc_ssthresh_of_flight(tp, 50);
    if (sig == CC_RTO)
        tp->snd_cwnd = tp->t_maxseg;
    else if (sig == CC_ECN)
        tp->snd_cwnd = tp->snd_ssthresh; /* RFC 3168 6.1.2: no retransmission to wait for */
}

static void newreno_post_recovery(struct cc_var *ccv, uint32_t flight)
{
    struct tcpcb *tp = ccv->tp;
    uint32_t mss = tp->t_maxseg;
    uint32_t w = (flight > mss ? flight : mss) + mss;
    tp->snd_cwnd = w < tp->snd_ssthresh ? w : tp->snd_ssthresh;
}

const struct cc_algo cc_newreno = {
    .name = "newreno",
    .ack_received = newreno_ack_received,
    .cong_signal = newreno_cong_signal,
    .post_recovery = newreno_post_recovery,
    .after_idle = cc_restart_window,
};
