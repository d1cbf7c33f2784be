/*
 * NewReno congestion control (RFC 5681); see tcp_cc.h.
 */
#include "tcp/tcp_cc.h"

void cc_ack_received(struct tcpcb *tp, uint32_t acked)
{
    uint32_t mss = tp->t_maxseg;
    uint32_t inc;
    if (tp->snd_cwnd < tp->snd_ssthresh)
        inc = acked < mss ? acked : mss; /* slow start, RFC 5681 3.1 */
    else
        inc = (mss * mss) / tp->snd_cwnd ? (mss * mss) / tp->snd_cwnd : 1;
    if (tp->snd_cwnd + inc > tp->snd_cwnd)
        tp->snd_cwnd += inc;
}

void cc_cong_signal(struct tcpcb *tp, enum cc_signal sig)
{
    if (sig == CC_RTO_ERR) {
        tp->snd_cwnd = tp->snd_cwnd_prev;
        tp->snd_ssthresh = tp->snd_ssthresh_prev;
        return;
    }
    if (sig == CC_RTO) {
        tp->snd_cwnd_prev = tp->snd_cwnd;
        tp->snd_ssthresh_prev = tp->snd_ssthresh;
    }
    uint32_t mss = tp->t_maxseg;
    uint32_t half = (tp->snd_max - tp->snd_una) / 2;
    tp->snd_ssthresh = half > 2 * mss ? half : 2 * mss;
    if (sig == CC_RTO)
        tp->snd_cwnd = mss;
}

void cc_post_recovery(struct tcpcb *tp, uint32_t flight)
{
    uint32_t mss = tp->t_maxseg;
    uint32_t w = (flight > mss ? flight : mss) + mss;
    tp->snd_cwnd = w < tp->snd_ssthresh ? w : tp->snd_ssthresh;
}
