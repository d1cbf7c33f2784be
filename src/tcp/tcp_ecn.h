/*
 * Explicit Congestion Notification for TCP (RFC 3168), negotiated as
 * FreeBSD does (net.inet.tcp.ecn.enable: 0 off, 1 asked for on our SYNs and
 * accepted, 2, the default, accepted when the peer asks).
 *
 * Once negotiated, new data leaves marked ECT(0); a CE mark on what arrives
 * makes every segment we send carry ECE until the peer's CWR; an ECE
 * received reduces the window through the congestion-control algorithm
 * (cc_cong_signal CC_ECN) at most once per window of data, and CWR goes on
 * the next new data. The passive side's negotiation is in the SYN cache
 * (syncache.c) and its cookie.
 */
#ifndef TCPCORE_TCP_TCP_ECN_H
#define TCPCORE_TCP_TCP_ECN_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/tcp_var.h"
#include "wire/tcp.h"

struct tcpc_stack;

/* Whether a SYN's flags ask for ECN (ECE and CWR both set: RFC 3168 6.1.1). */
static inline bool ecn_syn_asks(uint8_t flags)
{
    return (flags & (TH_ECE | TH_CWR)) == (TH_ECE | TH_CWR);
}

/* The ECN flags of our SYN (active open): ECE and CWR with ecn.enable 1,
 * on the first SYN and ecn.maxretries retransmissions of it. */
uint8_t ecn_syn_flags(struct tcpc_stack *stack, struct tcpcb *tp);

/* The peer's SYN-ACK (flags) answered our SYN, or its SYN crossed ours:
 * ECN is on when we asked and the SYN-ACK agrees (ECE alone), or when the
 * crossing SYN asks (ECE and CWR) and ecn.enable accepts. */
void ecn_syn_input(struct tcpc_stack *stack, struct tcpcb *tp, uint8_t flags);

/* Every segment of a synchronized connection, before its ACK is
 * processed: CWR ends our echo; the IP header's ECN field is counted and a
 * CE mark starts the echo; an ECE on an acceptable ACK is the peer's
 * congestion report. */
void ecn_input_segment(struct tcpc_stack *stack, struct tcpcb *tp, uint8_t tos, uint8_t flags,
                       uint32_t ack);
static inline void ecn_input(struct tcpc_stack *stack, struct tcpcb *tp, uint8_t tos, uint8_t flags,
                             uint32_t ack)
{
    if (tp->t_flags2 & TF2_ECN_PERMIT)
        ecn_input_segment(stack, tp, tos, flags, ack);
}

/* What a segment we send carries: ECE / CWR added to *flags, and the IP
 * ECN field (returned): ECT(0) on new data, never on retransmissions,
 * window probes, SYNs or pure ACKs (RFC 3168 6.1.1, 6.1.5). */
uint8_t ecn_output(struct tcpc_stack *stack, struct tcpcb *tp, uint8_t *flags, uint32_t len,
                   bool new_data);
/* Whether ecn_output has anything to add: a SYN, or ECN negotiated. */
static inline bool ecn_output_due(const struct tcpcb *tp, uint8_t flags)
{
    return (flags & TH_SYN) || (tp->t_flags2 & TF2_ECN_PERMIT);
}

#endif
