/*
 * How the TCP engine finds its control blocks: the engine's side of the
 * connection tables.
 *
 * The engine asks four questions: which connection owns this 4-tuple, which
 * listener takes a SYN for this local address and port, may a socket bind
 * here, and which ephemeral port makes a 4-tuple unique. This module answers
 * them over a keyed hash of the 4-tuple plus a listener list; the PCB layer
 * (src/pcb) is the full-featured answer and sits behind the same calls.
 */
#ifndef TCPCORE_TCP_TCP_DEMUX_H
#define TCPCORE_TCP_TCP_DEMUX_H

#include <stdint.h>

#include "tcpcore/addr.h"

struct tcpc_stack;
struct tcpcb;

int demux_init(struct tcpc_stack *stack);
void demux_destroy(struct tcpc_stack *stack);

/* Adds a connected control block (4-tuple set) or a listener. */
void demux_insert(struct tcpc_stack *stack, struct tcpcb *tp);
void demux_remove(struct tcpc_stack *stack, struct tcpcb *tp);

/* The connection owning the 4-tuple, else the best listener, else NULL. */
struct tcpcb *demux_lookup(struct tcpc_stack *stack, const struct tcpc_addr *faddr, uint16_t fport,
                           const struct tcpc_addr *laddr, uint16_t lport);

/* 0 when tp may bind laddr:lport, else -EADDRINUSE. */
int demux_bind_check(struct tcpc_stack *stack, const struct tcpcb *tp,
                     const struct tcpc_addr *laddr, uint16_t lport);

/* An ephemeral port for tp: with faddr set, one that makes the 4-tuple
 * unique; without, one no socket is bound to. 0 when none is left. */
uint16_t demux_ephemeral(struct tcpc_stack *stack, const struct tcpcb *tp,
                         const struct tcpc_addr *faddr, uint16_t fport);

#endif
