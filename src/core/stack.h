/*
 * The stack instance's insides, shared by the core's modules.
 *
 * Everything a stack owns hangs off struct tcpc_stack; modules receive the
 * stack (or the part of it they need) as an argument and never reach for
 * anything global. Subsystems keep their state in structs embedded here, so
 * a stack is one allocation plus the pools its tunables size.
 */
#ifndef TCPCORE_CORE_STACK_H
#define TCPCORE_CORE_STACK_H

#include <stdint.h>

#include "tcpcore/stack.h"
#include "tcpcore/stats.h"
#include "core/rand.h"
#include "util/timer.h"

/* Largest packet the stack builds: an IPv6 header plus a TCP segment that
 * fits a 64 KiB link MTU. */
#define STACK_OUTBUF_LEN 65536

struct tcp_state; /* src/tcp: connections, listeners and their tables */
struct ip_repr;
struct icmp_repr;

/*
 * The protocol switch (FreeBSD's protosw): how the IP layer hands packets up
 * without naming the layers above it. src/stack fills stack->protosw when it
 * assembles an instance; a NULL slot is a protocol nobody handles.
 */
struct ip_protosw {
    /* A payload of len bytes that arrived in the packet described by ip;
     * flow, when not NULL, is the NIC's flow hash. */
    void (*input)(struct tcpc_stack *stack, const struct ip_repr *ip, const uint8_t *payload,
                  size_t len, const uint32_t *flow);
    /* An ICMP error quoting a packet of this protocol that we sent. */
    void (*ctlinput)(struct tcpc_stack *stack, const struct icmp_repr *icmp);
    /* A live tunable changed: push what the protocol caches from it. */
    void (*tunables_changed)(struct tcpc_stack *stack);
};

#define STACK_NPROTO 256 /* one slot per IP protocol number */

struct tcpc_stack {
    struct tcpc_config cfg; /* cfg.tun holds the tunables in force */
    union {
        struct tcpc_stats s;
        uint64_t v[TCPC_STAT_COUNT];
    } stats;
    tcpc_time_t now;
    struct rand_state rand;
    struct timer_wheel wheel;
    struct tcp_state *tcp;
    const struct ip_protosw *protosw[STACK_NPROTO];
    uint8_t outbuf[STACK_OUTBUF_LEN];
};

/*
 * The layer-independent half of creating an instance: checks cfg, allocates
 * the stack and starts its clock, randomness and timer wheel. The layers
 * above are attached by src/stack. Returns 0, -EINVAL or -ENOMEM.
 */
int stack_create(const struct tcpc_config *cfg, tcpc_time_t now, struct tcpc_stack **out);

/* Frees what stack_create allocated (the layers above are gone by then). */
void stack_free(struct tcpc_stack *stack);

/* Moves the stack's clock to now, never backwards. */
void stack_set_now(struct tcpc_stack *stack, tcpc_time_t now);

/* Tells every protocol in the switch that a live tunable changed. */
void stack_tunables_changed(struct tcpc_stack *stack);

/* Bumps a counter by name: STAT_INC(stack, tcps_rcvtotal). */
#define STAT_INC(stack, name)    ((stack)->stats.s.name++)
#define STAT_ADD(stack, name, n) ((stack)->stats.s.name += (n))

/*
 * Drops a received packet: bumps counter `id` and, when tracing is on, says
 * why. Every drop on the input path goes through here so that none is silent.
 */
void stack_drop(struct tcpc_stack *stack, enum tcpc_stat_id id, const char *why);

/* Formats a line and hands it to the trace callback; a no-op without one. */
void stack_trace(struct tcpc_stack *stack, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
