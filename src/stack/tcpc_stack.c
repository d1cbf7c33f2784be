/*
 * The stack's public entry points (include/tcpcore/stack.h): the one module
 * that names every layer. It assembles an instance from the core's
 * allocation, the protocol switch and the TCP engine, and hands packets and
 * time down to them. The layers themselves only ever call downwards; where
 * a lower layer must reach an upper one (IP handing a segment to TCP), it
 * goes through the function pointers installed here.
 *
 * On an Ethernet link (TCPC_LINK_ETHER) it also attaches src/link: frames
 * enter through ether_input, the IP layer's interface output hook becomes
 * ether_output, and neighbour discovery takes the ICMPv6 slot of the switch.
 *
 * tcpc_stack_new sizes every pool from the tunables; after that, the packet
 * path allocates nothing.
 */
#include "core/ip_input.h"
#include "core/stack.h"
#include "link/ether.h"
#include "link/nd6.h"
#include "tcp/tcp.h"
#include "wire/ip.h"

static int stack_attach_link(struct tcpc_stack *stack)
{
    if (stack->cfg.link != TCPC_LINK_ETHER)
        return 0;
    int err = link_init(stack);
    if (err)
        return err;
    stack->protosw[IPPROTO_ICMP6_] = &nd6_protosw;
    stack->if_output = ether_output;
    return 0;
}

int tcpc_stack_new(const struct tcpc_config *cfg, tcpc_time_t now, struct tcpc_stack **out)
{
    struct tcpc_stack *stack;
    int err = stack_create(cfg, now, &stack);
    if (err)
        return err;
    stack->protosw[IPPROTO_TCP_] = &tcp_protosw;
    err = tcp_init(stack);
    if (err) {
        stack_free(stack);
        return err;
    }
    err = stack_attach_link(stack);
    if (err) {
        tcp_destroy(stack);
        stack_free(stack);
        return err;
    }
    *out = stack;
    return 0;
}

void tcpc_stack_del(struct tcpc_stack *stack)
{
    if (!stack)
        return;
    link_destroy(stack);
    tcp_destroy(stack);
    stack_free(stack);
}

static void stack_input(struct tcpc_stack *stack, const uint8_t *pkt, size_t len,
                        const uint32_t *flow)
{
    if (stack->link)
        ether_input(stack, pkt, len, flow);
    else
        ip_input(stack, pkt, len, flow);
}

/* One packet another member of the group handed this one. */
static void stack_take_one(void *ctx, enum group_pkt kind, const uint8_t *pkt, size_t len)
{
    struct tcpc_stack *stack = ctx;
    if (kind == GROUP_PKT_FRAME) {
        if (!stack->link)
            return;
        STAT_INC(stack, ifi_grp_in);
        ether_input(stack, pkt, len, NULL);
        return;
    }
    STAT_INC(stack, tcps_handoff_rcvd);
    ip_input(stack, pkt, len, NULL);
}

/* What the other members handed this one: one relaxed load when nothing
 * waits. */
static unsigned stack_group_take(struct tcpc_stack *stack)
{
    if (!stack->group || !group_pending(stack->group, stack->cfg.group_index))
        return 0;
    stack->handoff_in = true;
    unsigned n = group_take(stack->group, stack->cfg.group_index, stack_take_one, stack);
    stack->handoff_in = false;
    return n;
}

unsigned tcpc_group_poll(struct tcpc_stack *stack, tcpc_time_t now)
{
    stack_set_now(stack, now);
    stack_group_sync(stack);
    return stack_group_take(stack);
}

void tcpc_input(struct tcpc_stack *stack, tcpc_time_t now, const uint8_t *pkt, size_t len)
{
    stack_set_now(stack, now);
    stack_group_sync(stack);
    stack_group_take(stack);
    stack_input(stack, pkt, len, NULL);
}

void tcpc_input_hash(struct tcpc_stack *stack, tcpc_time_t now, const uint8_t *pkt, size_t len,
                     uint32_t flow_hash)
{
    stack_set_now(stack, now);
    stack_group_sync(stack);
    stack_group_take(stack);
    stack_input(stack, pkt, len, stack->cfg.flow_hash ? &flow_hash : NULL);
}

void tcpc_advance(struct tcpc_stack *stack, tcpc_time_t now)
{
    stack_set_now(stack, now);
    stack_group_sync(stack);
    stack_group_take(stack);
    link_advance(stack);
    tcp_advance(stack);
}

tcpc_time_t tcpc_next_deadline(const struct tcpc_stack *stack)
{
    /* Packets handed over by another member are work due now. */
    if (stack->group && group_pending(stack->group, stack->cfg.group_index))
        return stack->now;
    tcpc_time_t t = tcp_next_deadline(stack);
    tcpc_time_t l = link_next_deadline(stack);
    return l < t ? l : t;
}
