/*
 * The bottom of the stack: IP packets in and out.
 *
 * ip_input validates the IP header, counts and drops what is malformed or
 * not for us, answers echo requests and hands TCP segments, ICMP errors and
 * neighbour discovery up through the protocol switch. ip_output_tcp builds
 * a whole packet in the stack's output buffer and ip_output sends it to its
 * next hop through the interface output hook (core/stack.h).
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
 * Sends the IP packet of len bytes at pkt (with STACK_LINK_HEADROOM bytes
 * before it, as stack_outbuf gives) toward dst: the route table picks the
 * next hop and the interface output hook takes it. Counts ips_localout.
 * Returns 0 (sent, or held or dropped by the link, which counts that),
 * -EHOSTUNREACH without a route (ips_noroute) or -ENOBUFS when the
 * embedder's output refused it (ips_odropped; the caller treats it as lost).
 */
int ip_output(struct tcpc_stack *stack, const struct tcpc_addr *dst, uint8_t *pkt, size_t len);

/* The interface output of an IP-level link: the packet as is to the
 * embedder's output. */
int ip_if_output_raw(struct tcpc_stack *stack, const struct tcpc_addr *nexthop, uint8_t *pkt,
                     size_t len);

/*
 * Emits one TCP segment: ip gives addresses, TTL, DF and flow label; tcp the
 * header, options and payload. Counts tcps_sndtotal. Returns 0,
 * -EMSGSIZE when the packet cannot be built (a bug in the caller: the
 * segment was sized from the MTU), or ip_output's errors.
 */
int ip_output_tcp(struct tcpc_stack *stack, const struct ip_repr *ip, const struct tcp_repr *tcp);

/* The counter a wire-layer parse error bumps. */
enum tcpc_stat_id ip_input_error_stat(int wire_err);

#endif
