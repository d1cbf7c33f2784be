/*
 * Congestion control behind a small interface, in the shape of FreeBSD's
 * mod_cc: every change to snd_cwnd and snd_ssthresh after the initial
 * window goes through the cc_* calls below, which hand it to the
 * connection's algorithm, a table of hooks (struct cc_algo). NewReno
 * (cc_newreno.c, RFC 5681 / 6582) and CUBIC (cc_cubic.c, RFC 9438) are the
 * algorithms; net.inet.tcp.cc.algorithm picks the one a new socket gets and
 * TCPC_TCP_CONGESTION changes it per socket.
 *
 * Unlike mod_cc there is no per-connection allocation: an algorithm keeps
 * its state in the control block's union cc_state (cc_state.h), zeroed
 * when it is attached, so there is no init/destroy pair to pair up. Time
 * reaches an algorithm as the stack's virtual clock, never a wall clock.
 */
#ifndef TCPCORE_TCP_TCP_CC_H
#define TCPCORE_TCP_TCP_CC_H

#include <stdint.h>

#include "tcp/tcp_var.h"

struct tcpc_stack;

/* What made the sender reduce its rate. */
enum cc_signal {
    CC_NDUPACK, /* loss found by duplicate ACKs or SACK: fast recovery begins */
    CC_RTO,     /* the retransmission timer fired */
    CC_RTO_ERR, /* ...needlessly (RFC 3522): the window before it comes back */
    CC_ECN,     /* the peer echoed a CE mark (RFC 3168 ECE) */
};

/* What an algorithm's hook is given (FreeBSD's struct cc_var). */
struct cc_var {
    struct tcpcb *tp;
    tcpc_time_t now;          /* the stack's clock, microseconds */
    uint32_t bytes_this_ack;  /* ack_received: bytes newly acknowledged */
    uint32_t abc_l_var;       /* net.inet.tcp.abc_l_var: RFC 3465's L, in segments */
    struct tcpc_stack *stack; /* for the tunables an algorithm reads and its counters */
};

/* What one ACK delivered, for model-based algorithms (BBR-like ones, which
 * estimate the bottleneck rate and the path's RTT and pace to them). */
struct cc_rate_sample {
    uint32_t acked;     /* bytes newly acknowledged or SACKed by this ACK */
    uint32_t in_flight; /* bytes outstanding after it */
    tcpc_time_t srtt;   /* smoothed RTT, microseconds (0: none yet) */
    tcpc_time_t now;
    /* The delivery-rate sample (tcp_rate.h): delivered bytes over interval
     * microseconds (interval 0: this ACK gives none, as on a connection
     * without a SACK record), the sampled range's RTT, and whether it went
     * while the application had too little to send. */
    uint32_t delivered;
    uint32_t interval;
    uint32_t rtt;
    bool app_limited;
};

/* One algorithm. Every hook but the name may be NULL, meaning "nothing to
 * do" (cong_signal and post_recovery then fall back to NewReno's rules). */
struct cc_algo {
    const char *name;
    /* Attached to a connection: its state is zero; set what is not. */
    void (*conn_init)(struct cc_var *ccv);
    /* New data acknowledged outside recovery. */
    void (*ack_received)(struct cc_var *ccv);
    void (*cong_signal)(struct cc_var *ccv, enum cc_signal sig);
    /* Recovery ended with `flight` bytes outstanding. */
    void (*post_recovery)(struct cc_var *ccv, uint32_t flight);
    /* Sending resumes after an idle period longer than the RTO. */
    void (*after_idle)(struct cc_var *ccv);
    /* Every ACK that delivered data; an algorithm may set t_pacing_rate. */
    void (*rate_sample)(struct cc_var *ccv, const struct cc_rate_sample *rs);
};

extern const struct cc_algo cc_newreno, cc_cubic;

/* The algorithm with index id (net.inet.tcp.cc.algorithm's numbering), or
 * NULL. */
const struct cc_algo *cc_algo_of(unsigned id);

/* Attaches algorithm id to tp with fresh state: at socket creation (from
 * the tunable), by TCPC_TCP_CONGESTION, and for a listener's child (its
 * listener's). -ENOENT for an unknown id. */
int cc_attach(struct tcpc_stack *stack, struct tcpcb *tp, unsigned id);

/* `acked` bytes of new data were acknowledged outside recovery. */
void cc_ack_received(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t acked);

/* A congestion signal (the algorithm sets ssthresh; after a timeout the
 * window is one segment, the old values kept for CC_RTO_ERR). */
void cc_cong_signal(struct tcpc_stack *stack, struct tcpcb *tp, enum cc_signal sig);

/* Recovery ended with `flight` bytes still outstanding (RFC 6582 3.2 (6),
 * the burst-avoiding choice). */
void cc_post_recovery(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t flight);

/* Output is about to send with nothing in flight: after more than an RTO
 * without a segment from the peer, the algorithm's restart window (RFC
 * 5681 4.1) applies first. */
void cc_output_idle_check(struct tcpc_stack *stack, struct tcpcb *tp);

/* An ACK delivered `delivered` bytes (acknowledged plus SACKed): a sample
 * for an algorithm that takes them. Inline: every ACK asks, and neither
 * NewReno nor CUBIC takes them. */
void cc_rate_sample(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t delivered);
static inline void cc_ack_delivered(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t delivered)
{
    if ((tp->t_flags2 & TF2_CC_RATE) && delivered)
        cc_rate_sample(stack, tp, delivered);
}

/* An ACK of new data gave an RTT sample (microseconds), snd_una already
 * past it: for HyStart++ while it runs (cc_hystart.h). Inline: every ACK
 * with a timestamp gives one. */
void cc_rtt_hystart(struct tcpc_stack *stack, struct tcpcb *tp, tcpc_time_t rtt);
static inline void cc_rtt_sample_taken(struct tcpc_stack *stack, struct tcpcb *tp, tcpc_time_t rtt)
{
    if (tp->t_hystart)
        cc_rtt_hystart(stack, tp, rtt);
}

/* floor(cbrt(x)), for CUBIC's K (exposed for its test). */
uint32_t cc_cbrt(uint64_t x);

/* The stack's clock in milliseconds, 32 bits (t_rcvtime, CUBIC's epochs):
 * only differences are taken. */
static inline uint32_t cc_clock_ms(tcpc_time_t now)
{
    return (uint32_t)(now / TCPC_USEC_PER_MSEC);
}

/* Shared rules the algorithms build on. */
/* RFC 5681 3.1 slow start with RFC 3465's limit L per ACK (one segment
 * while a timeout's resending is under way: RFC 3465 2.3). */
void cc_slow_start(struct cc_var *ccv);
/* The same growth divided by div (HyStart++'s conservative slow start). */
void cc_slow_start_div(struct cc_var *ccv, uint32_t div);
/* RFC 5681 (4): ssthresh from the flight, times beta (in hundredths),
 * at least two segments. */
uint32_t cc_ssthresh_of_flight(const struct tcpcb *tp, uint32_t beta_pct);
/* RFC 6928's initial window for an MSS: min(10 MSS, max(2 MSS, 14600)). */
uint32_t cc_initial_window(uint32_t mss);
/* RFC 5681 4.1 with FreeBSD's RFC 2861 touch: the window falls to
 * min(IW, cwnd), ssthresh keeps at least 3/4 of the old window. */
void cc_restart_window(struct cc_var *ccv);

#endif
