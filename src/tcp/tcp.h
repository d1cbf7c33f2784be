/*
 * The TCP engine's entry points, as seen from the rest of the core.
 *
 * ip_input hands segments and ICMP errors here through the protocol switch
 * (tcp_protosw); src/stack hands time here. Everything else about TCP
 * (control blocks, output, timers, the socket calls) stays inside src/tcp.
 */
#ifndef TCPCORE_TCP_TCP_H
#define TCPCORE_TCP_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "tcpcore/addr.h"
#include "wire/icmp.h"
#include "wire/ip.h"

struct tcpc_stack;

/* RFC 9293 states, in FreeBSD's order (the HAVE* tests rely on it). */
enum tcp_fsm_state {
    TCPS_CLOSED,
    TCPS_LISTEN,
    TCPS_SYN_SENT,
    TCPS_SYN_RECEIVED,
    TCPS_ESTABLISHED,
    TCPS_CLOSE_WAIT,
    TCPS_FIN_WAIT_1,
    TCPS_CLOSING,
    TCPS_LAST_ACK,
    TCPS_FIN_WAIT_2,
    TCPS_TIME_WAIT,
    TCPS_NSTATES
};

/* "ESTABLISHED" etc., as netstat prints them. */
const char *tcp_state_name(unsigned state);

/* Allocates the TCP state of a new stack (socket table, tables, secrets). */
int tcp_init(struct tcpc_stack *stack);
void tcp_destroy(struct tcpc_stack *stack);

/* A segment of seglen bytes that arrived in the IP packet described by ip. */
void tcp_input(struct tcpc_stack *stack, const struct ip_repr *ip, const uint8_t *seg,
               size_t seglen, const uint32_t *flow);

/* An ICMP error quoting a TCP segment we sent. */
void tcp_ctlinput(struct tcpc_stack *stack, const struct icmp_repr *icmp);

/* A live tunable changed: push what lower layers cache (the ephemeral port
 * range the PCB layer selects from). */
void tcp_tunables_changed(struct tcpc_stack *stack);

/* TCP's entry in the IP layer's protocol switch (input, ICMP errors,
 * tunable changes); src/stack installs it. Immutable. */
extern const struct ip_protosw tcp_protosw;

/* Runs TCP timers due at stack->now; delivers pending socket events. */
void tcp_advance(struct tcpc_stack *stack);
tcpc_time_t tcp_next_deadline(const struct tcpc_stack *stack);

#endif
