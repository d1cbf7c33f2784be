/*
 * bind, listen and connect: who may use which local address and port.
 *
 * The rules are FreeBSD's in_pcbbind_setup / in6_pcbbind with
 * in_pcblookup_local's best-fit search, restated in docs/pcb.md with the
 * table of cases that tests/test_pcb_bind.c checks. In short:
 *  - without SO_REUSEADDR or SO_REUSEPORT the conflict search is "wildcard":
 *    any PCB on the port whose local address overlaps (equal, or either is
 *    the wildcard), connected ones and TIME_WAIT included, refuses the bind;
 *  - with either option the search is exact: only an unconnected PCB bound
 *    to the very same address can refuse it, so connections and TIME_WAIT
 *    never block, and a specific address can be bound beside the wildcard;
 *  - a PCB found is no conflict when both sockets set SO_REUSEPORT, or both
 *    SO_REUSEPORT_LB; for a multicast address either option counts as both
 *    (the PR 179901 fix: the options are cached as flags whenever they are
 *    set, so the order of setsockopt and bind does not matter);
 *  - IPv4 and IPv6 are separate spaces except for a dual-stack socket on ::,
 *    which also claims the IPv4 wildcard; FreeBSD lets it share that with
 *    an IPv4 socket on 0.0.0.0 bound first (the IPv4 socket wins IPv4
 *    traffic), but not the other way round.
 */
#include <errno.h>
#include <stdlib.h>

#include "pcb/pcb.h"
#include "pcb/pcb_hash.h"
#include "pcb/pcb_internal.h"
#include "pcb/pcb_table.h"

/* A PCB's local address as IPv4 sees it, or false when it takes no IPv4. */
static bool pcb_view4(const struct inpcb *t, struct tcpc_addr *out)
{
    if (tcpc_addr_is_v4(&t->laddr)) {
        *out = t->laddr;
        return true;
    }
    if (pcb_is_dual(t)) {
        *out = pcb_any4();
        return true;
    }
    return false;
}

/* Cost of candidate t for address a in the best-fit search; -1: no match.
 * FreeBSD counts one per wildcard mismatch and three for a dual-stack
 * socket seen from IPv4, so that 0.0.0.0 is preferred to :: there. */
static int pcb_local_cost(const struct inpcb *t, bool v4, const struct tcpc_addr *a)
{
    struct tcpc_addr view = t->laddr;
    int cost = 0;
    if (v4) {
        if (!pcb_view4(t, &view))
            return -1;
        if (pcb_is_dual(t))
            cost += 3;
    } else if (tcpc_addr_is_v4(&t->laddr)) {
        return -1;
    }
    if (t->flags & INP_CONNECTED)
        cost++;
    bool view_any = tcpc_addr_is_any(&view), a_any = tcpc_addr_is_any(a);
    if (!view_any && !a_any && !tcpc_addr_eq(&view, a))
        return -1;
    return cost + (view_any != a_any);
}

/*
 * in_pcblookup_local: the PCB on lport that best fits address a of one
 * family. wild (no reuse option on the binder) searches connections too
 * and accepts overlapping addresses; otherwise only an unconnected PCB on
 * exactly a.
 */
static const struct inpcb *pcb_local_best(const struct pcbinfo *info, bool v4,
                                          const struct tcpc_addr *a, uint16_t lport, bool wild)
{
    const struct inpcb *best = NULL;
    int best_cost = 1 << 30;
    const uint32_t *heads[2] = {info->wild_head, info->conn_head};
    for (unsigned h = 0; h < (wild ? 2u : 1u); h++) {
        for (uint32_t i = pcb_port_head(info, heads[h], lport); i != PCB_NIL;
             i = info->pcbs[i].port_next) {
            const struct inpcb *t = &info->pcbs[i];
            if (t->lport != lport)
                continue;
            int cost = pcb_local_cost(t, v4, a);
            if (cost < 0 || (!wild && cost != 0))
                continue;
            if (cost < best_cost) {
                best = t;
                best_cost = cost;
                if (cost == 0)
                    return best;
            }
        }
    }
    return best;
}

static bool pcb_tw_port_busy(const struct pcbinfo *info, const struct tcpc_addr *a, uint16_t lport)
{
    for (unsigned k = 0; k < PCB_KIND_MAX; k++) {
        const struct pcb_kind_ops *ops = &info->kinds[k];
        if (ops->port_busy && ops->port_busy(ops->ctx, a, lport))
            return true;
    }
    return false;
}

/* What the binder's options forgive in a PCB found on its address. */
static uint32_t pcb_reuse_mask(uint32_t flags, const struct tcpc_addr *a)
{
    uint32_t mask = flags & (INP_REUSEPORT | INP_REUSEPORT_LB);
    if (pcb_is_multicast(a) && (flags & (INP_REUSEADDR | INP_REUSEPORT)))
        mask |= INP_REUSEADDR | INP_REUSEPORT;
    return mask;
}

static bool pcb_search_is_wild(uint32_t flags)
{
    return (flags & (INP_REUSEADDR | INP_REUSEPORT)) == 0;
}

/*
 * The IPv4 half of the check (in_pcbbind_setup) for a binder with options
 * `flags` taking IPv4 address a; dual: a is the IPv4 side of a dual-stack
 * :: bind (in6_pcbbind's second lookup).
 */
static bool pcb_conflict4(const struct pcbinfo *info, uint32_t flags, bool dual,
                          const struct tcpc_addr *a, uint16_t lport, bool strict)
{
    const struct inpcb *t = pcb_local_best(info, true, a, lport, pcb_search_is_wild(flags));
    if (!t)
        return false;
    if (strict)
        return true;
    if (t->flags & pcb_reuse_mask(flags, a))
        return false;
    struct tcpc_addr tv;
    pcb_view4(t, &tv);
    if (dual)
        return !tcpc_addr_is_any(&tv) || (t->flags & INP_IPV6PROTO);
    /* A v6 socket may take the mapped IPv4 wildcard beside a dual-stack ::,
     * which it outranks for IPv4 traffic. FreeBSD asks only that both be v6
     * sockets, which also lets two sockets share ::ffff:0.0.0.0 with no
     * option at all; here the other one must be the dual-stack ::. */
    return !tcpc_addr_is_any(a) || !tcpc_addr_is_any(&tv) || !(flags & INP_IPV6PROTO) ||
           !pcb_is_dual(t);
}

/*
 * Would a socket with options `flags` binding a:lport conflict? strict: any
 * PCB found counts (ephemeral search, FreeBSD's in_pcb_lport); otherwise
 * the reuse rules apply. Only the options and the address being bound
 * decide: the binder's own laddr is still the wildcard, so whether the bind
 * is dual-stack comes from a (in6_pcbbind checks the IPv4 side only for
 * ::), not from the socket.
 */
bool pcb_conflict(const struct pcbinfo *info, uint32_t flags, const struct tcpc_addr *a,
                  uint16_t lport, bool strict)
{
    if (pcb_search_is_wild(flags) && pcb_tw_port_busy(info, a, lport))
        return true;
    if (tcpc_addr_is_v4(a))
        return pcb_conflict4(info, flags, false, a, lport, strict);
    const struct inpcb *t = pcb_local_best(info, false, a, lport, pcb_search_is_wild(flags));
    if (t && (strict || !(t->flags & pcb_reuse_mask(flags, a))))
        return true;
    if (pcb_dual_at(flags, a)) {
        struct tcpc_addr any4 = pcb_any4();
        return pcb_conflict4(info, flags, true, &any4, lport, strict);
    }
    return false;
}

/* The same question of this instance's table and, in a group, of the
 * reservations every instance shares (pcb_shared.c): a bind one stack alone
 * would refuse is refused whichever instance holds the other socket. */
static bool pcb_bind_conflict(const struct pcbinfo *info, uint32_t flags, const struct tcpc_addr *a,
                              uint16_t lport, bool strict)
{
    if (pcb_conflict(info, flags, a, lport, strict))
        return true;
    return pcb_shared_active(info, flags) &&
           pcb_conflict(info->shared.info, flags, a, lport, strict);
}

struct pcb_bind_probe {
    const struct pcbinfo *info;
    uint32_t flags;
    const struct tcpc_addr *a;
};

static bool pcb_bind_usable(void *ctx, uint16_t port)
{
    const struct pcb_bind_probe *p = ctx;
    return !pcb_bind_conflict(p->info, p->flags, p->a, port, true);
}

/* The address inp would bind, in its family's form, or -EINVAL. */
static int pcb_bind_addr(const struct inpcb *inp, const struct tcpc_addr *in, struct tcpc_addr *out)
{
    *out = *in;
    if ((inp->flags & INP_IPV6PROTO) == 0) {
        if (pcb_is_any6(in))
            *out = pcb_any4();
        return tcpc_addr_is_v4(out) ? 0 : -EINVAL;
    }
    if (tcpc_addr_is_v4(in) && (inp->flags & INP_V6ONLY))
        return -EINVAL;
    return 0;
}

static bool pcb_addr_ok(const struct pcbinfo *info, const struct inpcb *inp,
                        const struct tcpc_addr *a)
{
    if (tcpc_addr_is_any(a) || pcb_is_multicast(a) || (inp->flags & INP_BINDANY))
        return true;
    return info->is_local == NULL || info->is_local(info->is_local_ctx, a);
}

static bool pcb_is_bound(const struct inpcb *inp)
{
    return inp->lport != 0 || !tcpc_addr_is_any(&inp->laddr);
}

/* The port inp may take at a (lport, or an ephemeral one for 0) and its
 * record in the shared table; the caller holds the shared lock. */
static int pcb_bind_port(struct pcbinfo *info, const struct inpcb *inp, const struct tcpc_addr *a,
                         uint16_t lport)
{
    if (lport == 0) {
        struct pcb_bind_probe probe = {info, inp->flags, a};
        int port = pcb_port_select(info, a, NULL, 0, pcb_bind_usable, &probe);
        if (port < 0)
            return port;
        lport = (uint16_t)port;
    } else if (pcb_bind_conflict(info, inp->flags, a, lport, false)) {
        return -EADDRINUSE;
    }
    int err = pcb_shared_add_bound(info, inp, a, lport);
    return err ? err : lport;
}

int pcb_bind(struct pcbinfo *info, struct inpcb *inp, const struct tcpc_addr *laddr, uint16_t lport)
{
    struct tcpc_addr a;
    if (pcb_is_bound(inp) || (inp->flags & INP_CONNECTED))
        return -EINVAL;
    int err = pcb_bind_addr(inp, laddr, &a);
    if (err)
        return err;
    if (!pcb_addr_ok(info, inp, &a))
        return -EADDRNOTAVAIL;
    pcb_shared_lock(info, inp->flags);
    int port = pcb_bind_port(info, inp, &a, lport);
    pcb_shared_unlock(info, inp->flags);
    if (port < 0)
        return port;
    lport = (uint16_t)port;
    inp->laddr = a;
    inp->lport = lport;
    pcb_chain_add(info, info->wild_head, inp);
    inp->flags |= INP_INHASHLIST;
    return 0;
}

/* --- SO_REUSEPORT_LB groups ------------------------------------------- */

/* The group of laddr:lport, found through a member on the port's chain of
 * unconnected binds (members are listeners, so they are on it): the cost is
 * that chain, never the number of groups. Listen time only. */
static uint32_t pcb_lbgroup_of_port(const struct pcbinfo *info, const struct tcpc_addr *laddr,
                                    uint16_t lport)
{
    for (uint32_t i = pcb_port_head(info, info->wild_head, lport); i != PCB_NIL;
         i = info->pcbs[i].port_next) {
        const struct inpcb *m = &info->pcbs[i];
        if ((m->flags & INP_INLBGROUP) && m->lport == lport && tcpc_addr_eq(&m->laddr, laddr))
            return m->lbgroup;
    }
    return PCB_NIL;
}

void pcb_lbgroup_members_free(struct pcbinfo *info, struct pcb_lbgroup *grp)
{
    mem_put(info->mem, grp->members, (size_t)grp->cap * sizeof(*grp->members));
    grp->members = NULL;
}

static uint32_t pcb_lbgroup_create(struct pcbinfo *info, const struct inpcb *inp)
{
    if (info->nlbgroups == info->lbgroups_cap) {
        uint32_t cap = info->lbgroups_cap ? info->lbgroups_cap * 2 : 4;
        struct pcb_lbgroup *g = mem_get(info->mem, cap * sizeof(*g), MEM_ALIGN_ANY, false);
        if (!g)
            return PCB_NIL;
        if (info->nlbgroups)
            memcpy(g, info->lbgroups, info->nlbgroups * sizeof(*g));
        mem_put(info->mem, info->lbgroups, info->lbgroups_cap * sizeof(*g));
        info->lbgroups = g;
        info->lbgroups_cap = cap;
    }
    info->lbgroups[info->nlbgroups] =
        (struct pcb_lbgroup){.laddr = inp->laddr, .lport = inp->lport};
    return info->nlbgroups++;
}

static int pcb_lbgroup_join(struct pcbinfo *info, struct inpcb *inp)
{
    uint32_t g = pcb_lbgroup_of_port(info, &inp->laddr, inp->lport);
    if (g == PCB_NIL && (g = pcb_lbgroup_create(info, inp)) == PCB_NIL)
        return -ENOMEM;
    struct pcb_lbgroup *grp = &info->lbgroups[g];
    if (grp->count == grp->cap) {
        if (grp->cap == UINT16_MAX)
            return -ENOMEM;
        uint32_t cap = grp->cap ? grp->cap * 2u : 4u;
        if (cap > UINT16_MAX)
            cap = UINT16_MAX;
        uint32_t *m = mem_get(info->mem, cap * sizeof(*m), MEM_ALIGN_ANY, false);
        if (!m)
            return -ENOMEM;
        if (grp->count)
            memcpy(m, grp->members, grp->count * sizeof(*m));
        pcb_lbgroup_members_free(info, grp);
        grp->members = m;
        grp->cap = (uint16_t)cap;
    }
    grp->members[grp->count++] = pcb_index(info, inp);
    inp->lbgroup = g;
    inp->flags |= INP_INLBGROUP;
    return 0;
}

void pcb_lbgroup_leave(struct pcbinfo *info, struct inpcb *inp)
{
    if ((inp->flags & INP_INLBGROUP) == 0)
        return;
    inp->flags &= ~INP_INLBGROUP;
    uint32_t g = inp->lbgroup;
    /* Internal: only a join sets INP_INLBGROUP and inp->lbgroup, and a
     * group that moves in the array renumbers its members (below). */
    assert(g < info->nlbgroups);
    struct pcb_lbgroup *grp = &info->lbgroups[g];
    uint32_t idx = pcb_index(info, inp);
    for (uint16_t i = 0; i < grp->count; i++) {
        if (grp->members[i] == idx) {
            grp->members[i] = grp->members[--grp->count];
            break;
        }
    }
    if (grp->count > 0)
        return;
    /* The last group moves into the hole; its members learn the new index,
     * which costs that group's size, not a search. */
    pcb_lbgroup_members_free(info, grp);
    *grp = info->lbgroups[--info->nlbgroups];
    for (uint16_t i = 0; g < info->nlbgroups && i < grp->count; i++)
        info->pcbs[grp->members[i]].lbgroup = g;
}

int pcb_listen(struct pcbinfo *info, struct inpcb *inp)
{
    if (inp->flags & INP_CONNECTED)
        return -EINVAL;
    if (inp->flags & INP_LISTEN)
        return 0;
    if (inp->lport == 0) {
        /* Unbound means laddr is still the family's wildcard. */
        struct tcpc_addr any = inp->laddr;
        int err = pcb_bind(info, inp, &any, 0);
        if (err)
            return err;
    } else if ((inp->flags & INP_INHASHLIST) == 0) {
        return -EINVAL; /* removed (closed): no way back into the tables */
    }
    if (inp->flags & INP_REUSEPORT_LB) {
        int err = pcb_lbgroup_join(info, inp);
        if (err)
            return err;
    }
    inp->flags |= INP_LISTEN;
    return 0;
}
