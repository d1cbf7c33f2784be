/*
 * The Ethernet link of a stack (FreeBSD's if_ethersubr): frames in, frames
 * out, and the link layer's state.
 *
 * Input: ether_input filters frames by destination (our MAC, broadcast,
 * the IPv6 groups we belong to: all-nodes and our addresses' solicited-node
 * groups), handles one VLAN tag as net.link.ether.vlan_skip says, and hands
 * IPv4 and IPv6 to the IP layer and ARP to arp.c. Output: ether_output is
 * the interface output hook (core/stack.h): it writes the Ethernet header
 * in the headroom the IP layer left and lets the neighbour cache fill in
 * the destination and send, or hold the frame until it can.
 */
#ifndef TCPCORE_LINK_ETHER_H
#define TCPCORE_LINK_ETHER_H

#include <stddef.h>
#include <stdint.h>

#include "core/stack.h"
#include "link/neigh.h"
#include "tcpcore/addr.h"
#include "wire/eth.h"

/* Frames the link originates (ARP, NS, NA) are built here; the largest is
 * a neighbour advertisement with its option. */
#define LINK_CTLBUF_LEN 128

struct link_state {
    struct tcpc_ether_addr mac;
    struct neigh_cache nc;
    uint8_t ctlbuf[LINK_CTLBUF_LEN];
};

static inline struct link_state *link_of(const struct tcpc_stack *stack)
{
    return stack->link;
}

/* Makes the link layer of a stack configured with TCPC_LINK_ETHER. 0 or
 * -ENOMEM. */
int link_init(struct tcpc_stack *stack);
void link_destroy(struct tcpc_stack *stack);

/* A received frame of len bytes. */
void ether_input(struct tcpc_stack *stack, const uint8_t *frame, size_t len, const uint32_t *flow);

/* The interface output hook (stack_if_output_fn). */
int ether_output(struct tcpc_stack *stack, const struct tcpc_addr *nexthop, uint8_t *pkt,
                 size_t len);

/* Writes an Ethernet header from us to dst at frame. */
void ether_header(const struct tcpc_stack *stack, uint8_t *frame, const struct tcpc_ether_addr *dst,
                  uint16_t type);

/* Hands a whole frame to the embedder's output, counting it (ifi_opackets,
 * ifi_omcasts). 0 or -ENOBUFS. */
int ether_xmit(struct tcpc_stack *stack, const uint8_t *frame, size_t len);

/* Sends a frame the link made itself (ARP, ND); a refusal is counted in
 * ifi_oqdrops. 0 or -ENOBUFS. */
int ether_xmit_ctl(struct tcpc_stack *stack, const uint8_t *frame, size_t len);

/* Timers of the link layer (the neighbour cache's). Inline: the
 * embedder's loop asks on every turn, mostly of a stack without one. */
static inline void link_advance(struct tcpc_stack *stack)
{
    if (link_of(stack))
        neigh_advance(stack);
}

static inline tcpc_time_t link_next_deadline(const struct tcpc_stack *stack)
{
    const struct link_state *link = link_of(stack);
    return link ? neigh_next_deadline(&link->nc) : TCPC_TIME_NEVER;
}

#endif
