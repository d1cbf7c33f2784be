/*
 * The bottom of the stack: IP packets in and out.
 *
 * ip_input validates the IP header, counts and drops what is malformed or
 * not for us, and hands TCP segments and ICMP errors up. ip_output_tcp builds
 * a whole packet in the stack's output buffer and gives it to the embedder.
 */
#ifndef TCPCORE_CORE_IP_INPUT_H
#define TCPCORE_CORE_IP_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "wire/ip.h"
#include "wire/tcp.h"

struct tcpc_stack;

/* flow: the NIC's flow hash for the packet, or NULL (see tcpc_input_hash). */
void ip_input(struct tcpc_stack *stack, const uint8_t *pkt, size_t len, const uint32_t *flow);

/*
 * Emits one TCP segment: ip gives addresses, TTL, DF and flow label; tcp the
 * header, options and payload. Counts tcps_sndtotal and ips_localout. Returns
 * 0, -EMSGSIZE when the packet cannot be built (a bug in the caller: the
 * segment was sized from the MTU), or -ENOBUFS when the embedder's output
 * refused it (counted in ips_odropped; the caller treats it as lost).
 */
int ip_output_tcp(struct tcpc_stack *stack, const struct ip_repr *ip, const struct tcp_repr *tcp);

/* The counter a wire-layer parse error bumps. */
enum tcpc_stat_id ip_input_error_stat(int wire_err);

#endif
