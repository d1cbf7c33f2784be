/*
 * PCB lifetime: the instance's setup, the inpcb pool, references and the
 * INP_FREED rule, removal from the tables, options and the listing.
 *
 * The pool is one cache-line-aligned array of capacity inpcbs with a free
 * list threaded through port_next. util/pool would do the bookkeeping, but
 * it aligns objects to max_align_t only; a 64-byte inpcb that straddles two
 * lines would turn the second cache miss of every lookup into two.
 *
 * Lifetime: pcb_alloc hands out refcount 1, the owner's. Lookups with
 * PCB_LOOKUP_REF and other holders add one each. pcb_free removes the PCB
 * from every table and sets INP_FREED before dropping the owner's
 * reference, so a holder that comes back (pcb_rele) learns that the PCB is
 * dead even when its own reference was not the last: FreeBSD's fix for two
 * readers racing with in_pcbfree, where the one that did not drop the last
 * reference went on with a detached PCB.
 */
#include "pcb/pcb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/rand.h"
#include "pcb/pcb_internal.h"
#include "pcb/pcb_table.h"

/*
 * As many port-chain heads as the pool has PCBs (a power of two, at most one
 * per port), as FreeBSD sizes its port hash from the socket limit: a chain
 * then holds about one bound port, and a small stack does not pay for 65,536
 * heads it cannot fill. From 65,536 sockets on, each port has its own head.
 */
static int pcbinfo_alloc_ports(struct pcbinfo *info, uint32_t max_pcbs)
{
    uint32_t n = 16;
    while (n < max_pcbs && n < PCB_NPORTS)
        n <<= 1;
    info->port_mask = n - 1;
    info->wild_head = mem_get(info->mem, n * sizeof(uint32_t), MEM_ALIGN_ANY, false);
    info->conn_head = mem_get(info->mem, n * sizeof(uint32_t), MEM_ALIGN_ANY, false);
    if (!info->wild_head || !info->conn_head)
        return -ENOMEM;
    /* PCB_NIL is all ones in every byte. */
    memset(info->wild_head, 0xff, n * sizeof(uint32_t));
    memset(info->conn_head, 0xff, n * sizeof(uint32_t));
    return 0;
}

static int pcbinfo_alloc_pool(struct pcbinfo *info, uint32_t capacity)
{
    /* Left untouched (no zeroing): the OS hands large allocations out as
     * zero pages on demand, so resident memory follows use, not capacity.
     * Slots past highwater are never read. */
    info->pcbs = mem_get(info->mem, (size_t)capacity * sizeof(struct inpcb), MEM_ALIGN_LINE, false);
    if (!info->pcbs)
        return -ENOMEM;
    info->capacity = capacity;
    info->free_head = PCB_NIL;
    return 0;
}

int pcbinfo_init(struct pcbinfo *info, const struct pcb_params *p, struct rand_state *rnd)
{
    memset(info, 0, sizeof(*info));
    info->mem = p->mem ? p->mem : &mem_libc;
    if (p->max_pcbs == 0 || p->max_pcbs > PCB_IDX_MASK)
        return -EINVAL;
    uint32_t max_exact = p->max_exact ? p->max_exact : p->max_pcbs;
    if (max_exact < p->max_pcbs)
        return -EINVAL;
    info->rnd = rnd;
    info->stray_removes = p->stray_removes;
    info->is_local = p->is_local;
    info->is_local_ctx = p->is_local_ctx;
    info->owns = p->owns;
    info->owns_ctx = p->owns_ctx;
    rand_bytes(rnd, info->hash_key, sizeof(info->hash_key));
    int err = pcb_table_init(info, max_exact);
    if (!err)
        err = pcbinfo_alloc_pool(info, p->max_pcbs);
    if (!err)
        err = pcbinfo_alloc_ports(info, p->max_pcbs);
    if (!err)
        err = pcb_port_init(info, p->port_first, p->port_last, p->port_counters);
    if (!err)
        err = pcb_shared_init(info, p->shared);
    if (err)
        pcbinfo_destroy(info);
    return err;
}

void pcbinfo_destroy(struct pcbinfo *info)
{
    pcb_shared_destroy(info);
    pcb_table_destroy(info);
    pcb_port_destroy(info);
    const struct mem *mem = info->mem;
    if (!mem) /* never initialised */
        return;
    for (uint32_t g = 0; g < info->nlbgroups; g++)
        pcb_lbgroup_members_free(info, &info->lbgroups[g]);
    mem_put(mem, info->lbgroups, info->lbgroups_cap * sizeof(*info->lbgroups));
    mem_put(mem, info->pcbs, (size_t)info->capacity * sizeof(struct inpcb));
    size_t heads = info->wild_head || info->conn_head ? (size_t)info->port_mask + 1 : 0;
    mem_put(mem, info->wild_head, heads * sizeof(uint32_t));
    mem_put(mem, info->conn_head, heads * sizeof(uint32_t));
    memset(info, 0, sizeof(*info));
}

int pcb_set_flow_hash(struct pcbinfo *info, pcb_flow_hash_fn fn, void *ctx)
{
    if (info->exact_count != 0)
        return -EBUSY;
    info->flow_hash = fn;
    info->flow_hash_ctx = ctx;
    return 0;
}

int pcb_register_kind(struct pcbinfo *info, unsigned kind, const struct pcb_kind_ops *ops)
{
    if (kind == PCB_KIND_INPCB || kind == 0 || kind >= PCB_KIND_MAX)
        return -EINVAL;
    info->kinds[kind] = *ops;
    return 0;
}

int pcb_alloc(struct pcbinfo *info, bool v6, void *ppcb, struct inpcb **out)
{
    uint32_t idx;
    if (info->free_head != PCB_NIL) {
        idx = info->free_head;
        info->free_head = info->pcbs[idx].port_next;
    } else if (info->highwater < info->capacity) {
        idx = info->highwater++;
    } else {
        return -ENOBUFS;
    }
    struct inpcb *inp = &info->pcbs[idx];
    memset(inp, 0, sizeof(*inp));
    /* Unbound: both ends are the family's wildcard. */
    if (!v6)
        inp->laddr = inp->faddr = pcb_any4();
    inp->flags = INP_ALLOCATED | (v6 ? INP_IPV6PROTO : 0);
    inp->refcount = 1;
    inp->port_next = inp->port_prev = PCB_NIL;
    inp->ppcb = ppcb;
    info->count++;
    *out = inp;
    return 0;
}

static void pcb_recycle(struct pcbinfo *info, struct inpcb *inp)
{
    /* An owner that dropped its last reference without pcb_free must not
     * leave a dangling index in the tables. */
    pcb_remove(info, inp);
    inp->flags = 0;
    inp->ppcb = NULL;
    inp->port_next = info->free_head;
    info->free_head = pcb_index(info, inp);
    info->count--;
}

bool pcb_rele(struct pcbinfo *info, struct inpcb *inp)
{
    /* Internal: only the engine takes and drops references, in pairs; no
     * packet or embedder call reaches a count. */
    assert(inp->refcount > 0);
    if (--inp->refcount == 0) {
        pcb_recycle(info, inp);
        return true;
    }
    return (inp->flags & INP_FREED) != 0;
}

void pcb_free(struct pcbinfo *info, struct inpcb *inp)
{
    /* Internal: only the owner frees, once (demux_detach then forgets it). */
    assert((inp->flags & INP_FREED) == 0);
    pcb_remove(info, inp);
    inp->flags |= INP_FREED;
    pcb_rele(info, inp);
}

void pcb_chain_add(struct pcbinfo *info, uint32_t *heads, struct inpcb *inp)
{
    uint32_t idx = pcb_index(info, inp);
    uint32_t head = pcb_port_head(info, heads, inp->lport);
    inp->port_prev = PCB_NIL;
    inp->port_next = head;
    if (head != PCB_NIL)
        info->pcbs[head].port_prev = idx;
    heads[inp->lport & info->port_mask] = idx;
}

void pcb_chain_del(struct pcbinfo *info, uint32_t *heads, struct inpcb *inp)
{
    if (inp->port_prev != PCB_NIL)
        info->pcbs[inp->port_prev].port_next = inp->port_next;
    else
        heads[inp->lport & info->port_mask] = inp->port_next;
    if (inp->port_next != PCB_NIL)
        info->pcbs[inp->port_next].port_prev = inp->port_prev;
    inp->port_next = inp->port_prev = PCB_NIL;
}

void pcb_remove(struct pcbinfo *info, struct inpcb *inp)
{
    pcb_shared_release(info, inp);
    pcb_unlist(info, inp);
}

void pcb_unlist(struct pcbinfo *info, struct inpcb *inp)
{
    if ((inp->flags & INP_INHASHLIST) == 0)
        return;
    if (inp->flags & INP_CONNECTED) {
        /* -ENOENT would mean it was never indexed, which no insert path
         * allows (they fail before setting INP_CONNECTED); nothing to undo. */
        (void)pcb_ref_remove(info, &inp->tuple, PCB_REF(PCB_KIND_INPCB, pcb_index(info, inp)));
        pcb_chain_del(info, info->conn_head, inp);
    } else {
        pcb_lbgroup_leave(info, inp);
        pcb_chain_del(info, info->wild_head, inp);
    }
    inp->flags &= ~INP_INHASHLIST;
}

int pcb_setopt(struct inpcb *inp, uint32_t opt, bool on)
{
    if (opt & ~INP_SETTABLE)
        return -EINVAL;
    if (opt & INP_V6ONLY) {
        if ((inp->flags & INP_IPV6PROTO) == 0)
            return -EINVAL;
        /* Which traffic a bound socket takes is settled at bind. */
        if (inp->lport != 0 || !pcb_is_any6(&inp->laddr))
            return -EINVAL;
    }
    if (on)
        inp->flags |= opt;
    else
        inp->flags &= ~opt;
    return 0;
}

int pcb_foreach(const struct pcbinfo *info, pcb_foreach_fn cb, void *ctx)
{
    for (uint32_t i = 0; i < info->highwater; i++) {
        const struct inpcb *inp = &info->pcbs[i];
        if ((inp->flags & (INP_ALLOCATED | INP_FREED)) != INP_ALLOCATED)
            continue;
        int r = cb(ctx, inp);
        if (r)
            return r;
    }
    return 0;
}
