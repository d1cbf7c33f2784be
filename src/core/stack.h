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
#include "core/config.h"
#include "core/group.h"
#include "core/rand.h"
#include "core/route.h"
#include "util/timer.h"

/* Largest packet the stack builds: an IPv6 header plus a TCP segment that
 * fits a 64 KiB link MTU. */
#define STACK_OUTBUF_LEN 65536
/* Room the IP layer leaves in front of every packet it builds, so that the
 * link layer can prepend its header in place (an Ethernet header, with a
 * VLAN tag, is 18 bytes). */
#define STACK_LINK_HEADROOM 32

struct tcp_state;  /* src/tcp: connections, listeners and their tables */
struct link_state; /* src/link: Ethernet, ARP, ND and the neighbour cache */
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
    /* The stack's connection group published something (a listener
     * opened or closed): take it (at an entry, on the stack's thread). */
    void (*group_changed)(struct tcpc_stack *stack);
    /* A read-only tunable that reports the protocol's state
     * (net.inet.tcp.syncache.count): its value, or false when it is not
     * this protocol's. */
    bool (*sysctl_state)(const struct tcpc_stack *stack, const char *name, int64_t *value);
};

#define STACK_NPROTO 256 /* one slot per IP protocol number */

/*
 * The interface output hook: hands an IP packet of len bytes at pkt to the
 * link, toward nexthop (the destination itself or a gateway, route.h).
 * STACK_LINK_HEADROOM writable bytes precede pkt. Returns 0 when the packet
 * was sent, or taken over by the link (held while its neighbour resolves,
 * or dropped and counted by the link), and -ENOBUFS when the embedder's
 * output refused it. stack_create installs the IP-level one (the packet as
 * is to cfg.output); src/stack installs the Ethernet one for
 * TCPC_LINK_ETHER.
 */
typedef int (*stack_if_output_fn)(struct tcpc_stack *stack, const struct tcpc_addr *nexthop,
                                  uint8_t *pkt, size_t len);

/* net.inet.icmp.icmplim's budget: replies sent in the current second, per
 * family (FreeBSD's badport_bandlim). */
struct icmp_limit {
    tcpc_time_t start[2];
    uint32_t count[2];
};

struct tcpc_stack {
    struct tcpc_config cfg; /* cfg.tun holds the tunables in force */
    union {
        struct tcpc_stats s;
        uint64_t v[TCPC_STAT_COUNT];
    } stats;
    tcpc_time_t now;
    struct rand_state rand;
    struct timer_wheel wheel;
    struct route_table rt; /* addresses, connected prefixes, gateways */
    struct icmp_limit icmplim;
    struct tcp_state *tcp;
    struct link_state *link; /* NULL on an IP-level link */
    const struct ip_protosw *protosw[STACK_NPROTO];
    stack_if_output_fn if_output;
    /* The connection group (core/group.h), NULL for none; the generation
     * of what it published that this stack has taken, and each kind's
     * share of it (tunables, listeners). */
    struct tcpc_group *group;
    /* Set while the stack takes packets other members handed it, which
     * are its own by the rule and are never handed on again. */
    bool handoff_in;
    uint64_t group_gen, group_tun_ver, group_lis_ver;
    /* This member's copy of each group listener slot (tcp/tcp_group.c). */
    struct stack_group_copy {
        uint32_t id; /* the group listener it copies; 0: none */
        int sd;      /* its descriptor, or what opening it failed with */
        bool origin; /* opened here: closing it closes the group's */
    } group_lis[TCPC_GROUP_LISTENERS];
    /* Where the IP layer builds what it sends: the packet starts at
     * outbuf + STACK_LINK_HEADROOM (stack_outbuf). */
    uint8_t outbuf[STACK_LINK_HEADROOM + STACK_OUTBUF_LEN];
};

/* The start of the output buffer's packet area (STACK_OUTBUF_LEN bytes). */
static inline uint8_t *stack_outbuf(struct tcpc_stack *stack)
{
    return stack->outbuf + STACK_LINK_HEADROOM;
}

/*
 * The layer-independent half of creating an instance: checks cfg, allocates
 * the stack and starts its clock, randomness and timer wheel. The layers
 * above are attached by src/stack. Returns 0, -EINVAL or -ENOMEM.
 */
int stack_create(const struct tcpc_config *cfg, tcpc_time_t now, struct tcpc_stack **out);

/* Frees what stack_create allocated (the layers above are gone by then). */
void stack_free(struct tcpc_stack *stack);

/* Moves the stack's clock to now, never backwards. */
static inline void stack_set_now(struct tcpc_stack *stack, tcpc_time_t now)
{
    if (now > TCPC_TIME_MAX)
        now = TCPC_TIME_MAX;
    if (now > stack->now)
        stack->now = now;
}

/* Takes the tunables and listeners other members of the stack's group
 * published since the last call: the one read of shared state at every
 * entry (a relaxed load, and a NULL test for a stack in no group). */
void stack_group_sync_slow(struct tcpc_stack *stack);
static inline void stack_group_sync(struct tcpc_stack *stack)
{
    if (stack->group && group_gen(stack->group) != stack->group_gen)
        stack_group_sync_slow(stack);
}

/* The member the group's ownership rule gives a packet from faddr:fport
 * to laddr:lport; the stack's own index when it has no rule. */
unsigned stack_owner_of(const struct tcpc_stack *stack, const struct tcpc_addr *faddr,
                        uint16_t fport, const struct tcpc_addr *laddr, uint16_t lport);

/* For a TCP segment that matches nothing here (pkt: its whole IP packet):
 * true when the ownership rule gives it to another member and it was
 * handed there (tcps_handoff) or dropped because that member's queue is
 * full (tcps_handoff_qdrop); false when it is this member's to answer. */
bool stack_handoff_segment(struct tcpc_stack *stack, const struct tcpc_addr *faddr, uint16_t fport,
                           const struct tcpc_addr *laddr, uint16_t lport, const uint8_t *pkt,
                           size_t len);

/* Copies a received ARP or ND frame to every other member of the group
 * (ifi_grp_out, ifi_grp_qdrops): nothing outside a group, or for a frame
 * that was itself a copy. */
void stack_group_share(struct tcpc_stack *stack, const uint8_t *frame, size_t len);

/* Tells every protocol in the switch that a live tunable changed. */
void stack_tunables_changed(struct tcpc_stack *stack);
/* The value of read-only tunable `name`, from the protocol it reports on
 * (0 when none does). */
int64_t stack_sysctl_state(const struct tcpc_stack *stack, const char *name);

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
