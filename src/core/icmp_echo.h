/*
 * Answering pings: ICMP echo requests of both families (RFC 792, RFC 4443
 * section 4.1) addressed to one of our addresses get an echo reply, within
 * net.inet.icmp.icmplim replies per second per family.
 */
#ifndef TCPCORE_CORE_ICMP_ECHO_H
#define TCPCORE_CORE_ICMP_ECHO_H

#include <stdint.h>

#include "wire/ip.h"

struct tcpc_stack;

/* An echo request of ip->payload_len bytes at msg, in a packet to one of
 * our unicast addresses (ip_input checked that). */
void icmp_echo_input(struct tcpc_stack *stack, const struct ip_repr *ip, const uint8_t *msg);

#endif
