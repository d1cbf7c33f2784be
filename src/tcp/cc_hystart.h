/*
 * HyStart++ (RFC 9406): the initial slow start ends when the round-trip
 * time starts to grow, before the queue it fills overflows, instead of
 * at the first loss. CUBIC runs it, as FreeBSD 14's does; NewReno does not
 * (FreeBSD's NewReno has it off by default).
 *
 * Rounds are windows of data: a round ends when an ACK covers what was
 * outstanding when it began. Per round the smallest RTT sample is kept;
 * when a round's minimum exceeds the last round's by a threshold
 * (net.inet.tcp.cc.hystartplusplus.*), slow start becomes Conservative
 * Slow Start (CSS): growth divided by css_growth_div. A round whose
 * minimum falls back below the one CSS began at returns to slow start (the
 * increase was noise); css_rounds rounds of CSS end in congestion
 * avoidance with ssthresh = cwnd. A congestion signal, an idle restart or
 * the window reaching ssthresh ends it for good: only the first slow start
 * of a connection runs it (RFC 9406 4.3).
 *
 * The state lives in the congestion-control union while it runs, where the
 * algorithm's own state is still all zeros (cc_state.h), and is cleared
 * when it ends; tcpcb.t_hystart says which phase runs.
 */
#ifndef TCPCORE_TCP_CC_HYSTART_H
#define TCPCORE_TCP_CC_HYSTART_H

#include <stdint.h>

#include "tcp/tcp_cc.h"

/* tcpcb.t_hystart */
enum hystart_phase {
    HYSTART_OFF = 0, /* done, or never begun: the algorithm owns t_ccs */
    HYSTART_SS,      /* slow start, watching the RTT */
    HYSTART_CSS,     /* conservative slow start */
};

/* At attach: begins when the connection is still in its first slow
 * start (no congestion signal has set ssthresh) and the tunable allows. */
void hystart_begin(struct cc_var *ccv);

/* Ends it and hands t_ccs back to the algorithm, zeroed. */
void hystart_end(struct tcpcb *tp);

/* One RTT sample (microseconds) from an ACK of new data, snd_una already
 * moved past it. */
void hystart_rtt(struct cc_var *ccv, tcpc_time_t rtt);

/* An ACK of new data in slow start: the phase's decisions, then the
 * window's growth (the algorithm calls this instead of cc_slow_start). */
void hystart_slow_start(struct cc_var *ccv);

#endif
