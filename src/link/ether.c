/*
 * Ethernet input and output, and the link layer's life cycle; see ether.h.
 */
#include "link/ether.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/ip_input.h"
#include "core/route.h"
#include "core/stack.h"
#include "link/arp.h"
#include "wire/ip.h"
#include "wire/nd.h"
#include "wire/wire.h"

int link_init(struct tcpc_stack *stack)
{
    struct link_state *link = mem_get(&stack->cfg.mem, sizeof(*link), MEM_ALIGN_ANY, true);
    if (!link)
        return -ENOMEM;
    link->mac = stack->cfg.ether_addr;
    stack->link = link;
    int err = neigh_init(stack, &link->nc);
    if (err) {
        mem_put(&stack->cfg.mem, link, sizeof(*link));
        stack->link = NULL;
    }
    return err;
}

void link_destroy(struct tcpc_stack *stack)
{
    struct link_state *link = link_of(stack);
    if (!link)
        return;
    neigh_destroy(&link->nc);
    mem_put(&stack->cfg.mem, link, sizeof(*link));
    stack->link = NULL;
}

void ether_header(const struct tcpc_stack *stack, uint8_t *frame, const struct tcpc_ether_addr *dst,
                  uint16_t type)
{
    struct eth_repr eth = {.dst = *dst, .src = link_of(stack)->mac, .type = type};
    (void)eth_emit(&eth, frame, ETH_HDR_LEN);
}

int ether_xmit(struct tcpc_stack *stack, const uint8_t *frame, size_t len)
{
    if (stack->cfg.output(stack->cfg.output_ctx, frame, len) < 0)
        return -ENOBUFS;
    STAT_INC(stack, ifi_opackets);
    if (frame[0] & 1)
        STAT_INC(stack, ifi_omcasts);
    return 0;
}

int ether_xmit_ctl(struct tcpc_stack *stack, const uint8_t *frame, size_t len)
{
    int err = ether_xmit(stack, frame, len);
    if (err)
        STAT_INC(stack, ifi_oqdrops);
    return err;
}

int ether_output(struct tcpc_stack *stack, const struct tcpc_addr *nexthop, uint8_t *pkt,
                 size_t len)
{
    /* The IP layer left STACK_LINK_HEADROOM bytes before pkt. */
    uint8_t *frame = pkt - ETH_HDR_LEN;
    uint16_t type = pkt[0] >> 4 == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP;
    struct link_state *link = link_of(stack);
    ether_header(stack, frame, &link->mac, type);
    /* To ourselves: no neighbour to ask, the frame is addressed to us (the
     * embedder's link decides whether it comes back). */
    if (tcpc_addr_is_local(stack, nexthop))
        return ether_xmit(stack, frame, len + ETH_HDR_LEN);
    return neigh_output(stack, nexthop, frame, len + ETH_HDR_LEN);
}

/* The IPv6 groups we listen to: all-nodes, and the solicited-node group
 * of each of our IPv6 addresses (RFC 4861 7.2.1). */
static bool ether_group_joined(const struct tcpc_stack *stack, const struct tcpc_ether_addr *dst)
{
    static const uint8_t all_nodes[6] = {0x33, 0x33, 0, 0, 0, 1};
    if (memcmp(dst->bytes, all_nodes, 6) == 0)
        return true;
    if (dst->bytes[0] != 0x33 || dst->bytes[1] != 0x33 || dst->bytes[2] != 0xff)
        return false;
    const struct route_table *rt = &stack->rt;
    for (unsigned i = 0; i < TCPC_MAX_LOCAL_ADDRS; i++) {
        const struct route_ifaddr *s = &rt->slot[i];
        if (s->live && !tcpc_addr_is_v4(&s->addr) &&
            memcmp(s->addr.bytes + 13, dst->bytes + 3, 3) == 0)
            return true;
    }
    return false;
}

/* Whether the frame is ours to take: to our MAC, broadcast, or a group we
 * joined; counts multicast and what it refuses. */
static bool ether_accept(struct tcpc_stack *stack, const struct eth_repr *eth)
{
    struct link_state *link = link_of(stack);
    if (eth_addr_eq(&eth->src, &link->mac)) {
        stack_drop(stack, TCPC_STAT_ifi_notours, "our own frame, looped back");
        return false;
    }
    if (eth->tagged && ETH_VLAN_VID(eth->vlan_tci) != 0 && !stack->cfg.tun.vlan_skip) {
        stack_drop(stack, TCPC_STAT_ifi_vlandrops, "VLAN-tagged frame");
        return false;
    }
    if (!eth_addr_is_group(&eth->dst)) {
        if (eth_addr_eq(&eth->dst, &link->mac))
            return true;
        stack_drop(stack, TCPC_STAT_ifi_notours, "frame for another station");
        return false;
    }
    if (!eth_addr_is_broadcast(&eth->dst) && !ether_group_joined(stack, &eth->dst)) {
        stack_drop(stack, TCPC_STAT_ifi_notours, "frame for a group we have not joined");
        return false;
    }
    STAT_INC(stack, ifi_imcasts);
    return true;
}

/* An IPv6 neighbour solicitation or advertisement right after the fixed
 * header: what a member of a group shares with the others (it is only a
 * look; nd6.c validates). */
static bool ether_is_nd(const uint8_t *pkt, size_t len)
{
    return len > 40 && pkt[0] >> 4 == 6 && pkt[6] == 58 && (pkt[40] == 135 || pkt[40] == 136);
}

void ether_input(struct tcpc_stack *stack, const uint8_t *frame, size_t len, const uint32_t *flow)
{
    struct eth_repr eth;
    STAT_INC(stack, ifi_ipackets);
    int hdrlen = eth_parse(frame, len, &eth);
    if (hdrlen < 0) {
        stack_drop(stack, TCPC_STAT_ifi_ierrors, wire_strerror(hdrlen));
        return;
    }
    if (!ether_accept(stack, &eth))
        return;
    const uint8_t *payload = frame + hdrlen;
    size_t plen = len - (size_t)hdrlen;
    switch (eth.type) {
    case ETHERTYPE_IP:
    case ETHERTYPE_IPV6:
        /* The EtherType and the IP version must agree, or a v6 packet in
         * a v4 frame would slip past filters keyed on either. */
        if (plen == 0 || payload[0] >> 4 != (eth.type == ETHERTYPE_IP ? 4 : 6)) {
            stack_drop(stack, TCPC_STAT_ifi_ierrors, "EtherType and IP version disagree");
            return;
        }
        if (ether_is_nd(payload, plen))
            stack_group_share(stack, frame, len);
        ip_input(stack, payload, plen, flow);
        break;
    case ETHERTYPE_ARP:
        /* Every member of a group resolves its own next hops, and the
         * host hands each frame to one of them. */
        stack_group_share(stack, frame, len);
        arp_input(stack, &eth, payload, plen);
        break;
    default:
        stack_drop(stack, TCPC_STAT_ifi_noproto, "EtherType not handled");
        break;
    }
}

int tcpc_neigh_list(const struct tcpc_stack *stack, tcpc_neigh_fn fn, void *ctx)
{
    const struct link_state *link = link_of(stack);
    return link ? neigh_list(&link->nc, fn, ctx) : 0;
}

const char *tcpc_neigh_state_name(unsigned state)
{
    static const char *const names[] = {
        [TCPC_NEIGH_INCOMPLETE] = "INCOMPLETE", [TCPC_NEIGH_REACHABLE] = "REACHABLE",
        [TCPC_NEIGH_STALE] = "STALE",           [TCPC_NEIGH_DELAY] = "DELAY",
        [TCPC_NEIGH_PROBE] = "PROBE",
    };
    if (state >= sizeof(names) / sizeof(names[0]) || !names[state])
        return "?";
    return names[state];
}
