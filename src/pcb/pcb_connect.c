/*
 * connect: the 4-tuple of an active open, with the implicit bind of an
 * unbound socket, and the insertion of accepted connections.
 *
 * What must be unique is the 4-tuple, not the local port (FreeBSD's
 * in_pcbconnect_setup with in_pcb_lport_dest): a candidate port is usable
 * for a destination when no entry of the exact table holds the 4-tuple and
 * no unconnected socket (listener or plain bind) claims the port on our
 * address. So one ephemeral port carries a connection to every distinct
 * peer, and 55k ports carry far more than 55k connections. A TIME_WAIT
 * record on the wanted 4-tuple is offered to its module's takeover hook
 * (RFC 6191); if it declines, the 4-tuple is taken.
 */
#include <errno.h>

#include "pcb/pcb.h"
#include "pcb/pcb_hash.h"
#include "pcb/pcb_internal.h"
#include "pcb/pcb_table.h"

/* Is 4-tuple t free in the exact table, after offering a TIME_WAIT (or
 * other kind's) holder the chance to give it up? */
static bool pcb_tuple_free(struct pcbinfo *info, const struct pcb_tuple *t)
{
    uint32_t ref = pcb_table_find(info, t, pcb_hash_inline(info, t));
    if (ref == PCB_REF_NONE)
        return true;
    const struct pcb_kind_ops *ops = &info->kinds[PCB_REF_KIND(ref)];
    if (PCB_REF_KIND(ref) == PCB_KIND_INPCB || !ops->takeover)
        return false;
    return ops->takeover(ops->ctx, PCB_REF_IDX(ref));
}

struct pcb_connect_probe {
    struct pcbinfo *info;
    struct pcb_tuple t;
    uint32_t flags;
};

static bool pcb_connect_usable(void *ctx, uint16_t port)
{
    struct pcb_connect_probe *p = ctx;
    p->t.lport = port;
    /* A port whose replies would land on another stack of the host is no
     * port for this one (RSS or fanout steering, pcb_params.owns). */
    if (p->info->owns && !p->info->owns(p->info->owns_ctx, &p->t))
        return false;
    /* Side-effect-free check first: a takeover must only happen on the
     * port that is then used. */
    if (pcb_lookup_wild(p->info, &p->t, 0) != NULL)
        return false;
    /* Another instance of the group holding it, likewise. */
    if (!pcb_shared_tuple_free(p->info, p->flags, &p->t, true))
        return false;
    return pcb_tuple_free(p->info, &p->t);
}

/* Family rules of connect; 0 or -EINVAL / -EADDRNOTAVAIL. */
static int pcb_connect_check(const struct inpcb *inp, const struct tcpc_addr *faddr, uint16_t fport,
                             const struct tcpc_addr *laddr)
{
    bool v4 = tcpc_addr_is_v4(faddr);
    if ((inp->flags & INP_IPV6PROTO) == 0 && !v4)
        return -EINVAL;
    if ((inp->flags & INP_V6ONLY) && v4)
        return -EINVAL;
    if (laddr && !tcpc_addr_is_any(laddr) && tcpc_addr_is_v4(laddr) != v4)
        return -EINVAL;
    if (fport == 0 || tcpc_addr_is_any(faddr))
        return -EADDRNOTAVAIL;
    if (laddr == NULL || tcpc_addr_is_any(laddr))
        return -EADDRNOTAVAIL;
    return 0;
}

/*
 * Indexes inp under 4-tuple t in the exact table (0, -EADDRINUSE or
 * -ENOBUFS; then nothing has changed) and, on success, makes t its
 * addressing and lists it as a connection. share: an active open, whose
 * 4-tuple is also recorded in the shared table (if any) in place of its
 * bind's record. A bound inp leaves its unconnected chain first; its
 * 4-tuple is only written once the entries are in, so a failure leaves the
 * socket exactly as it was.
 */
static int pcb_index_connected(struct pcbinfo *info, struct inpcb *inp, const struct pcb_tuple *t,
                               bool share)
{
    uint32_t ref = PCB_REF(PCB_KIND_INPCB, pcb_index(info, inp));
    int err = pcb_ref_insert(info, t, ref);
    if (err)
        return err;
    if (share && (err = pcb_shared_add_connected(info, inp, t)) != 0) {
        (void)pcb_ref_remove(info, t, ref); /* just inserted: found */
        return err;
    }
    pcb_unlist(info, inp); /* bound: leaves the wildcard chain */
    inp->tuple = *t;
    pcb_chain_add(info, info->conn_head, inp);
    inp->flags |= INP_INHASHLIST | INP_CONNECTED;
    return 0;
}

static int pcb_connect_locked(struct pcbinfo *info, struct inpcb *inp,
                              const struct tcpc_addr *faddr, uint16_t fport,
                              const struct tcpc_addr *src)
{
    struct pcb_connect_probe p = {
        info, {.faddr = *faddr, .laddr = *src, .fport = fport}, inp->flags};
    if (inp->lport) {
        p.t.lport = inp->lport;
        if (!pcb_shared_tuple_free(info, inp->flags, &p.t, false) || !pcb_tuple_free(info, &p.t))
            return -EADDRINUSE;
    } else {
        int port = pcb_port_select(info, src, faddr, fport, pcb_connect_usable, &p);
        if (port < 0)
            return port;
        p.t.lport = (uint16_t)port;
    }
    return pcb_index_connected(info, inp, &p.t, true);
}

int pcb_connect(struct pcbinfo *info, struct inpcb *inp, const struct tcpc_addr *faddr,
                uint16_t fport, const struct tcpc_addr *laddr)
{
    if (inp->flags & INP_CONNECTED)
        return -EISCONN;
    if ((inp->flags & INP_LISTEN) || (inp->lport && !(inp->flags & INP_INHASHLIST)))
        return -EINVAL;
    const struct tcpc_addr *src = tcpc_addr_is_any(&inp->laddr) ? laddr : &inp->laddr;
    int err = pcb_connect_check(inp, faddr, fport, src);
    if (err)
        return err;
    /* In a group the choice and the record are one step under the shared
     * lock, so two instances cannot take one 4-tuple. */
    uint32_t flags = inp->flags; /* as locked: the connect changes inp's */
    pcb_shared_lock(info, flags);
    err = pcb_connect_locked(info, inp, faddr, fport, src);
    pcb_shared_unlock(info, flags);
    return err;
}

int pcb_insert_connected(struct pcbinfo *info, struct inpcb *inp, const struct pcb_tuple *t)
{
    if (inp->lport != 0 || (inp->flags & (INP_CONNECTED | INP_INHASHLIST)))
        return -EISCONN;
    return pcb_index_connected(info, inp, t, false);
}
