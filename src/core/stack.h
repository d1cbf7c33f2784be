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
    uint8_t outbuf[STACK_OUTBUF_LEN];
};

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
