/*
 * ARP input and requests; see arp.h.
 *
 * Input follows RFC 826's merge: whoever speaks ARP updates an entry we
 * already have for its address, and one addressed to us also creates one,
 * since we are about to talk to it. A request for one of our addresses gets
 * a reply to the requester's MAC; so does an address probe (sender
 * 0.0.0.0, RFC 5227), which defends the address, but a probe teaches us
 * nothing. A packet claiming one of our own addresses from another MAC is
 * counted (arps_dupips) and believed by no one.
 *
 * A request's sender address is the source of the packet that is waiting
 * for the answer when that is still ours (as Linux and FreeBSD do), else
 * the address source selection picks for the target.
 */
#include "link/arp.h"

#include "core/stack.h"
#include "link/ether.h"
#include "link/neigh.h"
#include "wire/arp.h"
#include "wire/wire.h"

/* Builds and sends an ARP packet in the link's control buffer. */
static int arp_send(struct tcpc_stack *stack, const struct tcpc_ether_addr *dst,
                    const struct arp_repr *arp)
{
    uint8_t *frame = link_of(stack)->ctlbuf;
    ether_header(stack, frame, dst, ETHERTYPE_ARP);
    int n = arp_emit(arp, frame + ETH_HDR_LEN, LINK_CTLBUF_LEN - ETH_HDR_LEN);
    if (n < 0)
        return n;
    return ether_xmit_ctl(stack, frame, ETH_HDR_LEN + (size_t)n);
}

static void arp_reply(struct tcpc_stack *stack, const struct arp_repr *req)
{
    struct arp_repr rep = {
        .op = ARPOP_REPLY,
        .sha = link_of(stack)->mac,
        .spa = req->tpa,
        .tha = req->sha,
        .tpa = req->spa,
    };
    if (arp_send(stack, &req->sha, &rep) == 0)
        STAT_INC(stack, arps_txreplies);
}

void arp_input(struct tcpc_stack *stack, const struct eth_repr *eth, const uint8_t *pkt, size_t len)
{
    struct link_state *link = link_of(stack);
    struct arp_repr arp;
    (void)eth;
    STAT_INC(stack, arps_received);
    int err = arp_parse(pkt, len, &arp);
    if (err < 0) {
        stack_drop(stack, TCPC_STAT_arps_rxbad, wire_strerror(err));
        return;
    }
    if (arp.op == ARPOP_REQUEST)
        STAT_INC(stack, arps_rxrequests);
    else
        STAT_INC(stack, arps_rxreplies);
    if (eth_addr_eq(&arp.sha, &link->mac))
        return; /* our own, looped back by the link */
    if (tcpc_addr_is_local(stack, &arp.spa)) {
        stack_drop(stack, TCPC_STAT_arps_dupips, "another station uses one of our addresses");
        return;
    }
    bool for_us = tcpc_addr_is_local(stack, &arp.tpa);
    if (!tcpc_addr_is_any(&arp.spa))
        neigh_arp_learn(stack, &arp.spa, &arp.sha, for_us);
    /* A copy from another member of the group teaches; the member that
     * received the request answers it. */
    if (arp.op == ARPOP_REQUEST && for_us && !stack->handoff_in)
        arp_reply(stack, &arp);
}

void arp_solicit(struct tcpc_stack *stack, const struct neigh_entry *e, bool unicast)
{
    struct arp_repr req = {.op = ARPOP_REQUEST, .sha = link_of(stack)->mac, .tpa = e->addr};
    if (!neigh_solicit_source(stack, e, &req.spa))
        return;
    struct tcpc_ether_addr dst = eth_broadcast();
    if (unicast) {
        dst = e->mac;
        req.tha = e->mac; /* as Linux fills it in a unicast probe */
    }
    if (arp_send(stack, &dst, &req) == 0)
        STAT_INC(stack, arps_txrequests);
}
