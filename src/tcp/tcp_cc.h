/*
 * Congestion control: every change to snd_cwnd and snd_ssthresh after the
 * initial window goes through these functions (RFC 5681's NewReno), so that
 * they can move behind a pluggable interface (FreeBSD's mod_cc) as they are.
 */
#ifndef TCPCORE_TCP_TCP_CC_H
#define TCPCORE_TCP_TCP_CC_H

#include <stdint.h>

#include "tcp/tcp_var.h"

/* What made the sender reduce its rate. */
enum cc_signal {
    CC_NDUPACK, /* loss found by duplicate ACKs or SACK: fast recovery begins */
    CC_RTO,     /* the retransmission timer fired */
    CC_RTO_ERR, /* ...needlessly (RFC 3522): the window before it comes back */
};

/* `acked` bytes of new data were acknowledged outside recovery. */
void cc_ack_received(struct tcpcb *tp, uint32_t acked);

/* A congestion signal: ssthresh from the flight (RFC 5681 (4)), and after a
 * timeout a window of one segment (the old values kept for CC_RTO_ERR). */
void cc_cong_signal(struct tcpcb *tp, enum cc_signal sig);

/* Recovery ended with `flight` bytes still outstanding (RFC 6582 3.2 (6),
 * the burst-avoiding choice). */
void cc_post_recovery(struct tcpcb *tp, uint32_t flight);

#endif
