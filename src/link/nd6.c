/*
 * Neighbour solicitation and advertisement; see nd6.h.
 *
 * A solicitation for one of our addresses (to the address itself or to its
 * solicited-node group) is answered with a solicited advertisement that
 * overrides (we are not a router), carrying our MAC, after the sender's
 * link-layer address option has been learned (RFC 4861 7.2.3 and 7.2.4).
 * The answer leaves through the neighbour cache like any packet, so a
 * solicitation without the option makes us resolve its sender first. An
 * advertisement goes to the cache's 7.2.5 rules. Either message claiming
 * one of our addresses from another MAC is counted (icp6s_dupaddr) and
 * ignored. Duplicate address detection is not run for our addresses, and
 * its probes (from the unspecified address) never get this far: the IP
 * layer drops unspecified sources.
 */
#include "link/nd6.h"

#include <string.h>

#include "core/stack.h"
#include "link/ether.h"
#include "link/neigh.h"
#include "wire/icmp.h"
#include "wire/ip.h"
#include "wire/nd.h"
#include "wire/wire.h"

/* Builds the ND message in the control buffer behind room for the
 * Ethernet header; returns the frame length, or 0 when it did not fit. */
static size_t nd6_build(struct tcpc_stack *stack, const struct ip_repr *ip,
                        const struct nd_repr *nd)
{
    uint8_t *frame = link_of(stack)->ctlbuf;
    int n = nd_emit_packet(ip, nd, frame + ETH_HDR_LEN, LINK_CTLBUF_LEN - ETH_HDR_LEN);
    if (n < 0)
        return 0;
    ether_header(stack, frame, &(struct tcpc_ether_addr){{0}}, ETHERTYPE_IPV6);
    return ETH_HDR_LEN + (size_t)n;
}

void nd6_solicit(struct tcpc_stack *stack, const struct neigh_entry *e, bool unicast)
{
    struct ip_repr ip = {.version = 6, .ttl = ND_HOPLIMIT};
    if (!neigh_solicit_source(stack, e, &ip.src))
        return;
    ip.dst = unicast ? e->addr : nd_solicited_node(&e->addr);
    struct nd_repr ns = {.type = ND_NEIGHBOR_SOLICIT,
                         .target = e->addr,
                         .has_lladdr = true,
                         .lladdr = link_of(stack)->mac};
    size_t len = nd6_build(stack, &ip, &ns);
    if (!len)
        return;
    uint8_t *frame = link_of(stack)->ctlbuf;
    struct tcpc_ether_addr dst = unicast ? e->mac : eth_mcast_ip6(&ip.dst);
    memcpy(frame, dst.bytes, ETH_ADDR_LEN);
    if (ether_xmit_ctl(stack, frame, len) == 0)
        STAT_INC(stack, icp6s_out_ns);
}

static void nd6_advertise(struct tcpc_stack *stack, const struct ip_repr *ns,
                          const struct tcpc_addr *target)
{
    struct ip_repr ip = {.version = 6, .ttl = ND_HOPLIMIT, .src = *target, .dst = ns->src};
    struct nd_repr na = {.type = ND_NEIGHBOR_ADVERT,
                         .flags = ND_NA_SOLICITED | ND_NA_OVERRIDE,
                         .target = *target,
                         .has_lladdr = true,
                         .lladdr = link_of(stack)->mac};
    size_t len = nd6_build(stack, &ip, &na);
    if (len && neigh_output(stack, &ip.dst, link_of(stack)->ctlbuf, len) == 0)
        STAT_INC(stack, icp6s_out_na);
}

/* Another node using one of our addresses. */
static bool nd6_dupaddr(struct tcpc_stack *stack, const struct tcpc_addr *addr,
                        const struct nd_repr *nd)
{
    if (!tcpc_addr_is_local(stack, addr) || !nd->has_lladdr ||
        eth_addr_eq(&nd->lladdr, &link_of(stack)->mac))
        return false;
    stack_drop(stack, TCPC_STAT_icp6s_dupaddr, "another node uses one of our addresses");
    return true;
}

static void nd6_ns_input(struct tcpc_stack *stack, const struct ip_repr *ip,
                         const struct nd_repr *nd)
{
    STAT_INC(stack, icp6s_in_ns);
    struct tcpc_addr group = nd_solicited_node(&nd->target);
    if (!tcpc_addr_is_local(stack, &nd->target) ||
        !(tcpc_addr_eq(&ip->dst, &nd->target) || tcpc_addr_eq(&ip->dst, &group))) {
        stack_drop(stack, TCPC_STAT_icp6s_badns, "solicitation for an address not ours");
        return;
    }
    if (nd6_dupaddr(stack, &ip->src, nd))
        return;
    if (nd->has_lladdr)
        neigh_nd_solicited(stack, &ip->src, &nd->lladdr);
    if (!stack->handoff_in) /* a group member's copy: that member answers */
        nd6_advertise(stack, ip, &nd->target);
}

static void nd6_na_input(struct tcpc_stack *stack, const struct ip_repr *ip,
                         const struct nd_repr *nd)
{
    STAT_INC(stack, icp6s_in_na);
    struct tcpc_addr all = nd_all_nodes();
    if (!tcpc_addr_is_local(stack, &ip->dst) && !tcpc_addr_eq(&ip->dst, &all)) {
        stack_drop(stack, TCPC_STAT_icp6s_badna, "advertisement to an address not ours");
        return;
    }
    if (nd6_dupaddr(stack, &nd->target, nd))
        return;
    neigh_nd_advert(stack, &nd->target, nd->has_lladdr ? &nd->lladdr : NULL, nd->flags);
}

static enum tcpc_stat_id nd6_error_stat(uint8_t type, int err)
{
    if (err == -WIRE_ICMP_BADSUM)
        return TCPC_STAT_icps_checksum;
    switch (type) {
    case ND_NEIGHBOR_SOLICIT:
        return TCPC_STAT_icp6s_badns;
    case ND_NEIGHBOR_ADVERT:
        return TCPC_STAT_icp6s_badna;
    default:
        return TCPC_STAT_icps_ignored;
    }
}

static void nd6_input(struct tcpc_stack *stack, const struct ip_repr *ip, const uint8_t *msg,
                      size_t len, const uint32_t *flow)
{
    (void)flow;
    struct nd_repr nd;
    int err = nd_parse(ip, msg, len, &nd);
    if (err < 0) {
        stack_drop(stack, nd6_error_stat(len ? msg[0] : 0, err), wire_strerror(err));
        return;
    }
    switch (nd.type) {
    case ND_NEIGHBOR_SOLICIT:
        nd6_ns_input(stack, ip, &nd);
        break;
    case ND_NEIGHBOR_ADVERT:
        nd6_na_input(stack, ip, &nd);
        break;
    default:
        stack_drop(stack, TCPC_STAT_icps_ignored, "router discovery is not implemented");
        break;
    }
}

const struct ip_protosw nd6_protosw = {.input = nd6_input};
