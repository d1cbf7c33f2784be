/*
 * The stack instance's own parts: configuration defaults and checks, the
 * allocation, the clock, tracing and drops. The layers above are attached
 * by src/stack (tcpc_stack_new), so nothing here names them.
 *
 * Time enters only through tcpc_input and tcpc_advance, and is clamped so
 * that it never runs backwards inside the stack even if the embedder's does.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ip_input.h"
#include "core/stack.h"
#include "core/sysctl.h"

/* Timer wheel granularity: fine enough for delayed ACKs and RTOs measured in
 * milliseconds, coarse enough that a wheel turn spans minutes. */
#define STACK_TICK_USEC 1000

/* The output buffer holds the largest packet the MTU allows. */
_Static_assert(TCPC_MTU_MAX <= STACK_OUTBUF_LEN, "outbuf holds a packet of TCPC_MTU_MAX bytes");

void tcpc_config_init(struct tcpc_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mtu = 1500;
    sysctl_defaults(&cfg->tun);
}

/* Whether cfg lists an IPv6 local address. */
static bool stack_has_v6_addr(const struct tcpc_config *cfg)
{
    for (unsigned i = 0; i < cfg->nlocal_addrs; i++)
        if (!tcpc_addr_is_v4(&cfg->local_addrs[i]))
            return true;
    return false;
}

static bool stack_mac_ok(const struct tcpc_ether_addr *mac)
{
    static const uint8_t zero[6];
    return (mac->bytes[0] & 1) == 0 && memcmp(mac->bytes, zero, sizeof(zero)) != 0;
}

/* The link mode and, for Ethernet, the MAC. */
static int stack_link_check(const struct tcpc_config *cfg, const char **why)
{
    if (cfg->link != TCPC_LINK_IP && cfg->link != TCPC_LINK_ETHER) {
        *why = "link must be TCPC_LINK_IP or TCPC_LINK_ETHER";
        return -EINVAL;
    }
    if (cfg->link == TCPC_LINK_ETHER && !stack_mac_ok(&cfg->ether_addr)) {
        *why = "an Ethernet link needs the stack's own unicast MAC in ether_addr (not all zeros, "
               "no group bit)";
        return -EINVAL;
    }
    return 0;
}

int tcpc_config_check(const struct tcpc_config *cfg, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!cfg->output) {
        *why = "the output callback is required";
        return -EINVAL;
    }
    if (mem_half_set(&cfg->mem)) {
        *why = "an allocator needs both its alloc and release functions";
        return -EINVAL;
    }
    if (cfg->nlocal_addrs > TCPC_MAX_LOCAL_ADDRS) {
        *why = "at most 16 local addresses (TCPC_MAX_LOCAL_ADDRS)";
        return -EINVAL;
    }
    if (cfg->mtu < TCPC_MTU_MIN || cfg->mtu > TCPC_MTU_MAX) {
        *why = "mtu must be 576..65536 (TCPC_MTU_MIN..TCPC_MTU_MAX)";
        return -EINVAL;
    }
    if (cfg->mtu < TCPC_MTU_MIN_IPV6 && stack_has_v6_addr(cfg)) {
        *why = "an IPv6 local address needs an mtu of at least 1280 (RFC 8200 section 5); "
               "below that the stack is IPv4-only";
        return -EINVAL;
    }
    int err = route_config_check(cfg, why);
    if (!err)
        err = stack_link_check(cfg, why);
    return err ? err : sysctl_validate(&cfg->tun, why);
}

/* Joins cfg's group, taking the tunables its members published so far, so
 * that a member created late starts where the others are. */
static int stack_join(struct tcpc_stack *stack)
{
    struct tcpc_group *g = stack->cfg.group;
    if (!g)
        return 0;
    /* A queue slot holds the largest frame the link delivers: an MTU of IP
     * and an Ethernet header with one tag. */
    int err = group_join(g, stack->cfg.group_index, (size_t)stack->cfg.mtu + 18);
    if (err)
        return err;
    stack->group = g;
    uint64_t gen;
    (void)group_tun_copy(g, &stack->cfg.tun, &stack->group_tun_ver, &gen);
    /* Not the group's generation: the first entry takes the listeners
     * opened so far (the TCP layer does not exist yet). */
    stack->group_gen = gen - 1;
    return 0;
}

int stack_create(const struct tcpc_config *cfg, tcpc_time_t now, struct tcpc_stack **out)
{
    int err = tcpc_config_check(cfg, NULL);
    if (err)
        return err;
    /* The output buffer (64 KiB, the struct's tail) is written before it is
     * read, packet by packet: zeroing it cost most of creating a stack. */
    static_assert(offsetof(struct tcpc_stack, outbuf) + STACK_LINK_HEADROOM + STACK_OUTBUF_LEN ==
                      sizeof(struct tcpc_stack),
                  "outbuf must be the last member");
    struct tcpc_stack *stack = mem_get(&cfg->mem, sizeof(*stack), MEM_ALIGN_LINE, false);
    if (!stack)
        return -ENOMEM;
    memset(stack, 0, offsetof(struct tcpc_stack, outbuf));
    stack->cfg = *cfg;
    route_init(&stack->rt, cfg);
    /* The route table owns the addresses from here on (tcpc_addr_add). */
    stack->cfg.nlocal_addrs = 0;
    stack->if_output = ip_if_output_raw;
    stack->now = now > TCPC_TIME_MAX ? TCPC_TIME_MAX : now;
    rand_init(&stack->rand, cfg->use_seed ? cfg->seed : NULL);
    timer_wheel_init(&stack->wheel, stack->now, STACK_TICK_USEC);
    err = stack_join(stack);
    if (err) {
        mem_put(&cfg->mem, stack, sizeof(*stack));
        return err;
    }
    *out = stack;
    return 0;
}

void stack_free(struct tcpc_stack *stack)
{
    if (stack->group)
        group_leave(stack->group, stack->cfg.group_index);
    struct mem m = stack->cfg.mem; /* not read from the block being given back */
    mem_put(&m, stack, sizeof(*stack));
}

void stack_group_sync_slow(struct tcpc_stack *stack)
{
    if (group_tun_copy(stack->group, &stack->cfg.tun, &stack->group_tun_ver, &stack->group_gen))
        stack_tunables_changed(stack);
    for (unsigned p = 0; p < STACK_NPROTO; p++)
        if (stack->protosw[p] && stack->protosw[p]->group_changed)
            stack->protosw[p]->group_changed(stack);
}

unsigned stack_owner_of(const struct tcpc_stack *stack, const struct tcpc_addr *faddr,
                        uint16_t fport, const struct tcpc_addr *laddr, uint16_t lport)
{
    if (!stack->cfg.owner)
        return stack->cfg.group_index;
    return stack->cfg.owner(stack->cfg.owner_ctx, faddr, fport, laddr, lport);
}

bool stack_handoff_segment(struct tcpc_stack *stack, const struct tcpc_addr *faddr, uint16_t fport,
                           const struct tcpc_addr *laddr, uint16_t lport, const uint8_t *pkt,
                           size_t len)
{
    if (!stack->group || !stack->cfg.owner || stack->handoff_in)
        return false;
    unsigned to = stack_owner_of(stack, faddr, fport, laddr, lport);
    if (to == stack->cfg.group_index || to >= stack->group->n)
        return false;
    int err = group_handoff(stack->group, stack->cfg.group_index, to, GROUP_PKT_IP, pkt, len);
    if (err) {
        stack_drop(stack, TCPC_STAT_tcps_handoff_qdrop, "the owning member's queue is full");
        return true;
    }
    STAT_INC(stack, tcps_handoff);
    return true;
}

void stack_group_share(struct tcpc_stack *stack, const uint8_t *frame, size_t len)
{
    if (!stack->group || stack->handoff_in)
        return;
    for (unsigned to = 0; to < stack->group->n; to++) {
        if (to == stack->cfg.group_index)
            continue;
        int err =
            group_handoff(stack->group, stack->cfg.group_index, to, GROUP_PKT_FRAME, frame, len);
        /* A member not made yet resolves its neighbours itself later. */
        if (err == -ENOENT)
            continue;
        if (err)
            STAT_INC(stack, ifi_grp_qdrops);
        else
            STAT_INC(stack, ifi_grp_out);
    }
}

void stack_tunables_changed(struct tcpc_stack *stack)
{
    for (unsigned p = 0; p < STACK_NPROTO; p++)
        if (stack->protosw[p] && stack->protosw[p]->tunables_changed)
            stack->protosw[p]->tunables_changed(stack);
}

int64_t stack_sysctl_state(const struct tcpc_stack *stack, const char *name)
{
    int64_t v = 0;
    for (unsigned p = 0; p < STACK_NPROTO; p++)
        if (stack->protosw[p] && stack->protosw[p]->sysctl_state &&
            stack->protosw[p]->sysctl_state(stack, name, &v))
            return v;
    return 0;
}

tcpc_time_t tcpc_now(const struct tcpc_stack *stack)
{
    return stack->now;
}

void stack_trace(struct tcpc_stack *stack, const char *fmt, ...)
{
    if (!stack->cfg.trace)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    stack->cfg.trace(stack->cfg.trace_ctx, line);
}

void stack_drop(struct tcpc_stack *stack, enum tcpc_stat_id id, const char *why)
{
    stack->stats.v[id]++;
    if (stack->cfg.trace)
        stack_trace(stack, "drop %s: %s", tcpc_stat_name(id), why);
}
