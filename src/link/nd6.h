/*
 * IPv6 neighbour discovery on the link (RFC 4861; FreeBSD's nd6_nbr.c):
 * answering solicitations for our addresses, taking advertisements to the
 * neighbour cache, and the solicitations the cache sends. Router discovery
 * is not done: RS and RA are recognised and counted (icps_ignored), routes
 * come from the configuration.
 */
#ifndef TCPCORE_LINK_ND6_H
#define TCPCORE_LINK_ND6_H

#include <stdbool.h>

struct tcpc_stack;
struct neigh_entry;

/* The link's entry in the ICMPv6 slot of the protocol switch: ip_input
 * hands it every ND message (types 133..136). */
extern const struct ip_protosw nd6_protosw;

/* Solicits e->addr: to its solicited-node group, or unicast to e->mac
 * when probing. */
void nd6_solicit(struct tcpc_stack *stack, const struct neigh_entry *e, bool unicast);

#endif
