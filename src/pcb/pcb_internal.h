/*
 * Helpers shared by the PCB layer's files and nobody else: port chains,
 * load-balance groups, address classification and ephemeral selection.
 */
#ifndef TCPCORE_PCB_PCB_INTERNAL_H
#define TCPCORE_PCB_PCB_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "pcb/pcb.h"

/* The IPv4 wildcard in its mapped form. */
static inline struct tcpc_addr pcb_any4(void)
{
    return tcpc_addr_v4(0);
}

/* :: exactly (the IPv6 wildcard; not the mapped IPv4 one). */
static inline bool pcb_is_any6(const struct tcpc_addr *a)
{
    static const uint8_t zero[16];
    return memcmp(a->bytes, zero, 16) == 0;
}

/* 224.0.0.0/4 or ff00::/8. */
static inline bool pcb_is_multicast(const struct tcpc_addr *a)
{
    if (tcpc_addr_is_v4(a))
        return (a->bytes[12] & 0xf0) == 0xe0;
    return a->bytes[0] == 0xff;
}

/* Dual-stack wildcard: a v6 socket (flags) on :: (laddr) without V6ONLY,
 * which also takes IPv4 (FreeBSD's INP_IPV4|INP_IPV6 on a PF_INET6 socket).
 * A bind asks this of the address it is binding, never of the socket's own
 * laddr: that is still :: until the bind completes. */
static inline bool pcb_dual_at(uint32_t flags, const struct tcpc_addr *laddr)
{
    return (flags & (INP_IPV6PROTO | INP_V6ONLY)) == INP_IPV6PROTO && pcb_is_any6(laddr);
}

/* Is bound PCB inp a dual-stack wildcard? */
static inline bool pcb_is_dual(const struct inpcb *inp)
{
    return pcb_dual_at(inp->flags, &inp->laddr);
}

/*
 * Port chains: head arrays indexed by local port & port_mask. A chain may
 * hold PCBs of several ports when the stack has fewer heads than ports, so
 * every walk compares lport (pcb_port_head gives the chain's first index).
 */
static inline uint32_t pcb_port_head(const struct pcbinfo *info, const uint32_t *heads,
                                     uint16_t lport)
{
    return heads[lport & info->port_mask];
}
void pcb_chain_add(struct pcbinfo *info, uint32_t *heads, struct inpcb *inp);
void pcb_chain_del(struct pcbinfo *info, uint32_t *heads, struct inpcb *inp);

/* Load-balance groups (pcb_bind.c). */
void pcb_lbgroup_leave(struct pcbinfo *info, struct inpcb *inp);
/* Gives back a group's member array (its capacity's worth). */
void pcb_lbgroup_members_free(struct pcbinfo *info, struct pcb_lbgroup *grp);

/*
 * Picks an ephemeral port (pcb_port.c), RFC 6056 algorithm 4 keyed on
 * (laddr, faddr, fport); faddr NULL for a bind without destination.
 * usable(ctx, port) says whether a candidate is free. Returns the port or
 * -EADDRNOTAVAIL after trying every port of the range once.
 */
int pcb_port_select(struct pcbinfo *info, const struct tcpc_addr *laddr,
                    const struct tcpc_addr *faddr, uint16_t fport,
                    bool (*usable)(void *ctx, uint16_t port), void *ctx);

/* Would a socket with options flags binding a:lport conflict with a PCB of
 * info (pcb_bind.c)? strict: any PCB found counts (ephemeral choice). */
bool pcb_conflict(const struct pcbinfo *info, uint32_t flags, const struct tcpc_addr *a,
                  uint16_t lport, bool strict);

/* Takes inp out of the tables without touching its shared record (pcb.c). */
void pcb_unlist(struct pcbinfo *info, struct inpcb *inp);

/*
 * The shared reservations (pcb_shared.c, struct pcb_shared). active: info
 * has a shared table and a socket with these flags has records there (a
 * mirrored listener, INP_SHAREDCOPY, has none). The lock is taken only when
 * active; add_* and tuple_free run under it; release takes it itself.
 */
int pcb_shared_init(struct pcbinfo *info, const struct pcb_shared *shared);
void pcb_shared_destroy(struct pcbinfo *info);
bool pcb_shared_active(const struct pcbinfo *info, uint32_t flags);
void pcb_shared_lock(const struct pcbinfo *info, uint32_t flags);
void pcb_shared_unlock(const struct pcbinfo *info, uint32_t flags);
/* A record of inp bound at a:lport: 0 or -ENOBUFS (the table is full). */
int pcb_shared_add_bound(struct pcbinfo *info, const struct inpcb *inp, const struct tcpc_addr *a,
                         uint16_t lport);
/* A record of inp connected on t, replacing its bind's: 0, -EADDRINUSE or
 * -ENOBUFS (then inp's records are as they were). */
int pcb_shared_add_connected(struct pcbinfo *info, const struct inpcb *inp,
                             const struct pcb_tuple *t);
/* Drops inp's record, if it has one (taking the lock). */
void pcb_shared_release(struct pcbinfo *info, const struct inpcb *inp);
/* Is t free of the other instances' connections and, with wild, of their
 * unconnected sockets on its local address and port? */
bool pcb_shared_tuple_free(const struct pcbinfo *info, uint32_t flags, const struct pcb_tuple *t,
                           bool wild);

/* Port-selection state setup (pcb_port.c). */
int pcb_port_init(struct pcbinfo *info, uint16_t first, uint16_t last, uint32_t counters);
void pcb_port_destroy(struct pcbinfo *info);

#endif
