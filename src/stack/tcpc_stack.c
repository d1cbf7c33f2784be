/*
 * The stack's public entry points (include/tcpcore/stack.h): the one module
 * that names every layer. It assembles an instance from the core's
 * allocation, the protocol switch and the TCP engine, and hands packets and
 * time down to them. The layers themselves only ever call downwards; where
 * a lower layer must reach an upper one (IP handing a segment to TCP), it
 * goes through the function pointers installed here.
 *
 * tcpc_stack_new sizes every pool from the tunables; after that, the packet
 * path allocates nothing.
 */
#include "core/ip_input.h"
#include "core/stack.h"
#include "tcp/tcp.h"
#include "wire/ip.h"

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
    *out = stack;
    return 0;
}

void tcpc_stack_del(struct tcpc_stack *stack)
{
    if (!stack)
        return;
    tcp_destroy(stack);
    stack_free(stack);
}

void tcpc_input(struct tcpc_stack *stack, tcpc_time_t now, const uint8_t *pkt, size_t len)
{
    stack_set_now(stack, now);
    ip_input(stack, pkt, len, NULL);
}

void tcpc_input_hash(struct tcpc_stack *stack, tcpc_time_t now, const uint8_t *pkt, size_t len,
                     uint32_t flow_hash)
{
    stack_set_now(stack, now);
    ip_input(stack, pkt, len, stack->cfg.flow_hash ? &flow_hash : NULL);
}

void tcpc_advance(struct tcpc_stack *stack, tcpc_time_t now)
{
    stack_set_now(stack, now);
    tcp_advance(stack);
}

tcpc_time_t tcpc_next_deadline(const struct tcpc_stack *stack)
{
    return tcp_next_deadline(stack);
}
