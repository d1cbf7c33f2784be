/*
 * ARP for IPv4 over Ethernet (RFC 826; FreeBSD's if_ether.c): answering
 * requests for our addresses, learning from what arrives, and the requests
 * the neighbour cache sends.
 */
#ifndef TCPCORE_LINK_ARP_H
#define TCPCORE_LINK_ARP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/eth.h"

struct tcpc_stack;
struct neigh_entry;

/* An ARP packet of len bytes that arrived in a frame described by eth. */
void arp_input(struct tcpc_stack *stack, const struct eth_repr *eth, const uint8_t *pkt,
               size_t len);

/* Asks who has e->addr: broadcast, or unicast to e->mac when probing. */
void arp_solicit(struct tcpc_stack *stack, const struct neigh_entry *e, bool unicast);

#endif
