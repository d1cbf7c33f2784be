/*
 * The engine's side of the PCB layer; see tcp_demux.h.
 */
#include "tcp/tcp_demux.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "core/stack.h"
#include "pcb/pcb.h"
#include "tcp/tcp_var.h"
#include "tcp/timewait.h"

static struct pcbinfo *demux_info(struct tcpc_stack *stack)
{
    return stack->tcp->pcb;
}

static bool demux_is_local(void *ctx, const struct tcpc_addr *a)
{
    return tcpc_addr_is_local(ctx, a);
}

/* The PCB layer's view of the embedder's flow hash. */
static uint32_t demux_flow_hash(void *ctx, const struct pcb_tuple *t)
{
    const struct tcpc_stack *stack = ctx;
    return stack->cfg.flow_hash(stack->cfg.flow_hash_ctx, &t->faddr, t->fport, &t->laddr, t->lport);
}

/* The PCB layer's view of the embedder's steering rule: its own, or the
 * group's ownership rule naming this member. */
static bool demux_owns(void *ctx, const struct pcb_tuple *t)
{
    const struct tcpc_stack *stack = ctx;
    if (stack->cfg.steer)
        return stack->cfg.steer(stack->cfg.steer_ctx, &t->faddr, t->fport, &t->laddr, t->lport);
    return stack_owner_of(stack, &t->faddr, t->fport, &t->laddr, t->lport) ==
           stack->cfg.group_index;
}

static void demux_ports_free(struct pcbinfo *ports)
{
    pcbinfo_destroy(ports);
    mem_put(&mem_libc, ports, sizeof(*ports));
}

/* The group's port reservations (a pcbinfo whose records stand for the
 * members' sockets), made by the first member to get here with room for
 * maxsockets records per member, up to GROUP_PORTS_MAX. Nothing looks a
 * packet up in it and nobody picks a port from it (each member walks its
 * own range), so its port range is moot. Under the group's ports lock. */
static int demux_ports_new(struct tcpc_group *g, uint32_t maxsockets)
{
    uint64_t cap = (uint64_t)maxsockets * g->n;
    struct pcb_params p = {
        .max_pcbs = cap > GROUP_PORTS_MAX ? GROUP_PORTS_MAX : (uint32_t)cap,
        .port_first = 1,
        .port_last = UINT16_MAX,
    };
    uint8_t seed[32];
    group_secret(g, GROUP_SECRET_RESERVE, 0, seed, sizeof(seed));
    rand_init(&g->ports_rnd, seed);
    /* The group's, not a member's: from the C library, freed by the group. */
    struct pcbinfo *info = mem_get(&mem_libc, sizeof(*info), MEM_ALIGN_ANY, true);
    if (!info)
        return -ENOMEM;
    int err = pcbinfo_init(info, &p, &g->ports_rnd);
    if (err) {
        mem_put(&mem_libc, info, sizeof(*info));
        return err;
    }
    g->ports = info;
    g->ports_free = demux_ports_free;
    return 0;
}

/* Member stack's view of its group's reservations (struct pcb_shared). */
static int demux_ports_attach(struct tcpc_stack *stack, uint32_t maxsockets, struct pcb_shared *out)
{
    struct tcpc_group *g = stack->group;
    group_ports_lock(g);
    int err = g->ports ? 0 : demux_ports_new(g, maxsockets);
    group_ports_unlock(g);
    *out = (struct pcb_shared){.info = g->ports,
                               .lock = group_ports_lock,
                               .unlock = group_ports_unlock,
                               .ctx = g,
                               .owner = stack->cfg.group_index};
    return err;
}

int demux_init(struct tcpc_stack *stack)
{
    const struct tcpc_tunables *tun = &stack->cfg.tun;
    struct pcbinfo *info = mem_get(&stack->cfg.mem, sizeof(*info), MEM_ALIGN_ANY, true);
    if (!info)
        return -ENOMEM;
    struct pcb_params p = {
        .mem = &stack->cfg.mem,
        .max_pcbs = (uint32_t)tun->maxsockets,
        /* Every kind's pool, summed: sockets and TIME_WAIT records. */
        .max_exact = (uint32_t)tun->maxsockets + tw_capacity(tun),
        .port_first = (uint16_t)tun->portrange_first,
        .port_last = (uint16_t)tun->portrange_last,
        .port_counters = (uint32_t)tun->portrange_hashsize,
        .stray_removes = &stack->stats.s.tcps_remhash_stray,
        .is_local = demux_is_local,
        .is_local_ctx = stack,
        .owns = stack->cfg.steer || stack->cfg.owner ? demux_owns : NULL,
        .owns_ctx = stack,
    };
    /* A group's members reserve ports in one table (docs/groups.md). */
    struct pcb_shared shared;
    int err = 0;
    if (stack->group) {
        err = demux_ports_attach(stack, p.max_pcbs, &shared);
        p.shared = &shared;
    }
    if (!err)
        err = pcbinfo_init(info, &p, &stack->rand);
    if (!err && stack->cfg.flow_hash)
        err = pcb_set_flow_hash(info, demux_flow_hash, stack);
    if (err) {
        pcbinfo_destroy(info);
        mem_put(&stack->cfg.mem, info, sizeof(*info));
        return err;
    }
    /* A group's members walk the ephemeral range alike for a destination
     * (RFC 6056 algorithm 4's offset under the group's key). */
    if (stack->group)
        group_secret(stack->group, GROUP_SECRET_PORT, 0, info->port_key, sizeof(info->port_key));
    stack->tcp->pcb = info;
    return 0;
}

void demux_destroy(struct tcpc_stack *stack)
{
    if (!stack->tcp->pcb)
        return;
    pcbinfo_destroy(stack->tcp->pcb);
    mem_put(&stack->cfg.mem, stack->tcp->pcb, sizeof(*stack->tcp->pcb));
    stack->tcp->pcb = NULL;
}

int demux_attach(struct tcpc_stack *stack, struct tcpcb *tp)
{
    return pcb_alloc(demux_info(stack), tp->family == TCPC_AF_INET6, tp, &tp->inp);
}

void demux_detach(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (stack->tcp->demux_last == tp)
        stack->tcp->demux_last = NULL;
    if (tp->inp)
        pcb_free(demux_info(stack), tp->inp);
    tp->inp = NULL;
}

int demux_bind(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcpc_addr *laddr,
               uint16_t lport)
{
    return pcb_bind(demux_info(stack), tp->inp, laddr, lport);
}

int demux_listen(struct tcpc_stack *stack, struct tcpcb *tp)
{
    return pcb_listen(demux_info(stack), tp->inp);
}

int demux_connect(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcpc_addr *faddr,
                  uint16_t fport, const struct tcpc_addr *src)
{
    return pcb_connect(demux_info(stack), tp->inp, faddr, fport, src);
}

int demux_insert(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcpc_addr *laddr,
                 uint16_t lport, const struct tcpc_addr *faddr, uint16_t fport)
{
    struct pcb_tuple t = {.faddr = *faddr, .laddr = *laddr, .fport = fport, .lport = lport};
    return pcb_insert_connected(demux_info(stack), tp->inp, &t);
}

void demux_remove(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (tp->inp)
        pcb_remove(demux_info(stack), tp->inp);
}

void demux_set_portrange(struct tcpc_stack *stack)
{
    const struct tcpc_tunables *tun = &stack->cfg.tun;
    /* sysctl validation keeps 1 <= first <= last <= 65535, so this cannot
     * be refused. */
    int err = pcb_set_portrange(demux_info(stack), (uint16_t)tun->portrange_first,
                                (uint16_t)tun->portrange_last);
    (void)err;
}

int demux_setopt(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t inp_opts, bool on)
{
    int err = pcb_setopt(tp->inp, inp_opts, on);
    if (!err) /* the group's record of a bound socket shows its options too */
        pcb_shared_setopt(demux_info(stack), tp->inp);
    return err;
}

void demux_inherit_opts(struct tcpcb *child, const struct tcpcb *listener)
{
    uint32_t opts = listener->inp->flags & INP_SETTABLE;
    /* An IPv4 connection accepted by a dual-stack listener is not v6. */
    if (!(child->inp->flags & INP_IPV6PROTO))
        opts &= ~INP_V6ONLY;
    int err = pcb_setopt(child->inp, opts, true);
    /* Internal: opts are settable bits only, V6ONLY only on a v6 child, and
     * the child is fresh from tcb_new, unbound; nothing outside can make
     * pcb_setopt refuse them. */
    assert(err == 0);
    (void)err;
}

static struct tcpcb *demux_find(struct tcpc_stack *stack, const struct tcpc_addr *faddr,
                                uint16_t fport, const struct tcpc_addr *laddr, uint16_t lport,
                                unsigned flags)
{
    struct inpcb *inp = pcb_lookup(demux_info(stack), faddr, fport, laddr, lport, flags, 0);
    return inp ? inp->ppcb : NULL;
}

struct tcpcb *demux_lookup(struct tcpc_stack *stack, const struct tcpc_addr *faddr, uint16_t fport,
                           const struct tcpc_addr *laddr, uint16_t lport)
{
    return demux_find(stack, faddr, fport, laddr, lport, PCB_LOOKUP_WILDCARD);
}

static_assert(DEMUX_REF_NONE == PCB_REF_NONE, "the engine's name for no reference");

/*
 * The last connection a segment was for. Segments come in trains (a bulk
 * transfer, a request and its answer), and the lookup hashes the 4-tuple
 * with a keyed hash (SipHash) before it reads a bucket: a train's segments
 * skip both when the one before was for the same connection. The entry is
 * only a hint, checked against the inpcb on every use: the connection is
 * still in the exact table (hashed, connected, not freed) under this very
 * 4-tuple, so the table would answer with it too (a 4-tuple is there
 * once). demux_detach forgets a control block whose inpcb it frees, so
 * the hint never points at a freed one. Only for stacks that hash for
 * themselves: with the embedder's flow hash (cfg.flow_hash) the hash decides
 * what a lookup finds (a wrong one misses the connection, as FreeBSD trusts
 * a flowid), and the hint would overrule it.
 */
static struct tcpcb *demux_last_hit(const struct tcpc_stack *stack, const struct tcpc_addr *faddr,
                                    uint16_t fport, const struct tcpc_addr *laddr, uint16_t lport)
{
    struct tcpcb *tp = stack->tcp->demux_last;
    if (!tp || !tp->inp || stack->cfg.flow_hash)
        return NULL;
    const struct inpcb *inp = tp->inp;
    uint32_t want = INP_INHASHLIST | INP_CONNECTED;
    if ((inp->flags & (want | INP_FREED)) != want || inp->ppcb != tp)
        return NULL;
    if (inp->fport != fport || inp->lport != lport || !tcpc_addr_eq(&inp->faddr, faddr) ||
        !tcpc_addr_eq(&inp->laddr, laddr))
        return NULL;
    return tp;
}

struct tcpcb *demux_lookup_tw(struct tcpc_stack *stack, const struct tcpc_addr *faddr,
                              uint16_t fport, const struct tcpc_addr *laddr, uint16_t lport,
                              const uint32_t *flow, uint32_t *twref)
{
    struct tcpcb *last = demux_last_hit(stack, faddr, fport, laddr, lport);
    if (last) {
        *twref = PCB_REF_NONE;
        return last;
    }
    struct pcbinfo *info = demux_info(stack);
    struct pcb_tuple t = {.faddr = *faddr, .laddr = *laddr, .fport = fport, .lport = lport};
    unsigned flags = PCB_LOOKUP_WILDCARD | (flow ? PCB_LOOKUP_HASH : 0);
    uint32_t ref = pcb_lookup_ref(info, &t, flags, flow ? pcb_hash_rss(*flow) : 0);
    unsigned kind = PCB_REF_KIND(ref);
    *twref = kind == PCB_KIND_TIMEWAIT || kind == PCB_KIND_TIMEWAIT_WIDE ? ref : PCB_REF_NONE;
    struct inpcb *inp = pcb_from_ref(info, ref);
    if (!inp)
        return NULL;
    if ((inp->flags & INP_CONNECTED) && inp->ppcb && !stack->cfg.flow_hash)
        stack->tcp->demux_last = inp->ppcb;
    return inp->ppcb;
}

struct tcpcb *demux_lookup_exact(struct tcpc_stack *stack, const struct tcpc_addr *faddr,
                                 uint16_t fport, const struct tcpc_addr *laddr, uint16_t lport)
{
    return demux_find(stack, faddr, fport, laddr, lport, 0);
}

int demux_register_kind(struct tcpc_stack *stack, unsigned kind, const struct pcb_kind_ops *ops)
{
    return pcb_register_kind(stack->tcp->pcb, kind, ops);
}

int demux_ref_insert(struct tcpc_stack *stack, const struct pcb_tuple *t, uint32_t ref)
{
    return pcb_ref_insert(demux_info(stack), t, ref);
}

int demux_ref_remove(struct tcpc_stack *stack, const struct pcb_tuple *t, uint32_t ref)
{
    return pcb_ref_remove(demux_info(stack), t, ref);
}

struct tcpcb *demux_lookup_listener(struct tcpc_stack *stack, const struct tcpc_addr *faddr,
                                    uint16_t fport, const struct tcpc_addr *laddr, uint16_t lport,
                                    const uint32_t *flow)
{
    struct pcbinfo *info = demux_info(stack);
    struct pcb_tuple t = {.faddr = *faddr, .laddr = *laddr, .fport = fport, .lport = lport};
    struct inpcb *inp = pcb_lookup_wild(info, &t, flow ? pcb_hash_rss(*flow) : pcb_hash(info, &t));
    return inp && !(inp->flags & INP_FREED) ? inp->ppcb : NULL;
}
