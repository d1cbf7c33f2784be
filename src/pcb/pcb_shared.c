/*
 * The reservation table several instances share (struct pcb_shared,
 * docs/groups.md "Ports"): each instance's bound sockets and
 * active opens have a record there, so that a bind or an ephemeral port
 * that one instance alone would refuse is refused when another instance
 * holds the conflicting socket.
 *
 * The table is a pcbinfo of its own whose records stand for other
 * instances' PCBs; pcb_bind.c and pcb_connect.c ask it the questions they
 * ask their own table, under the table's lock. Nothing here runs on a
 * lookup: only at bind, connect and the removal of a PCB with a record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcb/pcb.h"
#include "pcb/pcb_hash.h"
#include "pcb/pcb_internal.h"
#include "pcb/pcb_table.h"

int pcb_shared_init(struct pcbinfo *info, const struct pcb_shared *shared)
{
    if (!shared || !shared->info)
        return 0;
    info->shared_rec =
        mem_get(info->mem, (size_t)info->capacity * sizeof(uint32_t), MEM_ALIGN_ANY, false);
    if (!info->shared_rec)
        return -ENOMEM;
    memset(info->shared_rec, 0xff, (size_t)info->capacity * sizeof(uint32_t)); /* PCB_NIL */
    info->shared = *shared;
    return 0;
}

void pcb_shared_destroy(struct pcbinfo *info)
{
    if (!info->shared_rec)
        return;
    /* Whatever is still bound gives its record back: the others must not
     * see a port held by an instance that is gone. */
    for (uint32_t i = 0; i < info->highwater; i++)
        pcb_shared_release(info, &info->pcbs[i]);
    mem_put(info->mem, info->shared_rec, (size_t)info->capacity * sizeof(uint32_t));
    info->shared_rec = NULL;
}

bool pcb_shared_active(const struct pcbinfo *info, uint32_t flags)
{
    return info->shared.info != NULL && (flags & INP_SHAREDCOPY) == 0;
}

void pcb_shared_lock(const struct pcbinfo *info, uint32_t flags)
{
    if (pcb_shared_active(info, flags))
        info->shared.lock(info->shared.ctx);
}

void pcb_shared_unlock(const struct pcbinfo *info, uint32_t flags)
{
    if (pcb_shared_active(info, flags))
        info->shared.unlock(info->shared.ctx);
}

/* Drops inp's record, the lock held. */
static void pcb_shared_drop(struct pcbinfo *info, const struct inpcb *inp)
{
    uint32_t *rec = &info->shared_rec[pcb_index(info, inp)];
    if (*rec == PCB_NIL)
        return;
    struct pcbinfo *s = info->shared.info;
    pcb_free(s, &s->pcbs[*rec]);
    *rec = PCB_NIL;
}

/* A record of inp, with its options: bound at a:lport (t NULL) or
 * connected on t. It replaces the record inp had (its bind's). */
static int pcb_shared_add(struct pcbinfo *info, const struct inpcb *inp, const struct tcpc_addr *a,
                          uint16_t lport, const struct pcb_tuple *t)
{
    if (!pcb_shared_active(info, inp->flags))
        return 0;
    struct pcbinfo *s = info->shared.info;
    struct inpcb *r;
    int err = pcb_alloc(s, (inp->flags & INP_IPV6PROTO) != 0, (void *)info->shared.owner, &r);
    if (err)
        return err;
    r->flags |= inp->flags & INP_SETTABLE;
    if (t) {
        err = pcb_insert_connected(s, r, t);
        if (err) {
            pcb_free(s, r);
            return err;
        }
    } else {
        r->laddr = *a;
        r->lport = lport;
        pcb_chain_add(s, s->wild_head, r);
        r->flags |= INP_INHASHLIST;
    }
    pcb_shared_drop(info, inp);
    info->shared_rec[pcb_index(info, inp)] = pcb_index(s, r);
    return 0;
}

int pcb_shared_add_bound(struct pcbinfo *info, const struct inpcb *inp, const struct tcpc_addr *a,
                         uint16_t lport)
{
    return pcb_shared_add(info, inp, a, lport, NULL);
}

int pcb_shared_add_connected(struct pcbinfo *info, const struct inpcb *inp,
                             const struct pcb_tuple *t)
{
    return pcb_shared_add(info, inp, NULL, 0, t);
}

void pcb_shared_release(struct pcbinfo *info, const struct inpcb *inp)
{
    if (!info->shared_rec || info->shared_rec[pcb_index(info, inp)] == PCB_NIL)
        return;
    info->shared.lock(info->shared.ctx);
    pcb_shared_drop(info, inp);
    info->shared.unlock(info->shared.ctx);
}

void pcb_shared_setopt(struct pcbinfo *info, const struct inpcb *inp)
{
    if (!info->shared_rec || info->shared_rec[pcb_index(info, inp)] == PCB_NIL)
        return;
    info->shared.lock(info->shared.ctx);
    struct inpcb *r = &info->shared.info->pcbs[info->shared_rec[pcb_index(info, inp)]];
    r->flags = (r->flags & ~INP_SETTABLE) | (inp->flags & INP_SETTABLE);
    info->shared.unlock(info->shared.ctx);
}

bool pcb_shared_tuple_free(const struct pcbinfo *info, uint32_t flags, const struct pcb_tuple *t,
                           bool wild)
{
    if (!pcb_shared_active(info, flags))
        return true;
    const struct pcbinfo *s = info->shared.info;
    /* An unconnected socket of another instance claiming the port on our
     * address takes it out of an ephemeral choice, as one of our own does. */
    if (wild && pcb_lookup_wild(s, t, 0) != NULL)
        return false;
    return pcb_table_find(s, t, pcb_hash_inline(s, t)) == PCB_REF_NONE;
}
